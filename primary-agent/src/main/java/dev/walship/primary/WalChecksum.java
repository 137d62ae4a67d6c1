package dev.walship.primary;

/**
 * SQLite's WAL checksum (https://www.sqlite.org/fileformat2.html#walformat, "checksum
 * algorithm"): over 32-bit words {@code x(i)} taken two at a time, {@code s0 += x(i) + s1; s1 +=
 * x(i+1) + s0}, all arithmetic modulo 2^32. The pair is packed in one {@code long} (s0 high, s1
 * low) so it can be carried from frame to frame without allocation. Stateless.
 */
final class WalChecksum {
  /** Plain loads of 32-bit words from a byte array, in either byte order (one instruction each). */
  private static final java.lang.invoke.VarHandle BE =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.BIG_ENDIAN);

  private static final java.lang.invoke.VarHandle LE =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  private WalChecksum() {}

  static long pack(int s0, int s1) {
    return ((long) s0 << 32) | (s1 & 0xffffffffL);
  }

  static int s0(long packed) {
    return (int) (packed >>> 32);
  }

  static int s1(long packed) {
    return (int) packed;
  }

  /**
   * Continues the checksum {@code (s0, s1)} over {@code len} bytes of {@code b} from {@code off};
   * {@code len} must be a multiple of 8. Returns the packed result ({@link #pack}).
   *
   * <p>One step over the word pair {@code (x, y)} maps the state {@code v = (s0, s1)} to {@code
   * M v + (x, x + y)} with {@code M = [[1, 1], [1, 2]]}, all modulo 2^32. The map is linear, so a
   * range of {@code k} steps started from {@code v} ends at {@code M^k v + F}, where {@code F} is
   * the same range started from {@code (0, 0)}. Each block of up to 64 KiB is cut into four equal
   * ranges run side by side (the first from {@code v}, the others from zero) and joined with
   * {@code M^k}; any remaining steps run one by one. The result is exactly the plain loop's, without
   * its single chain of dependent additions (2-3x faster on a 4 KiB page).
   *
   * @throws IllegalArgumentException if {@code len} is not a multiple of 8
   * @throws IndexOutOfBoundsException if the range is outside {@code b}
   */
  static long compute(boolean bigEndian, byte[] b, int off, int len, int s0, int s1) {
    if ((len & 7) != 0) {
      throw new IllegalArgumentException("WAL checksum length must be a multiple of 8: " + len);
    }
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    long sum = pack(s0, s1);
    for (int at = off, end = off + len; at < end; at += MAX_BLOCK) {
      sum = block(bigEndian, b, at, Math.min(end - at, MAX_BLOCK), sum);
    }
    return sum;
  }

  /** Bytes per {@link #block}: M^k is tabulated for the lane length of up to this many. */
  private static final int MAX_BLOCK = 65536;

  /**
   * Fibonacci numbers modulo 2^32 ({@code FIB[0] = 0, FIB[1] = 1}). {@code M} is the square of
   * the Fibonacci matrix {@code [[0, 1], [1, 1]]}, so {@code M^k = [[FIB[2k-1], FIB[2k]],
   * [FIB[2k], FIB[2k+1]]]}.
   */
  private static final int[] FIB = new int[MAX_BLOCK / 16 + 2];

  static {
    FIB[1] = 1;
    for (int i = 2; i < FIB.length; i++) {
      FIB[i] = FIB[i - 1] + FIB[i - 2];
    }
  }

  /** {@link #compute} over at most {@link #MAX_BLOCK} bytes, from the packed state {@code sum}. */
  private static long block(boolean bigEndian, byte[] b, int off, int len, long sum) {
    int stride = (len >>> 5) << 3; // bytes per lane: a quarter of the steps, 8 bytes each
    if (stride == 0) {
      return serial(bigEndian, b, off, off + len, s0(sum), s1(sum));
    }
    int o1 = off + stride;
    int o2 = o1 + stride;
    int o3 = o2 + stride;
    int a0 = s0(sum);
    int a1 = s1(sum);
    int b0 = 0;
    int b1 = 0;
    int c0 = 0;
    int c1 = 0;
    int d0 = 0;
    int d1 = 0;
    for (int i = 0; i < stride; i += 8) {
      a0 += word(bigEndian, b, off + i) + a1;
      a1 += word(bigEndian, b, off + i + 4) + a0;
      b0 += word(bigEndian, b, o1 + i) + b1;
      b1 += word(bigEndian, b, o1 + i + 4) + b0;
      c0 += word(bigEndian, b, o2 + i) + c1;
      c1 += word(bigEndian, b, o2 + i + 4) + c0;
      d0 += word(bigEndian, b, o3 + i) + d1;
      d1 += word(bigEndian, b, o3 + i + 4) + d0;
    }
    int k2 = stride >>> 2; // 2k for k = stride / 8 steps per lane
    int p = FIB[k2 - 1];
    int q = FIB[k2];
    int r = FIB[k2 + 1];
    int x0 = p * a0 + q * a1 + b0;
    int x1 = q * a0 + r * a1 + b1;
    int y0 = p * x0 + q * x1 + c0;
    int y1 = q * x0 + r * x1 + c1;
    int z0 = p * y0 + q * y1 + d0;
    int z1 = q * y0 + r * y1 + d1;
    return serial(bigEndian, b, o3 + stride, off + len, z0, z1);
  }

  /** The plain loop: one word pair at a time over {@code b[from, to)}. */
  private static long serial(boolean bigEndian, byte[] b, int from, int to, int s0, int s1) {
    for (int i = from; i < to; i += 8) {
      s0 += word(bigEndian, b, i) + s1;
      s1 += word(bigEndian, b, i + 4) + s0;
    }
    return pack(s0, s1);
  }

  /** The big-endian 32-bit integer at {@code b[i..i+3]} (WAL headers are big-endian). */
  static int intBe(byte[] b, int i) {
    return (int) BE.get(b, i);
  }

  /** The 32-bit word at {@code b[i..i+3]} in the checksum's byte order. */
  private static int word(boolean bigEndian, byte[] b, int i) {
    int w = (int) LE.get(b, i);
    return bigEndian ? Integer.reverseBytes(w) : w;
  }
}
