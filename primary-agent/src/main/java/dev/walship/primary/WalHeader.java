package dev.walship.primary;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The 32-byte header of a SQLite {@code -wal} file (source: SQLite "Database File Format",
 * section "WAL File Format", https://www.sqlite.org/fileformat2.html#walformat). All fields are
 * big-endian; the magic's lowest bit says in which byte order the checksums are computed.
 *
 * @param magic 0x377f0682 (checksums over little-endian words) or 0x377f0683 (big-endian)
 * @param formatVersion 3007000
 * @param pageSize database page size in bytes
 * @param checkpointSequence incremented by SQLite at every WAL restart
 * @param salt1 incremented at every WAL restart; every valid frame repeats it
 * @param salt2 a fresh random value at every WAL restart; every valid frame repeats it
 * @param checksum1 first half of the header checksum (over bytes 0..23)
 * @param checksum2 second half of the header checksum
 */
public record WalHeader(
    int magic,
    int formatVersion,
    int pageSize,
    int checkpointSequence,
    int salt1,
    int salt2,
    int checksum1,
    int checksum2) {

  /** Size of the header in bytes. */
  public static final int SIZE = 32;

  static final int MAGIC_LE = 0x377f0682;
  static final int MAGIC_BE = 0x377f0683;
  static final int FORMAT_VERSION = 3007000;

  /** True if frame checksums are computed over big-endian 32-bit words. */
  public boolean bigEndianChecksums() {
    return magic == MAGIC_BE;
  }

  /** True if {@code other} has the same salts (same WAL generation). */
  public boolean sameGeneration(WalHeader other) {
    return other != null && salt1 == other.salt1 && salt2 == other.salt2;
  }

  /**
   * Parses and validates a header: magic, version, page size a power of two in 512..65536, and
   * the header checksum. Returns empty for anything else (a WAL file that is empty, truncated, or
   * being rewritten holds no valid frames).
   */
  public static Optional<WalHeader> parse(byte[] b) {
    if (b.length < SIZE) {
      return Optional.empty();
    }
    ByteBuffer bb = ByteBuffer.wrap(b); // big-endian
    int magic = bb.getInt(0);
    if (magic != MAGIC_LE && magic != MAGIC_BE) {
      return Optional.empty();
    }
    int version = bb.getInt(4);
    int rawPageSize = bb.getInt(8);
    // SQLite stores 65536 as 1 in the 16-bit db header; the WAL header holds the true value, but
    // accept the 1 encoding defensively.
    int pageSize = rawPageSize == 1 ? 65536 : rawPageSize;
    if (version != FORMAT_VERSION
        || pageSize < 512
        || pageSize > 65536
        || Integer.bitCount(pageSize) != 1) {
      return Optional.empty();
    }
    WalHeader h =
        new WalHeader(
            magic,
            version,
            pageSize,
            bb.getInt(12),
            bb.getInt(16),
            bb.getInt(20),
            bb.getInt(24),
            bb.getInt(28));
    long sum = WalChecksum.compute(h.bigEndianChecksums(), b, 0, 24, 0, 0);
    if (WalChecksum.s0(sum) != h.checksum1 || WalChecksum.s1(sum) != h.checksum2) {
      return Optional.empty();
    }
    return Optional.of(h);
  }
}
