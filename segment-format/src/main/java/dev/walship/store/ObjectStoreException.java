package dev.walship.store;

/**
 * A store operation failed after the implementation's own bounded retries. {@link #retryable()}
 * tells the caller whether trying again later may succeed (network, 5xx, throttling) or not
 * (forbidden, no such bucket, bad configuration).
 */
public class ObjectStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final boolean retryable;

  public ObjectStoreException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
