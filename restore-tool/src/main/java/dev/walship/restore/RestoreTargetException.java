package dev.walship.restore;

import java.util.OptionalLong;

/**
 * The requested restore target is not in the bucket's history: before the first restore point,
 * after the last, inside a gap, or deleted by retention. The message and {@link #nearestBefore()}
 * / {@link #nearestAfter()} name the nearest TXIDs that can be restored.
 */
public final class RestoreTargetException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final long nearestBefore;
  private final long nearestAfter;

  RestoreTargetException(String message, long nearestBefore, long nearestAfter) {
    super(message + nearest(nearestBefore, nearestAfter));
    this.nearestBefore = nearestBefore;
    this.nearestAfter = nearestAfter;
  }

  private static String nearest(long before, long after) {
    if (before < 0 && after < 0) {
      return "; the bucket holds no restore point";
    }
    StringBuilder s = new StringBuilder("; nearest restore points:");
    if (before >= 0) {
      s.append(" TXID ").append(before).append(" (before)");
    }
    if (after >= 0) {
      s.append(before >= 0 ? "," : "").append(" TXID ").append(after).append(" (after)");
    }
    return s.toString();
  }

  /** Nearest restorable TXID below the target, if any. */
  public OptionalLong nearestBefore() {
    return nearestBefore < 0 ? OptionalLong.empty() : OptionalLong.of(nearestBefore);
  }

  /** Nearest restorable TXID above the target, if any. */
  public OptionalLong nearestAfter() {
    return nearestAfter < 0 ? OptionalLong.empty() : OptionalLong.of(nearestAfter);
  }
}
