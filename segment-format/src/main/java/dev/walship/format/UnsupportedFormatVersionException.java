package dev.walship.format;

/**
 * The segment declares a format version this reader does not implement (a newer writer): upgrade
 * the reader; never guess.
 */
public class UnsupportedFormatVersionException extends CorruptSegmentException {
  private static final long serialVersionUID = 1L;

  public UnsupportedFormatVersionException(
      String source, long offset, String what, Object expected, Object found) {
    super(source, offset, what, expected, found);
  }
}
