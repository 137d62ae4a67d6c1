package dev.walship.format;

/**
 * The page index is not strictly sorted by (page number, TXID), or a snapshot does not hold pages
 * 1..N exactly once.
 */
public class OutOfOrderPagesException extends CorruptSegmentException {
  private static final long serialVersionUID = 1L;

  public OutOfOrderPagesException(
      String source, long offset, String what, Object expected, Object found) {
    super(source, offset, what, expected, found);
  }
}
