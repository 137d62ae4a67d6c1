package dev.walship.restore;

/**
 * The local database was marked failed (a post-apply checksum mismatch, or a crash repair that
 * could not complete) and must not be served or advanced. The failure is persisted in the sidecar
 * state file, so it survives a restart; delete the database file and its sidecar (or restore a
 * fresh copy) to recover.
 */
public final class DatabaseFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DatabaseFailedException(String message) {
    super(message);
  }

  public DatabaseFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
