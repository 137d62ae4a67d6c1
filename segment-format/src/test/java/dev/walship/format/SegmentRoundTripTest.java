package dev.walship.format;

import static dev.walship.format.SegmentAssertions.assertSameSegment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Property: for seeded random valid segments of every page size, kind, level and compression, (1)
 * decode(encode(s)) == s, (2) the spooling SegmentWriter, fed the pages in shuffled order with
 * duplicates, produces exactly the bytes of SegmentCodec.encode (with images in memory, in the
 * spool file, or split between them), and (3) a memory-mapped file reads the same as the byte
 * array.
 */
class SegmentRoundTripTest {
  private static final int SEEDS = 300;

  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(Compression.class)
  void decodeOfEncodeIsIdentity(Compression compression) {
    for (long seed = 0; seed < SEEDS; seed++) {
      Segment s = RandomSegments.generate(seed);
      byte[] bytes = SegmentCodec.encode(s, compression);
      Segment back = SegmentCodec.decode(bytes, "seed-" + seed);
      assertSameSegment(s, back);
      try (SegmentReader r = SegmentReader.open(bytes, "seed-" + seed)) {
        assertEquals(compression, r.compression());
        assertEquals(s.dbSizePages(), r.dbSizePages());
        assertEquals(s.checksumAfter(), r.checksumAfter());
        assertEquals(bytes.length, r.sizeBytes());
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void writerMatchesCodecByteForByte(Compression compression) throws Exception {
    for (long seed = 0; seed < SEEDS; seed += 3) {
      Segment s = RandomSegments.generate(seed);
      byte[] expected = SegmentCodec.encode(s, compression);
      // Half the seeds use a tiny spool buffer, so images are split between spool file and buffer.
      int spoolBuffer = seed % 2 == 0 ? 1 << 18 : 1;
      try (SegmentWriter w =
          SegmentWriter.create(
              s.kind(),
              s.level(),
              s.pageSize(),
              s.firstTxid(),
              s.checksumBefore(),
              compression,
              tmp,
              spoolBuffer,
              SegmentWriter.DELTA_BASE_BYTES,
              false)) {
        RandomSegments.feed(s, w, seed);
        assertEquals(s.commits().size(), w.commitCount());
        assertEquals((long) s.pages().size() * s.pageSize(), w.pageBytes());
        assertArrayEquals(expected, w.finish(), "seed " + seed);
        Path file = tmp.resolve("seg-" + seed);
        assertEquals(expected.length, w.finishTo(file));
        assertArrayEquals(expected, Files.readAllBytes(file), "seed " + seed);
        try (SegmentReader r = SegmentReader.open(file, file.toString())) {
          assertSameSegment(s, r.toSegment());
        }
      }
    }
    try (var files = Files.list(tmp)) {
      assertTrue(
          files.noneMatch(p -> p.getFileName().toString().endsWith(".spool")),
          "spool files are deleted on close");
    }
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void imagesToApplyMatchesABruteForceReference(Compression compression) {
    for (long seed = 0; seed < 80; seed++) {
      Segment s = RandomSegments.generate(seed);
      try (SegmentReader r = SegmentReader.open(SegmentCodec.encode(s, compression), "s")) {
        for (long after = s.firstTxid() - 1; after < s.lastTxid(); after++) {
          for (long upto = after + 1; upto <= s.lastTxid(); upto++) {
            long size = s.commits().get((int) (upto - s.firstTxid())).dbSizePages();
            java.util.TreeMap<Long, Integer> newest = new java.util.TreeMap<>();
            for (int i = 0; i < s.pages().size(); i++) {
              PageVersion p = s.pages().get(i);
              if (p.txid() > after && p.txid() <= upto && p.pageNumber() <= size) {
                newest.put(p.pageNumber(), i); // later indexes win
              }
            }
            int[] expected = newest.values().stream().mapToInt(Integer::intValue).toArray();
            assertArrayEquals(expected, r.imagesToApply(after, upto), after + ".." + upto);
          }
        }
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> r.imagesToApply(s.firstTxid() - 2, s.lastTxid()));
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> r.imagesToApply(s.lastTxid(), s.lastTxid()));
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> r.imagesToApply(s.firstTxid() - 1, s.lastTxid() + 1));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void findReturnsNewestVersionUpToTxid(Compression compression) {
    for (long seed = 0; seed < 60; seed++) {
      Segment s = RandomSegments.generate(seed);
      try (SegmentReader r = SegmentReader.open(SegmentCodec.encode(s, compression), "s")) {
        for (long page = 0; page <= s.dbSizePages() + 1; page++) {
          for (long upto = s.firstTxid() - 1; upto <= s.lastTxid(); upto++) {
            int expected = -1;
            for (int i = 0; i < s.pages().size(); i++) {
              PageVersion p = s.pages().get(i);
              if (p.pageNumber() == page && p.txid() <= upto) {
                expected = i;
              }
            }
            assertEquals(expected, r.find(page, upto), "page " + page + " upto " + upto);
          }
        }
      }
    }
  }
}
