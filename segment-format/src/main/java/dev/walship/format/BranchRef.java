package dev.walship.format;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * The back-reference {@code {parent db}/branches/{child}.json} a branch writes under its parent
 * (create-only), so retention on the parent keeps every object the branch still needs: the parent's
 * snapshot and segments up to {@code txid} (SPEC.md, "branches/{child}.json").
 *
 * <pre>
 * {"format_version":1,"child_db":"name","child_lineage_id":"uuid","parent_lineage_id":"uuid",
 *  "txid":N,"checksum":"<16 hex>","created_ms":..}
 * </pre>
 *
 * @param formatVersion always {@link #FORMAT_VERSION} for objects this code writes
 * @param childDb the branch's database name
 * @param childLineageId the branch's lineage id
 * @param parentLineageId the parent lineage the branch was taken from
 * @param txid the parent TXID the branch starts from (>= 1)
 * @param checksum the parent's database checksum at {@code txid}
 * @param createdMs when the branch was created, ms since the epoch
 */
public record BranchRef(
    int formatVersion,
    String childDb,
    String childLineageId,
    String parentLineageId,
    long txid,
    long checksum,
    long createdMs) {
  public static final int FORMAT_VERSION = 1;

  private static final Set<String> FIELDS =
      Set.of(
          "format_version",
          "child_db",
          "child_lineage_id",
          "parent_lineage_id",
          "txid",
          "checksum",
          "created_ms");

  /**
   * @throws IllegalArgumentException if a field is out of range
   */
  public BranchRef {
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "format_version must be " + FORMAT_VERSION + ", got " + formatVersion);
    }
    LineageManifest.requireText(childDb, "child_db");
    LineageManifest.requireText(childLineageId, "child_lineage_id");
    LineageManifest.requireText(parentLineageId, "parent_lineage_id");
    if (txid < 1) {
      throw new IllegalArgumentException("txid must be >= 1, got " + txid);
    }
    if (createdMs < 0) {
      throw new IllegalArgumentException("created_ms must be >= 0, got " + createdMs);
    }
  }

  /** A back-reference of the current format version. */
  public static BranchRef of(
      String childDb,
      String childLineageId,
      String parentLineageId,
      long txid,
      long checksum,
      long createdMs) {
    return new BranchRef(
        FORMAT_VERSION, childDb, childLineageId, parentLineageId, txid, checksum, createdMs);
  }

  /** Compact UTF-8 JSON with the fields in the order shown above. */
  public byte[] toJson() {
    ObjectNode n = StrictJson.MAPPER.createObjectNode();
    n.put("format_version", formatVersion);
    n.put("child_db", childDb);
    n.put("child_lineage_id", childLineageId);
    n.put("parent_lineage_id", parentLineageId);
    n.put("txid", txid);
    n.put("checksum", DatabaseChecksum.toHex(checksum));
    n.put("created_ms", createdMs);
    return StrictJson.write(n);
  }

  /**
   * Strict parse (see {@link LineageManifest#fromJson}).
   *
   * @throws InvalidBucketObjectException if the object is not a valid version-1 back-reference
   */
  public static BranchRef fromJson(byte[] json, String source) {
    StrictJson.requireVersion(json, source, FORMAT_VERSION);
    StrictJson j = StrictJson.parse(json, source, FIELDS);
    try {
      return new BranchRef(
          j.intValue("format_version", 0),
          j.string("child_db"),
          j.string("child_lineage_id"),
          j.string("parent_lineage_id"),
          j.longValue("txid", 1),
          j.checksum("checksum"),
          j.longValue("created_ms", 0));
    } catch (IllegalArgumentException e) {
      throw j.invalid(e.getMessage());
    }
  }
}
