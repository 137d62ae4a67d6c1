package dev.walship.store;

/**
 * A conditional write lost: the key already existed ({@code If-None-Match: *}) or its ETag no
 * longer matched ({@code If-Match}). Means "another writer got there first", never retry blindly.
 */
public class PreconditionFailedException extends ObjectStoreException {
  private static final long serialVersionUID = 1L;

  public PreconditionFailedException(String message) {
    super(message, false, null);
  }
}
