package dev.walship.format;

/**
 * A JSON bucket object ({@code lineage.json}, {@code lease.json}, {@code branches/{child}.json}) is
 * malformed, misses a field, has an unknown field, or declares a {@code format_version} this
 * walship does not read. Never act on it: a newer writer or a damaged object. The message names the
 * source (object key) and the field.
 */
public class InvalidBucketObjectException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String source;

  public InvalidBucketObjectException(String source, String message) {
    super(source + ": " + message);
    this.source = source;
  }

  public InvalidBucketObjectException(String source, String message, Throwable cause) {
    super(source + ": " + message, cause);
    this.source = source;
  }

  /** The object key or file named when parsing. */
  public String source() {
    return source;
  }
}
