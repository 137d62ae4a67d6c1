package dev.walship.restore;

/** The bucket holds no database of that name (its {@code lineage.json} is absent). */
public final class NoSuchDatabaseException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NoSuchDatabaseException(String db, String key) {
    super("no database " + db + " in the bucket (" + key + " is missing)");
  }
}
