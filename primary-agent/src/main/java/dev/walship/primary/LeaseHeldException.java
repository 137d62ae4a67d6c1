package dev.walship.primary;

/** Another live primary holds the database's lease: this agent must not start writing it. */
public class LeaseHeldException extends PrimaryException {
  private static final long serialVersionUID = 1L;

  public LeaseHeldException(String message) {
    super(message);
  }
}
