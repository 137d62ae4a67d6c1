package dev.walship.format;

/**
 * The database checksum: XOR over all pages of a 64-bit hash of (page number, page bytes), with
 * page 1's per-file bytes masked. Because XOR is its own inverse it updates incrementally:
 * {@code new = old ^ pageHash(n, oldImage) ^ pageHash(n, newImage)}; a page that does not exist
 * contributes nothing, so an empty database has checksum 0.
 *
 * <p>Stateless and thread-safe.
 */
public final class DatabaseChecksum {
  private DatabaseChecksum() {}

  /**
   * Hash of one page image.
   *
   * @param pageNumber 1-based page number
   * @param page buffer holding the image
   * @param offset start of the image in {@code page}
   * @param pageSize image length in bytes
   */
  public static long pageHash(long pageNumber, byte[] page, int offset, int pageSize) {
    throw new UnsupportedOperationException("implemented by the segment format work");
  }

  /** Same as {@link #pageHash(long, byte[], int, int)} over the whole array. */
  public static long pageHash(long pageNumber, byte[] page) {
    return pageHash(pageNumber, page, 0, page.length);
  }
}
