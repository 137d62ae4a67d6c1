package dev.walship.format;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * The writer's lease {@code {db}/lease.json} (SPEC.md, "lease.json"):
 *
 * <pre>
 * {"holder":"host/pid/uuid","acquired_ms":..,"renewed_ms":..,"expires_ms":..}
 * </pre>
 *
 * Created with a create-only write, renewed with an if-match write (the ETag of the version read),
 * taken over only after {@code expires_ms} has passed, again with if-match. All times are ms since
 * the epoch, from the writer's clock.
 *
 * @param holder who holds it, {@code host/pid/uuid}
 * @param acquiredMs when the holder first acquired it
 * @param renewedMs when the holder last renewed it (>= acquiredMs)
 * @param expiresMs when it lapses unless renewed (>= renewedMs)
 */
public record Lease(String holder, long acquiredMs, long renewedMs, long expiresMs) {
  private static final Set<String> FIELDS =
      Set.of("holder", "acquired_ms", "renewed_ms", "expires_ms");

  /**
   * @throws IllegalArgumentException if times are negative or out of order
   */
  public Lease {
    LineageManifest.requireText(holder, "holder");
    if (acquiredMs < 0 || renewedMs < acquiredMs || expiresMs < renewedMs) {
      throw new IllegalArgumentException(
          "lease times must satisfy 0 <= acquired_ms <= renewed_ms <= expires_ms, got "
              + acquiredMs
              + ", "
              + renewedMs
              + ", "
              + expiresMs);
    }
  }

  /** A fresh lease for {@code holder} acquired at {@code nowMs}, lasting {@code ttlMs}. */
  public static Lease acquire(String holder, long nowMs, long ttlMs) {
    return new Lease(holder, nowMs, nowMs, Math.addExact(nowMs, ttlMs));
  }

  /** The same holder's lease renewed at {@code nowMs} for another {@code ttlMs}. */
  public Lease renew(long nowMs, long ttlMs) {
    return new Lease(
        holder,
        acquiredMs,
        Math.max(renewedMs, nowMs),
        Math.max(expiresMs, Math.addExact(nowMs, ttlMs)));
  }

  /** True once {@code nowMs} has reached {@code expiresMs}: another writer may take it over. */
  public boolean isExpiredAt(long nowMs) {
    return nowMs >= expiresMs;
  }

  /** Compact UTF-8 JSON with the fields in the order shown above. */
  public byte[] toJson() {
    ObjectNode n = StrictJson.MAPPER.createObjectNode();
    n.put("holder", holder);
    n.put("acquired_ms", acquiredMs);
    n.put("renewed_ms", renewedMs);
    n.put("expires_ms", expiresMs);
    return StrictJson.write(n);
  }

  /**
   * Strict parse: the four fields, no others.
   *
   * @throws InvalidBucketObjectException if the object is not a valid lease
   */
  public static Lease fromJson(byte[] json, String source) {
    StrictJson j = StrictJson.parse(json, source, FIELDS);
    try {
      return new Lease(
          j.string("holder"),
          j.longValue("acquired_ms", 0),
          j.longValue("renewed_ms", 0),
          j.longValue("expires_ms", 0));
    } catch (IllegalArgumentException e) {
      throw j.invalid(e.getMessage());
    }
  }
}
