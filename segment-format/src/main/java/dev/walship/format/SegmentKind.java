package dev.walship.format;

/** What applying a segment means. */
public enum SegmentKind {
  /**
   * Page changes on top of the database at {@code firstTxid - 1}; pre-apply checksum must match.
   */
  INCREMENTAL,
  /**
   * Every page of the database at {@code lastTxid} (firstTxid == lastTxid): replaces whatever the
   * target holds; there is no pre-apply checksum to check.
   */
  SNAPSHOT
}
