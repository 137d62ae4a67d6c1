package dev.walship.format;

import static dev.walship.format.SegmentAssertions.assertSameSegment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delta entries (format v2, SPEC.md 2.4-2.5) end to end: SegmentWriter fed long random captures
 * (many TXIDs, pages edited, rewritten within a transaction, dropped beyond the database size, the
 * base memory bound exceeded) produces segments that decode to exactly the captured images, the
 * same bytes as the codec while the bound is not reached, and v1 whenever no delta is stored.
 */
class SegmentDeltaTest {
  @TempDir Path tmp;

  /**
   * A random capture: {@code commits} transactions on a database of up to {@code maxPages} pages,
   * most writes small edits of a hot set of pages (appends), some whole random rewrites, some
   * pages written twice, some images beyond a shrinking commit's size.
   */
  static GoldenVectors.Capture capture(long seed, int pageSize, int commits, int maxPages) {
    SplittableRandom r = new SplittableRandom(seed);
    List<GoldenVectors.CapturedCommit> out = new ArrayList<>();
    java.util.Map<Long, byte[]> latest = new java.util.HashMap<>();
    long size = 1 + r.nextInt(maxPages);
    long first = 1 + r.nextLong(1L << 30);
    for (int c = 0; c < commits; c++) {
      long txid = first + c;
      if (r.nextInt(10) == 0) {
        size = Math.max(1, Math.min(maxPages, size + r.nextInt(-3, 4)));
      }
      List<PageVersion> writes = new ArrayList<>();
      int n = 1 + r.nextInt(r.nextInt(8) == 0 ? 20 : 3);
      for (int k = 0; k < n; k++) {
        // Hot pages (low numbers) most of the time, so chains grow long.
        long page = r.nextInt(3) != 0 ? 1 + r.nextInt((int) Math.min(size, 4)) : 1 + r.nextLong(size);
        if (r.nextInt(12) == 0) {
          page = size + 1 + r.nextInt(2); // beyond this commit's size: dropped
        }
        byte[] before = latest.get(page);
        byte[] data =
            before != null && r.nextInt(5) != 0
                ? RandomSegments.edit(r, before)
                : RandomSegments.page(r, pageSize);
        latest.put(page, data);
        writes.add(new PageVersion(page, txid, data));
      }
      out.add(
          new GoldenVectors.CapturedCommit(
              new CommitRecord(txid, 1_700_000_000_000L + c, size, r.nextLong()), writes));
    }
    return new GoldenVectors.Capture(pageSize, first, r.nextLong(), out);
  }

  private SegmentWriter writer(GoldenVectors.Capture c, long baseBytes, int spoolBuffer) {
    return GoldenVectors.writer(c, tmp, spoolBuffer, baseBytes, false);
  }

  private static void feed(GoldenVectors.Capture c, SegmentWriter w) {
    GoldenVectors.feed(c, w);
  }

  private static int deltas(SegmentReader r) {
    int n = 0;
    for (int i = 0; i < r.pageCount(); i++) {
      n += r.isDelta(i) ? 1 : 0;
    }
    return n;
  }

  @Test
  void longCapturesRoundTripWithChainsAndMatchTheCodec() {
    int[] sizes = RandomSegments.PAGE_SIZES;
    int totalDeltas = 0;
    for (long seed = 0; seed < 24; seed++) {
      int pageSize = sizes[(int) (seed % sizes.length)];
      int commits = pageSize >= 16384 ? 40 : 150;
      GoldenVectors.Capture c = capture(seed, pageSize, commits, 30);
      Segment expected = GoldenVectors.segmentOf(c);
      byte[] bytes;
      try (SegmentWriter w = writer(c, SegmentWriter.DELTA_BASE_BYTES, seed % 2 == 0 ? 1 : 1 << 20)) {
        feed(c, w);
        bytes = w.finish();
      }
      assertArrayEquals(SegmentCodec.encode(expected, Compression.LZ4), bytes, "seed " + seed);
      assertSameSegment(expected, SegmentCodec.decode(bytes, "seed " + seed));
      try (SegmentReader r = SegmentReader.open(bytes, "seed " + seed)) {
        int d = deltas(r);
        assertEquals(d > 0 ? 2 : 1, r.formatVersion());
        totalDeltas += d;
        // Random access (no help from the per-thread cache) reads the same as sequential.
        SplittableRandom order = new SplittableRandom(seed);
        for (int k = 0; k < 50 && r.pageCount() > 0; k++) {
          int i = order.nextInt(r.pageCount());
          assertArrayEquals(expected.pages().get(i).data(), r.readPage(i), "entry " + i);
        }
      }
    }
    assertTrue(totalDeltas > 1000, "the captures make long chains: " + totalDeltas + " deltas");
  }

