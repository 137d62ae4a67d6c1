package dev.walship.primary;

/**
 * The primary agent cannot do what it was asked (bad configuration, a file that is not a SQLite
 * database, a database that cannot be put in WAL mode, an unreachable bucket). The message is meant
 * for the operator: it names the database and what to do.
 */
public class PrimaryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PrimaryException(String message) {
    super(message);
  }

  public PrimaryException(String message, Throwable cause) {
    super(message, cause);
  }
}
