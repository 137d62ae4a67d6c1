package dev.walship.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentWriterTest {
  @TempDir Path tmp;

  private SegmentWriter incremental(long firstTxid) {
    return SegmentWriter.create(
        SegmentKind.INCREMENTAL, 0, 512, firstTxid, 0x77, Compression.LZ4, tmp);
  }

  private static byte[] page(int seed) {
    byte[] b = new byte[512];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void createValidatesArguments() {
    for (int bad : new int[] {0, 256, 511, 1000, 131072}) {
      assertThrows(
          IllegalArgumentException.class,
          () -> SegmentWriter.create(SegmentKind.INCREMENTAL, 0, bad, 1, 0, Compression.NONE, tmp),
          "page size " + bad);
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> SegmentWriter.create(SegmentKind.INCREMENTAL, 0, 4096, 0, 0, Compression.NONE, tmp));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SegmentWriter.create(SegmentKind.INCREMENTAL, 256, 4096, 1, 0, Compression.NONE, tmp));
    assertThrows(
        IllegalArgumentException.class,
        () -> SegmentWriter.create(SegmentKind.SNAPSHOT, 0, 4096, 1, 5, Compression.NONE, tmp));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SegmentWriter.create(
                SegmentKind.INCREMENTAL, 0, 4096, 1, 0, Compression.NONE, tmp.resolve("missing")));
  }

  @Test
  void addPageValidatesInput() {
    try (SegmentWriter w = incremental(10)) {
      assertThrows(IllegalArgumentException.class, () -> w.addPage(1, 10, new byte[511], 0));
      assertThrows(IllegalArgumentException.class, () -> w.addPage(1, 10, new byte[512], 1));
      assertThrows(IllegalArgumentException.class, () -> w.addPage(1, 10, new byte[600], -1));
      assertThrows(IllegalArgumentException.class, () -> w.addPage(0, 10, new byte[512], 0));
      assertThrows(IllegalArgumentException.class, () -> w.addPage(1L << 32, 10, new byte[512], 0));
      assertThrows(IllegalArgumentException.class, () -> w.addPage(1, 11, new byte[512], 0));
      assertThrows(IllegalArgumentException.class, () -> w.addPage(1, 9, new byte[512], 0));
      w.addPage(1, 10, new byte[600], 88); // a frame inside a larger buffer is fine
      assertThrows(
          IllegalArgumentException.class, () -> w.addCommit(new CommitRecord(11, 0, 1, 0)));
      assertThrows(
          IllegalArgumentException.class, () -> w.addCommit(new CommitRecord(10, -1, 1, 0)));
      assertThrows(
          IllegalArgumentException.class, () -> w.addCommit(new CommitRecord(10, 0, 1L << 32, 0)));
      w.addCommit(new CommitRecord(10, 0, 1, 0));
      assertEquals(1, w.commitCount());
    }
  }

  @Test
  void finishRequiresACompleteCommit() {
    try (SegmentWriter w = incremental(1)) {
      assertThrows(IllegalStateException.class, w::finish);
      w.addCommit(new CommitRecord(1, 0, 1, 0));
      w.addPage(1, 2, page(1), 0);
      IllegalStateException e = assertThrows(IllegalStateException.class, w::finish);
      assertTrue(e.getMessage().contains("TXID 2"), e.getMessage());
    }
  }

  @Test
  void lastImageOfAPageInACommitWinsAndLaterCommitsKeepTheirOwn() {
    try (SegmentWriter w = incremental(5)) {
      w.addPage(3, 5, page(1), 0);
      w.addPage(1, 5, page(2), 0);
      w.addPage(3, 5, page(3), 0); // same page, same TXID: replaces
      w.addCommit(new CommitRecord(5, 100, 3, 0xA));
      w.addPage(3, 6, page(4), 0);
      w.addCommit(new CommitRecord(6, 101, 3, 0xB));
      assertEquals(3 * 512, w.pageBytes());
      Segment s = SegmentCodec.decode(w.finish(), "w");
      assertEquals(3, s.pages().size());
      assertEquals(List.of(1L, 3L, 3L), s.pages().stream().map(PageVersion::pageNumber).toList());
      assertEquals(List.of(5L, 5L, 6L), s.pages().stream().map(PageVersion::txid).toList());
      assertTrue(Arrays.equals(page(2), s.pages().get(0).data()));
      assertTrue(Arrays.equals(page(3), s.pages().get(1).data()));
      assertTrue(Arrays.equals(page(4), s.pages().get(2).data()));
      assertEquals(0x77, s.checksumBefore());
      assertEquals(0xB, s.checksumAfter());
    }
  }

  @Test
  void imagesBeyondTheCommitsDatabaseSizeAreDropped() {
    try (SegmentWriter w = incremental(1)) {
      w.addPage(5, 1, page(1), 0); // spilled before a truncating commit
      w.addPage(2, 1, page(2), 0);
      w.addCommit(new CommitRecord(1, 0, 3, 0));
      assertEquals(512, w.pageBytes());
      Segment s = SegmentCodec.decode(w.finish(), "w");
      assertEquals(1, s.pages().size());
      assertEquals(2, s.pages().get(0).pageNumber());
    }
  }

  @Test
  void commitsWithoutPagesAreAllowed() {
    try (SegmentWriter w = incremental(1)) {
      w.addCommit(new CommitRecord(1, 0, 3, 1)); // e.g. a shrink-only commit
      w.addCommit(new CommitRecord(2, 0, 0, 0)); // shrunk to nothing
      Segment s = SegmentCodec.decode(w.finish(), "w");
      assertEquals(0, s.pages().size());
      assertEquals(0, s.dbSizePages());
    }
  }

  @Test
  void snapshotMustHoldEveryPageOnce() {
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.SNAPSHOT, 0, 512, 9, 0, Compression.NONE, tmp)) {
      w.addPage(1, 9, page(1), 0);
      w.addPage(3, 9, page(3), 0);
      w.addCommit(new CommitRecord(9, 0, 3, 0));
      assertThrows(IllegalStateException.class, () -> w.addPage(2, 9, page(2), 0));
      assertThrows(IllegalStateException.class, () -> w.addCommit(new CommitRecord(10, 0, 3, 0)));
      IllegalStateException e = assertThrows(IllegalStateException.class, w::finish);
      assertTrue(e.getMessage().contains("page 2 is missing"), e.getMessage());
    }
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.SNAPSHOT, 0, 512, 9, 0, Compression.NONE, tmp)) {
      w.addPage(2, 9, page(2), 0);
      w.addPage(1, 9, page(1), 0);
      w.addCommit(new CommitRecord(9, 0, 2, 0));
      Segment s = SegmentCodec.decode(w.finish(), "snap");
      assertEquals(SegmentKind.SNAPSHOT, s.kind());
      assertEquals(2, s.pages().size());
    }
  }

  private long spoolFiles() throws Exception {
    try (var files = Files.list(tmp)) {
      return files.filter(p -> p.toString().endsWith(".spool")).count();
    }
  }

  @Test
  void smallSegmentsNeverCreateASpoolFile() throws Exception {
    try (SegmentWriter w = incremental(1)) {
      for (int p = 1; p <= 100; p++) { // 100 random pages: 51 KiB
        w.addPage(p, 1, page(p), 0);
      }
      w.addCommit(new CommitRecord(1, 0, 100, 0));
      w.finishTo(tmp.resolve("small.seg"));
      assertEquals(0, spoolFiles());
    }
  }

  @Test
  void nothingCanBeAddedAfterFinishAndCloseDeletesTheSpool() throws Exception {
    SegmentWriter w = incremental(1);
    for (int p = 1; p <= 9000; p++) { // 9,000 random 512-byte pages: 4.4 MiB, more than the buffer
      w.addPage(p, 1, page(p), 0);
    }
    w.addCommit(new CommitRecord(1, 0, 9000, 0));
    Path out = tmp.resolve("out.seg");
    long size = w.finishTo(out);
    assertEquals(Files.size(out), size);
    assertThrows(IllegalStateException.class, () -> w.addPage(1, 2, page(1), 0));
    assertThrows(IllegalStateException.class, () -> w.addCommit(new CommitRecord(2, 0, 1, 0)));
    assertEquals(1, spoolFiles());
    w.close();
    w.close(); // idempotent
    assertEquals(0, spoolFiles());
    assertThrows(IllegalStateException.class, w::finish);
  }

  @Test
  void largeSegmentsSpoolToDiskAndRoundTrip() {
    // 4,000 pages of 4 KiB in reverse WAL-like order, several versions each: 16 MB of page data
    // through the spool, checked against the in-memory codec.
    int pageSize = 4096;
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.INCREMENTAL, 0, pageSize, 1, 0, Compression.LZ4, tmp)) {
      byte[] buf = new byte[pageSize];
      Random r = new Random(1);
      for (int txid = 1; txid <= 4; txid++) {
        for (int p = 1000; p >= 1; p--) {
          r.nextBytes(buf);
          Arrays.fill(buf, 0, p % pageSize, (byte) 0);
          w.addPage(p, txid, buf, 0);
        }
        w.addCommit(new CommitRecord(txid, txid, 1000, txid));
      }
      Path out = tmp.resolve("big.seg");
      w.finishTo(out);
      try (SegmentReader reader = SegmentReader.open(out, "big")) {
        assertEquals(4000, reader.pageCount());
        for (int i = 0; i < 4000; i++) {
          assertEquals(i / 4 + 1, reader.pageNumber(i));
          assertEquals(i % 4 + 1, reader.pageTxid(i));
        }
        reader.verifyPages();
      }
    }
  }
}
