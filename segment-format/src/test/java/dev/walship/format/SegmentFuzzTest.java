package dev.walship.format;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the reader with mutated segments whose CRCs are recomputed afterwards, so the
 * garbage reaches the structural checks. Invariant "CorruptOrValid": decoding either succeeds or
 * throws CorruptSegmentException; never another exception (index out of bounds, negative sizes, out
 * of memory from a huge count).
 */
class SegmentFuzzTest {
  /**
   * Raise for a longer search: -Dwalship.fuzz.cases=100000 (and a different -Dwalship.fuzz.seed).
   */
  private static final int CASES = Integer.getInteger("walship.fuzz.cases", 4000);

  private static final long SEED = Long.getLong("walship.fuzz.seed", 2026);

  @Test
  void mutatedSegmentsAreEitherValidOrCorrupt() {
    SplittableRandom r = new SplittableRandom(SEED);
    for (int n = 0; n < CASES; n++) {
      Segment s = RandomSegments.generate(r.nextLong(200));
      byte[] bytes = SegmentCodec.encode(s, r.nextBoolean() ? Compression.LZ4 : Compression.NONE);
      int meta = (int) SegmentFormat.metaEnd(s.commits().size(), s.pages().size());
      int mutations = 1 + r.nextInt(4);
      for (int m = 0; m < mutations; m++) {
        meta = Math.min(meta, bytes.length); // after a truncation
        if (meta < 8) {
          break;
        }
        switch (r.nextInt(5)) {
          case 0 -> bytes[r.nextInt(meta)] = (byte) r.nextInt(); // header, tables, index
          case 1 -> ByteBuffer.wrap(bytes).putInt(4 * r.nextInt(meta / 4), r.nextInt());
          case 2 -> ByteBuffer.wrap(bytes).putLong(8 * r.nextInt(meta / 8), r.nextLong());
          case 3 -> bytes[r.nextInt(bytes.length)] ^= (byte) (1 << r.nextInt(8));
          default -> bytes = Arrays.copyOf(bytes, Math.max(0, bytes.length + r.nextInt(-40, 40)));
        }
      }
      boolean resealed = r.nextInt(4) != 0 && bytes.length > 200;
      if (resealed) {
        try {
          SegmentCorruptionTest.reseal(bytes);
        } catch (RuntimeException e) {
          resealed = false; // the mutation broke the layout the helper relies on: test unsealed
        }
      }
      byte[] input = bytes;
      try {
        SegmentReader reader = SegmentReader.open(input, "fuzz");
        reader.toSegment();
      } catch (CorruptSegmentException expected) {
        // the only acceptable failure
      } catch (RuntimeException | OutOfMemoryError e) {
        fail("case " + n + " (resealed " + resealed + ") threw " + e, e);
      }
    }
  }
}