  @Test
  void exceedingTheBaseMemoryBoundStoresImagesWholeButStaysCorrect() {
    for (long seed = 0; seed < 12; seed++) {
      int pageSize = 512 << (seed % 4);
      GoldenVectors.Capture c = capture(100 + seed, pageSize, 200, 40);
      Segment expected = GoldenVectors.segmentOf(c);
      int unbounded;
      try (SegmentReader r = SegmentReader.open(SegmentCodec.encode(expected, Compression.LZ4), "u")) {
        unbounded = deltas(r);
      }
      for (int images : new int[] {2, 3, 5}) {
        try (SegmentWriter w = writer(c, (long) images * pageSize, 1 << 20)) {
          feed(c, w);
          assertTrue(w.deltaImagesAllocated() <= images, "bound kept: " + w.deltaImagesAllocated());
          byte[] bytes = w.finish();
          assertSameSegment(expected, SegmentCodec.decode(bytes, "bounded"));
          try (SegmentReader r = SegmentReader.open(bytes, "bounded")) {
            assertTrue(deltas(r) <= unbounded, deltas(r) + " <= " + unbounded);
            assertTrue(deltas(r) > 0, "hot pages keep their bases (least recently used evicted)");
          }
        }
      }
      try (SegmentWriter w = writer(c, pageSize, 1 << 20)) { // room for one image: no deltas
        feed(c, w);
        try (SegmentReader r = SegmentReader.open(w.finish(), "one")) {
          assertEquals(1, r.formatVersion());
        }
      }
    }
  }

