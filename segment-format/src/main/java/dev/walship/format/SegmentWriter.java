package dev.walship.format;

import java.io.Closeable;
import java.nio.file.Path;

/**
 * Builds one segment with bounded memory: page images are spooled to a temporary file as they
 * arrive (in any order, e.g. WAL order) and written sorted by (page number, TXID) on {@link
 * #finishTo(Path)}. Commits must be added in TXID order, contiguous from {@code firstTxid}.
 *
 * <p>Usage: {@code create(...)}, then for each captured commit {@code addPage(...)} for its
 * frames and {@code addCommit(...)}, then {@code finishTo(file)} or {@code finish()}.
 *
 * <p>Not thread-safe. {@link #close()} deletes the spool file.
 */
public final class SegmentWriter implements Closeable {

  /**
   * @param kind incremental or snapshot
   * @param level compaction level (0 from the primary)
   * @param pageSize bytes per page
   * @param firstTxid first TXID this segment will cover
   * @param checksumBefore database checksum at {@code firstTxid - 1} (0 for a snapshot)
   * @param compression how page images are stored
   * @param spoolDir directory for the temporary spool file
   */
  public static SegmentWriter create(
      SegmentKind kind,
      int level,
      int pageSize,
      long firstTxid,
      long checksumBefore,
      Compression compression,
      Path spoolDir) {
    throw new UnsupportedOperationException("implemented by the segment format work");
  }

  /**
   * Adds a page image written by commit {@code txid} (which must be the commit being built, i.e.
   * the TXID after the last {@link #addCommit}). A second image of the same page for the same TXID
   * replaces the first (a transaction may write a page twice in the WAL).
   *
   * @throws IllegalArgumentException if {@code data} is not page-size bytes
   */
  public void addPage(long pageNumber, long txid, byte[] data, int offset) {
    throw new UnsupportedOperationException();
  }

  /** Closes the current commit. @throws IllegalArgumentException if its TXID is out of order. */
  public void addCommit(CommitRecord commit) {
    throw new UnsupportedOperationException();
  }

  /** Number of commits added so far. */
  public int commitCount() {
    throw new UnsupportedOperationException();
  }

  /** Bytes of page data added so far (for size-based cut-off decisions). */
  public long pageBytes() {
    throw new UnsupportedOperationException();
  }

  /**
   * Writes the complete segment to {@code file} (created or replaced) and returns its size in
   * bytes. For incremental segments the page images kept are the ones of each (page, TXID).
   *
   * @throws IllegalStateException if no commit was added
   */
  public long finishTo(Path file) {
    throw new UnsupportedOperationException();
  }

  /** Encodes the complete segment in memory; for small segments and tests. */
  public byte[] finish() {
    throw new UnsupportedOperationException();
  }

  @Override
  public void close() {}
}
