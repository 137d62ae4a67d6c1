package dev.walship.restore;

/**
 * The database-checksum chain is broken: a segment does not start from the checksum the local
 * database has (pre-apply), or the database after applying does not have the checksum the
 * segment's commit record promises (post-apply), or two planned segments do not link. Never
 * serve or publish the database in that state; re-bootstrap from a snapshot.
 */
public final class ChecksumChainException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Where in the apply the mismatch was found. */
  public enum Stage {
    /** Before any page was written: the local database is still intact at its TXID. */
    PRE_APPLY,
    /** After pages were written: the local file no longer matches any bucket state. */
    POST_APPLY,
    /** Between two segments of one plan (their TXIDs or checksums do not link). */
    LINK
  }

  private final Stage stage;
  private final String key;
  private final long txid;
  private final long expected;
  private final long found;

  public ChecksumChainException(
      Stage stage, String key, long txid, long expected, long found, String detail) {
    super(
        stage
            + " checksum mismatch at TXID "
            + txid
            + " ("
            + key
            + "): expected "
            + hex(expected)
            + ", found "
            + hex(found)
            + (detail == null ? "" : "; " + detail));
    this.stage = stage;
    this.key = key;
    this.txid = txid;
    this.expected = expected;
    this.found = found;
  }

  static String hex(long v) {
    return String.format("%016x", v);
  }

  public Stage stage() {
    return stage;
  }

  /** Object key (or keys) of the segment concerned. */
  public String key() {
    return key;
  }

  public long txid() {
    return txid;
  }

  public long expected() {
    return expected;
  }

  public long found() {
    return found;
  }
}
