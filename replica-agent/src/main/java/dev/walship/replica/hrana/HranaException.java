package dev.walship.replica.hrana;

/**
 * A Hrana {@code Error} ({@code {"message": ..., "code": ...}}) for one stream request or batch
 * step. It fails that request only: the pipeline goes on with the next one, as the Hrana spec
 * requires, and the server never turns it into an HTTP error.
 */
public final class HranaException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String code;

  /**
   * @param code machine-readable code, e.g. {@code SQLITE_READONLY}, {@code SQLITE_ERROR}, {@code
   *     QUERY_TIMEOUT}, {@code RESPONSE_TOO_LARGE}
   * @param message English, names what was refused and why
   */
  public HranaException(String code, String message) {
    super(message);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
