package dev.walship.restore;

import java.time.Instant;

/** What to restore: the latest commit, an exact TXID, or the last commit at or before an instant. */
public sealed interface RestoreTarget {
  /** The newest commit in the bucket. */
  record Latest() implements RestoreTarget {}

  /** Exactly TXID {@code txid} (>= 1). */
  record Txid(long txid) implements RestoreTarget {
    public Txid {
      if (txid < 1) {
        throw new IllegalArgumentException("TXIDs start at 1, got " + txid);
      }
    }
  }

  /** The last commit whose commit time is at or before {@code instant}. */
  record AtOrBefore(Instant instant) implements RestoreTarget {}

  static RestoreTarget latest() {
    return new Latest();
  }

  static RestoreTarget txid(long txid) {
    return new Txid(txid);
  }

  static RestoreTarget atOrBefore(Instant instant) {
    return new AtOrBefore(instant);
  }
}
