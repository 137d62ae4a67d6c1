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
   * {@code len} must be a multiple of 8.
   */
  static long compute(boolean bigEndian, byte[] b, int off, int len, int s0, int s1) {
    if ((len & 7) != 0) {
      throw new IllegalArgumentException("WAL checksum length must be a multiple of 8: " + len);
    }
    int end = off + len;
    if (bigEndian) {
      for (int i = off; i < end; i += 8) {
        s0 += intBe(b, i) + s1;
        s1 += intBe(b, i + 4) + s0;
      }
    } else {
      for (int i = off; i < end; i += 8) {
        s0 += le(b, i) + s1;
        s1 += le(b, i + 4) + s0;
      }
    }
    return pack(s0, s1);
  }

  /** The big-endian 32-bit integer at {@code b[i..i+3]} (WAL headers are big-endian). */
  static int intBe(byte[] b, int i) {
    return (int) BE.get(b, i);
  }

  private static int le(byte[] b, int i) {
    return (int) LE.get(b, i);
  }
}
