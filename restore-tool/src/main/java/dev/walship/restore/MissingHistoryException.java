package dev.walship.restore;

/**
 * TXIDs the history needs are absent from the bucket: a gap between two objects that should be
 * contiguous. The message names the keys and the missing TXID range.
 */
public final class MissingHistoryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MissingHistoryException(String message) {
    super(message);
  }
}
