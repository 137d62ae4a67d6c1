package dev.walship.primary;

/**
 * Another writer holds this database's lineage: a conditional write on a segment or the lease lost
 * (HELPERS decision 5). The agent stops writing that database at once and never retries.
 */
public class FencedException extends PrimaryException {
  private static final long serialVersionUID = 1L;

  public FencedException(String message) {
    super(message);
  }
}
