package dev.walship.restore;

/**
 * Receives progress of a restore; called from the restoring thread and from download threads, so
 * implementations must be thread-safe. Sizes in bytes.
 */
public interface RestoreProgress {
  /** Before the first download: what the plan holds. */
  default void started(RestorePlan plan) {}

  /** One object is downloaded (not yet verified or applied). */
  default void downloaded(String key, long bytes) {}

  /** The database is durable at {@code txid}. */
  default void applied(long txid) {}

  /** The restore finished (successfully or not). */
  default void finished() {}

  /** A listener that ignores everything. */
  static RestoreProgress none() {
    return new RestoreProgress() {};
  }
}
