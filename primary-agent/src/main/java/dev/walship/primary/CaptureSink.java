package dev.walship.primary;

import dev.walship.format.CommitRecord;

/**
 * Where the {@link Capturer} puts what it captures, in order. Called only from the capture thread.
 *
 * <p>The call sequence is a series of:
 *
 * <ul>
 *   <li>{@link #resume(int, long, long)} — incremental commits continue after TXID {@code
 *       lastTxid}, whose database checksum is {@code checksum};
 *   <li>{@link #beginSnapshot(long, int)}, then {@link #page} for every page, then {@link
 *       #commit} — a complete image of the database at that TXID;
 *   <li>{@link #page} for each page a commit wrote (last image per page only, pages beyond the
 *       commit's database size left out), then {@link #commit}.
 * </ul>
 */
interface CaptureSink {
  void resume(int pageSize, long lastTxid, long checksum);

  void beginSnapshot(long txid, int pageSize);

  /**
   * {@code data} holds the page image at {@code offset} (page-size bytes); it must not be
   * modified, and is reused after the call returns.
   */
  void page(long pageNumber, long txid, byte[] data, int offset);

  void commit(CommitRecord record);
}
