package dev.walship.format;

import static dev.walship.format.SegmentAssertions.assertSameSegment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segment files. Small files are read into memory; large ones (over 16 MiB) are memory-mapped, in
 * overlapping 1 GiB chunks. The chunked code runs here with chunks of 100 bytes and 4 KiB so reads
 * cross chunk boundaries.
 */
class SegmentFileTest {
  @TempDir Path tmp;

  @Test
  void smallChunksReadTheSameAsOneArray() throws Exception {
    for (long seed = 0; seed < 24; seed++) {
      Segment s = RandomSegments.generate(seed);
      for (Compression c : Compression.values()) {
        byte[] bytes = SegmentCodec.encode(s, c);
        Path file = Files.write(tmp.resolve("s-" + seed + "-" + c), bytes);
        for (long chunk : new long[] {100, 4096}) {
          try (SegmentReader r = SegmentReader.openMapped(file, "s", chunk)) {
            assertSameSegment(s, r.toSegment());
          }
        }
      }
    }
  }

  @Test
  void damagedFilesAreRejectedThroughChunksToo() throws Exception {
    byte[] bytes = SegmentCodec.encode(SegmentCorruptionTest.incremental(), Compression.LZ4);
    for (int at = 0; at < bytes.length; at += 7) {
      byte[] bad = bytes.clone();
      bad[at] ^= 0x10;
      Path file = Files.write(tmp.resolve("bad"), bad);
      assertThrows(CorruptSegmentException.class, () -> SegmentReader.openMapped(file, "f", 64));
      assertThrows(CorruptSegmentException.class, () -> SegmentReader.open(file, "f"));
    }
    Path cut = Files.write(tmp.resolve("cut"), Arrays.copyOf(bytes, bytes.length - 1));
    assertThrows(TruncatedSegmentException.class, () -> SegmentReader.open(cut, "f"));
    Path empty = Files.write(tmp.resolve("empty"), new byte[0]);
    assertThrows(TruncatedSegmentException.class, () -> SegmentReader.open(empty, "f"));
    assertThrows(UncheckedIOException.class, () -> SegmentReader.open(tmp.resolve("missing"), "f"));
  }

  @Test
  void readersAreSafeForConcurrentReads() throws Exception {
    Segment s = RandomSegments.generate(3);
    while (s.pages().size() < 5) {
      s = RandomSegments.generate(s.firstTxid() + 1000);
    }
    Segment segment = s;
    Path file = Files.write(tmp.resolve("c"), SegmentCodec.encode(segment, Compression.LZ4));
    try (SegmentReader r =
        SegmentReader.openMapped(file, "c", 4096)) { // mapped: shared scratch path
      Thread[] threads = new Thread[4];
      Throwable[] failure = new Throwable[1];
      for (int t = 0; t < threads.length; t++) {
        threads[t] =
            new Thread(
                () -> {
                  try {
                    byte[] page = new byte[r.pageSize()];
                    for (int round = 0; round < 200; round++) {
                      for (int i = 0; i < r.pageCount(); i++) {
                        r.readPage(i, page, 0);
                        assertArrayEquals(segment.pages().get(i).data(), page);
                      }
                    }
                  } catch (Throwable e) {
                    synchronized (failure) {
                      failure[0] = e;
                    }
                  }
                });
        threads[t].start();
      }
      for (Thread t : threads) {
        t.join();
      }
      assertEquals(null, failure[0]);
    }
  }
}
