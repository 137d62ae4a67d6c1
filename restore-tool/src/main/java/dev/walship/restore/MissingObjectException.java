package dev.walship.restore;

/**
 * An object the bucket's listing or a plan says must exist is absent (deleted, or never fully
 * written). The restore point it served is gone; the message names the key.
 */
public final class MissingObjectException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String key;

  public MissingObjectException(String key) {
    super("object " + key + " is missing from the bucket");
    this.key = key;
  }

  public String key() {
    return key;
  }
}
