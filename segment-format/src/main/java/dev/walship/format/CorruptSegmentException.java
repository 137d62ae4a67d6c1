package dev.walship.format;

/**
 * A segment's bytes are not a valid segment: never apply it. The message names the source (object
 * key or file), the byte offset, and the expected versus found values. Subclasses narrow the cause.
 */
public class CorruptSegmentException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CorruptSegmentException(String message) {
    super(message);
  }

  public CorruptSegmentException(String message, Throwable cause) {
    super(message, cause);
  }
}
