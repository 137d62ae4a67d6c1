package dev.walship.format;

/**
 * A segment's bytes are not a valid segment: never apply it. The message names the source (object
 * key or file), the byte offset, and the expected versus found values. Subclasses narrow the cause:
 * {@link TruncatedSegmentException}, {@link UnsupportedFormatVersionException}, {@link
 * ChecksumMismatchException}, {@link OutOfOrderPagesException}. Unchecked.
 */
public class CorruptSegmentException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final long offset;

  public CorruptSegmentException(String message) {
    super(message);
    this.source = null;
    this.offset = -1;
  }

  public CorruptSegmentException(String message, Throwable cause) {
    super(message, cause);
    this.source = null;
    this.offset = -1;
  }

  /**
   * @param source object key or file name
   * @param offset byte offset in the segment where the violation was found
   * @param what the rule or field that was violated
   * @param expected what the format requires
   * @param found what the bytes hold
   */
  public CorruptSegmentException(
      String source, long offset, String what, Object expected, Object found) {
    this(source, offset, what, expected, found, null);
  }

  CorruptSegmentException(
      String source, long offset, String what, Object expected, Object found, Throwable cause) {
    super(
        source + ": " + what + " at byte " + offset + ": expected " + expected + ", found " + found,
        cause);
    this.source = source;
    this.offset = offset;
  }

  /** The object key or file named when the segment was opened, or null if not known. */
  public String source() {
    return source;
  }

  /** Byte offset of the violation, or -1 if not known. */
  public long offset() {
    return offset;
  }
}