  @Test
  void aRowAppendedToALeafCostsAboutTheRow() {
    int ps = 4096;
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.INCREMENTAL, 0, ps, 1, 0, Compression.LZ4, tmp)) {
      for (int t = 1; t <= 20; t++) {
        w.addPage(2, t, GoldenVectors.leaf(ps, 10 + t, 100, 3), 0);
        w.addCommit(new CommitRecord(t, 0, 2, t));
      }
      try (SegmentReader r = SegmentReader.open(w.finish(), "append")) {
        assertEquals(2, r.formatVersion());
        assertFalse(r.isDelta(0));
        for (int i = 1; i < 20; i++) {
          assertTrue(r.isDelta(i));
          assertTrue(r.storedLength(i) < 160, "entry " + i + ": " + r.storedLength(i) + " bytes");
        }
      }
    }
  }

  @Test
  void theChoiceBetweenDeltaAndWholeFollowsTheSpecRule() {
    int ps = 4096;
    byte[] content = new byte[ps];
    new java.util.Random(5).nextBytes(content);
    java.util.Arrays.fill(content, 200, ps, (byte) 0); // 200 random bytes, then zeros
    byte[] zero = new byte[ps];
    byte[] more = content.clone();
    java.util.Arrays.fill(more, 200, 600, (byte) 1); // whole: tiny; delta: 400 ones (compresses)
    byte[] random = new byte[ps];
    new java.util.Random(6).nextBytes(random);
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.INCREMENTAL, 0, ps, 1, 0, Compression.LZ4, tmp)) {
      w.addPage(1, 1, content, 0);
      w.addPage(2, 1, content, 0);
      w.addPage(3, 1, random, 0);
      w.addCommit(new CommitRecord(1, 0, 3, 0));
      w.addPage(1, 2, zero, 0); // delta = the 200 random bytes: <= 4096 / 16, so a delta
      w.addPage(3, 2, content, 0); // delta ~ random: whole (~220 bytes) wins
      w.addCommit(new CommitRecord(2, 0, 3, 0));
      w.addPage(2, 3, more, 0); // delta: a run of ones; whole: 200 random bytes and runs
      w.addCommit(new CommitRecord(3, 0, 3, 0));
      byte[] bytes = w.finish();
      try (SegmentReader r = SegmentReader.open(bytes, "rule")) {
        // (1,1) (1,2) (2,1) (2,3) (3,1) (3,2)
        assertTrue(r.isDelta(1), "small delta stored although the whole page is shorter");
        assertTrue(r.storedLength(1) <= ps / 16 && r.storedLength(1) > 100);
        assertFalse(r.isDelta(5), "a large delta loses to a shorter whole image");
        assertTrue(r.isDelta(3) && r.storedLength(3) < 100, "a compressible delta wins");
      }
      assertSameSegment(
          new Segment(
              SegmentKind.INCREMENTAL,
              0,
              ps,
              1,
              3,
              0,
              List.of(
                  new CommitRecord(1, 0, 3, 0),
                  new CommitRecord(2, 0, 3, 0),
                  new CommitRecord(3, 0, 3, 0)),
              List.of(
                  new PageVersion(1, 1, content),
                  new PageVersion(1, 2, zero),
                  new PageVersion(2, 1, content),
                  new PageVersion(2, 3, more),
                  new PageVersion(3, 1, random),
                  new PageVersion(3, 2, content))),
          SegmentCodec.decode(bytes, "rule"));
    }
  }

  @Test
  void snapshotsAndUncompressedSegmentsNeverHoldDeltas() {
    GoldenVectors.Capture c = capture(7, 1024, 100, 10);
    Segment s = GoldenVectors.segmentOf(c);
    try (SegmentReader r = SegmentReader.open(SegmentCodec.encode(s, Compression.NONE), "none")) {
      assertEquals(1, r.formatVersion());
    }
    try (SegmentWriter w =
        SegmentWriter.create(
            SegmentKind.INCREMENTAL, 0, 1024, c.firstTxid(), 0, Compression.NONE, tmp)) {
      feed(c, w);
      try (SegmentReader r = SegmentReader.open(w.finish(), "none")) {
        assertEquals(1, r.formatVersion());
      }
    }
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.SNAPSHOT, 0, 512, 9, 0, Compression.LZ4, tmp)) {
      byte[] a = GoldenVectors.leaf(512, 3, 40, 1);
      w.addPage(1, 9, a, 0);
      w.addPage(2, 9, a, 0);
      w.addPage(1, 9, a, 0);
      w.addCommit(new CommitRecord(9, 0, 2, 0));
      try (SegmentReader r = SegmentReader.open(w.finish(), "snap")) {
        assertEquals(1, r.formatVersion());
      }
    }
  }

  @Test
  void concurrentReadersOfOneSegmentReadTheSameImages() throws Exception {
    Segment[] expected = {
      GoldenVectors.segmentOf(capture(3, 4096, 300, 8)),
      GoldenVectors.segmentOf(capture(4, 4096, 300, 8))
    };
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (SegmentReader a = SegmentReader.open(SegmentCodec.encode(expected[0], Compression.LZ4), "a");
        SegmentReader b = SegmentReader.open(SegmentCodec.encode(expected[1], Compression.LZ4), "b")) {
      SegmentReader[] readers = {a, b};
      assertTrue(deltas(a) > 100 && deltas(b) > 100);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = t;
        done.add(
            pool.submit(
                () -> {
                  SplittableRandom order = new SplittableRandom(seed);
                  byte[] page = new byte[4096];
                  for (int k = 0; k < 3000; k++) {
                    // Both readers on one thread, interleaved: the per-thread cache must not mix
                    // them; both are read by every thread at once.
                    int which = order.nextInt(2);
                    SegmentReader r = readers[which];
                    int i = order.nextInt(r.pageCount());
                    for (int j = i; j < Math.min(i + 3, r.pageCount()); j++) {
                      r.readPage(j, page, 0);
                      assertArrayEquals(expected[which].pages().get(j).data(), page, "entry " + j);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
