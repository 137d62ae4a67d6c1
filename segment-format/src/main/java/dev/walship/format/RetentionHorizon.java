package dev.walship.format;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * The retention horizon {@code {db}/retention.json}: the TXID up to which retention of {@code db}
 * may delete objects (SPEC.md, "retention.json"). It only ever grows, and retention raises it
 * <em>before</em> it lists {@code branches/}; a branch reads it <em>after</em> writing its
 * back-reference. That ordering is what makes branching safe against a concurrent retention run.
 *
 * <pre>
 * {"format_version":1,"db":"app","txid":N,"updated_ms":..}
 * </pre>
 *
 * <p>What retention may delete under a horizon {@code N}: snapshots at a TXID below {@code N} and
 * level-0 segments whose last TXID is at or below {@code N}, unless a back-reference it listed
 * after the horizon was in the bucket needs them. Absent means 0 (nothing may be deleted).
 *
 * @param formatVersion always {@link #FORMAT_VERSION} for objects this code writes
 * @param db the database the horizon belongs to
 * @param txid the horizon TXID (>= 0)
 * @param updatedMs when it was last raised, ms since the epoch (informational)
 */
public record RetentionHorizon(int formatVersion, String db, long txid, long updatedMs) {
  public static final int FORMAT_VERSION = 1;

  private static final Set<String> FIELDS = Set.of("format_version", "db", "txid", "updated_ms");

  /**
   * @throws IllegalArgumentException if a field is out of range
   */
  public RetentionHorizon {
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "format_version must be " + FORMAT_VERSION + ", got " + formatVersion);
    }
    LineageManifest.requireText(db, "db");
    if (txid < 0) {
      throw new IllegalArgumentException("txid must be >= 0, got " + txid);
    }
    if (updatedMs < 0) {
      throw new IllegalArgumentException("updated_ms must be >= 0, got " + updatedMs);
    }
  }

  /** A horizon of the current format version. */
  public static RetentionHorizon of(String db, long txid, long updatedMs) {
    return new RetentionHorizon(FORMAT_VERSION, db, txid, updatedMs);
  }

  /** The key of {@code db}'s horizon. */
  public static String key(String db) {
    return BucketLayout.dbPrefix(db) + "retention.json";
  }

  /**
   * True if retention under this horizon may delete a snapshot at {@code txid} (one below the
   * horizon).
   */
  public boolean mayDeleteSnapshot(long snapshotTxid) {
    return snapshotTxid < txid;
  }

  /**
   * True if retention under this horizon may delete a level-0 segment that holds TXID {@code
   * coveredTxid} (its last TXID is at least that one): callers pass the highest TXID they know the
   * segment holds, so an unknown last TXID errs on the side of "may be deleted".
   */
  public boolean mayDeleteSegmentHolding(long coveredTxid) {
    return coveredTxid <= txid;
  }

  /** Compact UTF-8 JSON with the fields in the order shown above. */
  public byte[] toJson() {
    ObjectNode n = StrictJson.MAPPER.createObjectNode();
    n.put("format_version", formatVersion);
    n.put("db", db);
    n.put("txid", txid);
    n.put("updated_ms", updatedMs);
    return StrictJson.write(n);
  }

  /**
   * Strict parse (see {@link LineageManifest#fromJson}).
   *
   * @throws InvalidBucketObjectException if the object is not a valid version-1 horizon
   */
  public static RetentionHorizon fromJson(byte[] json, String source) {
    StrictJson.requireVersion(json, source, FORMAT_VERSION);
    StrictJson j = StrictJson.parse(json, source, FIELDS);
    try {
      return new RetentionHorizon(
          j.intValue("format_version", 0),
          j.string("db"),
          j.longValue("txid", 0),
          j.longValue("updated_ms", 0));
    } catch (IllegalArgumentException e) {
      throw j.invalid(e.getMessage());
    }
  }
}
