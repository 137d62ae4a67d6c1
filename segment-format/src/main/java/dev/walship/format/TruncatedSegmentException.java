package dev.walship.format;

/**
 * The segment ends before the length its header and trailer require (an incomplete upload or a torn
 * local file).
 */
public class TruncatedSegmentException extends CorruptSegmentException {
  private static final long serialVersionUID = 1L;

  public TruncatedSegmentException(
      String source, long offset, String what, Object expected, Object found) {
    super(source, offset, what, expected, found);
  }
}
