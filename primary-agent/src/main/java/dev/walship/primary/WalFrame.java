package dev.walship.primary;

/**
 * One 24-byte WAL frame header plus where its page image sits in the {@code -wal} file (source:
 * https://www.sqlite.org/fileformat2.html#walformat).
 *
 * @param pageNumber 1-based page number the image belongs to
 * @param dbSizeAfterCommit for a commit frame, the database size in pages after the commit; 0 for
 *     every other frame
 * @param offset byte offset of the frame header in the {@code -wal} file (page data follows at
 *     {@code offset + 24})
 * @param checksum1 cumulative checksum, first half
 * @param checksum2 cumulative checksum, second half
 */
public record WalFrame(
    long pageNumber, long dbSizeAfterCommit, long offset, int checksum1, int checksum2) {

  /** Size of a frame header in bytes. */
  public static final int HEADER_SIZE = 24;

  /** True if this frame ends a transaction. */
  public boolean isCommit() {
    return dbSizeAfterCommit != 0;
  }

  /** Offset of the page image in the {@code -wal} file. */
  public long dataOffset() {
    return offset + HEADER_SIZE;
  }
}
