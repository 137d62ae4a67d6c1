package dev.walship.format;

/**
 * Byte layout constants of segment format v1 and v2 (SPEC.md, "Segment file"). Every integer is
 * big-endian. Package-private: the reader and the encoders are the only code that knows offsets.
 */
final class SegmentFormat {
  private SegmentFormat() {}

  /** "WSEG\r\n\x1a\n": ASCII name, then bytes that text-mode transfers would mangle. */
  static final byte[] MAGIC = {0x57, 0x53, 0x45, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

  /** "GESW": the last four bytes of every segment. */
  static final int END_MAGIC = 0x47455357;

  /** Format version of a segment without delta entries (the only one a snapshot can be). */
  static final int VERSION_1 = 1;

  /** Format version of a segment with at least one delta entry (SPEC.md 2.4, 2.5). */
  static final int VERSION_2 = 2;

  static final int HEADER_SIZE = 128;
  static final int COMMIT_ENTRY_SIZE = 32;
  static final int INDEX_ENTRY_SIZE = 32;
  static final int META_CHECK_SIZE = 8;
  static final int TRAILER_SIZE = 8;

  // Header field offsets.
  static final int OFF_MAGIC = 0;
  static final int OFF_VERSION = 8;
  static final int OFF_FLAGS = 10;
  static final int OFF_KIND = 12;
  static final int OFF_LEVEL = 13;
  static final int OFF_COMPRESSION = 14;
  static final int OFF_RESERVED_15 = 15;
  static final int OFF_PAGE_SIZE = 16;
  static final int OFF_COMMIT_COUNT = 20;
  static final int OFF_FIRST_TXID = 24;
  static final int OFF_LAST_TXID = 32;
  static final int OFF_DB_SIZE = 40;
  static final int OFF_CHECKSUM_BEFORE = 48;
  static final int OFF_CHECKSUM_AFTER = 56;
  static final int OFF_PAGE_COUNT = 64;
  static final int OFF_RESERVED_68 = 68;
  static final int OFF_BODY_LENGTH = 72;
  static final int OFF_RESERVED_80 = 80;

  // Commit entry field offsets.
  static final int CE_TXID = 0;
  static final int CE_TIME = 8;
  static final int CE_DB_SIZE = 16;
  static final int CE_CHECKSUM_AFTER = 24;

  // Page index entry field offsets.
  static final int IE_PAGE_NUMBER = 0;
  static final int IE_STORED_LENGTH = 4;
  static final int IE_TXID = 8;
  static final int IE_BODY_OFFSET = 16;
  static final int IE_CRC = 24;
  /** v2: one byte of entry flags; v1: the first of four reserved bytes. */
  static final int IE_FLAGS = 28;
  /** v2: three reserved bytes after the entry flags. */
  static final int IE_RESERVED = 29;

  /** Entry flag (v2): the stored bytes are an LZ4 block of (this image XOR the previous entry's). */
  static final int ENTRY_DELTA = 1;

  static final int MIN_PAGE_SIZE = 512;
  static final int MAX_PAGE_SIZE = 65536;

  /** Largest page number and database size a segment can carry (an unsigned 32-bit field). */
  static final long MAX_PAGE_NUMBER = 0xFFFF_FFFFL;

  /** Largest number of commits or page images in one segment. */
  static final int MAX_COUNT = Integer.MAX_VALUE - 16;

  static byte kindId(SegmentKind kind) {
    return switch (kind) {
      case INCREMENTAL -> 0;
      case SNAPSHOT -> 1;
    };
  }

  static byte compressionId(Compression c) {
    return switch (c) {
      case NONE -> 0;
      case LZ4 -> 1;
    };
  }

  static long metaEnd(long commitCount, long pageCount) {
    return HEADER_SIZE + commitCount * COMMIT_ENTRY_SIZE + pageCount * INDEX_ENTRY_SIZE;
  }

  static long bodyStart(long commitCount, long pageCount) {
    return metaEnd(commitCount, pageCount) + META_CHECK_SIZE;
  }

  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          long[].class, java.nio.ByteOrder.nativeOrder());

  /**
   * {@code out[outOff..] = a[aOff..] XOR b[bOff..]} over {@code len} bytes, a multiple of 8 (a page),
   * eight bytes at a time ({@code out} may be {@code a} at the same offset). A byte loop over three
   * arrays is not vectorized by C2 and measured several times slower.
   */
  static void xor(byte[] a, int aOff, byte[] b, int bOff, byte[] out, int outOff, int len) {
    java.util.Objects.checkFromIndexSize(aOff, len, a.length);
    java.util.Objects.checkFromIndexSize(bOff, len, b.length);
    java.util.Objects.checkFromIndexSize(outOff, len, out.length);
    for (int i = 0; i < len; i += 8) {
      long x = (long) LONGS.get(a, aOff + i) ^ (long) LONGS.get(b, bOff + i);
      LONGS.set(out, outOff + i, x);
    }
  }

  static boolean validPageSize(int pageSize) {
    return pageSize >= MIN_PAGE_SIZE
        && pageSize <= MAX_PAGE_SIZE
        && Integer.bitCount(pageSize) == 1;
  }
}
