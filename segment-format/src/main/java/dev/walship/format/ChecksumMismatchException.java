package dev.walship.format;

/**
 * A CRC32C stored in the segment (file, metadata or page) does not match the bytes: the object was
 * damaged in storage or transit.
 */
public class ChecksumMismatchException extends CorruptSegmentException {
  private static final long serialVersionUID = 1L;

  public ChecksumMismatchException(
      String source, long offset, String what, Object expected, Object found) {
    super(source, offset, what, expected, found);
  }
}
