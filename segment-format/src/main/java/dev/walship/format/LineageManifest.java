package dev.walship.format;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;
import java.util.Set;

/**
 * The lineage manifest {@code {db}/lineage.json} (SPEC.md, "lineage.json"), created once with a
 * create-only write:
 *
 * <pre>
 * {"format_version":1,"db":"name","lineage_id":"uuid","page_size":4096,"created_ms":1700000000000,
 *  "parent":null}
 * </pre>
 *
 * or, for a branch, {@code "parent":{"db":"orig","lineage_id":"..","txid":N,"checksum":"<16
 * hex>"}}: the branch's own segments start at {@code L0/{N+1}} with checksumBefore = the parent's
 * checksum at N, and a restore reads the parent's objects up to N, then the branch's own.
 *
 * @param formatVersion always {@link #FORMAT_VERSION} for objects this code writes
 * @param db database name (the key prefix)
 * @param lineageId unique id of this lineage (a UUID string)
 * @param pageSize page size in bytes
 * @param createdMs creation time, ms since the epoch
 * @param parent the branch point, or null for a database that is not a branch
 */
public record LineageManifest(
    int formatVersion, String db, String lineageId, int pageSize, long createdMs, Parent parent) {
  public static final int FORMAT_VERSION = 1;

  private static final Set<String> FIELDS =
      Set.of("format_version", "db", "lineage_id", "page_size", "created_ms", "parent");
  private static final Set<String> PARENT_FIELDS = Set.of("db", "lineage_id", "txid", "checksum");

  /**
   * Where a branch was taken from.
   *
   * @param db the parent database name
   * @param lineageId the parent's lineage id
   * @param txid the parent TXID the branch starts from (>= 1)
   * @param checksum the parent's database checksum at {@code txid}
   */
  public record Parent(String db, String lineageId, long txid, long checksum) {
    public Parent {
      requireText(db, "parent db");
      requireText(lineageId, "parent lineage_id");
      if (txid < 1) {
        throw new IllegalArgumentException("parent txid must be >= 1, got " + txid);
      }
    }
  }

  /**
   * @throws IllegalArgumentException if a field is out of range
   */
  public LineageManifest {
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "format_version must be " + FORMAT_VERSION + ", got " + formatVersion);
    }
    requireText(db, "db");
    requireText(lineageId, "lineage_id");
    DatabaseChecksum.checkPageSize(pageSize);
    if (createdMs < 0) {
      throw new IllegalArgumentException("created_ms must be >= 0, got " + createdMs);
    }
  }

  /** A manifest of the current format version. */
  public static LineageManifest of(
      String db, String lineageId, int pageSize, long createdMs, Parent parent) {
    return new LineageManifest(FORMAT_VERSION, db, lineageId, pageSize, createdMs, parent);
  }

  /** True if this lineage is a branch of another. */
  public boolean isBranch() {
    return parent != null;
  }

  /** Compact UTF-8 JSON with the fields in the order shown above. */
  public byte[] toJson() {
    ObjectNode n = StrictJson.MAPPER.createObjectNode();
    n.put("format_version", formatVersion);
    n.put("db", db);
    n.put("lineage_id", lineageId);
    n.put("page_size", pageSize);
    n.put("created_ms", createdMs);
    if (parent == null) {
      n.putNull("parent");
    } else {
      ObjectNode p = n.putObject("parent");
      p.put("db", parent.db());
      p.put("lineage_id", parent.lineageId());
      p.put("txid", parent.txid());
      p.put("checksum", DatabaseChecksum.toHex(parent.checksum()));
    }
    return StrictJson.write(n);
  }

  /**
   * Strict parse: every field present with the right type, no unknown field, {@code format_version}
   * 1 (checked first).
   *
   * @param source object key, named in errors
   * @throws InvalidBucketObjectException if the object is not a valid version-1 manifest
   */
  public static LineageManifest fromJson(byte[] json, String source) {
    StrictJson.requireVersion(json, source, FORMAT_VERSION);
    StrictJson j = StrictJson.parse(json, source, FIELDS);
    try {
      StrictJson p = j.objectOrNull("parent", PARENT_FIELDS);
      Parent parent =
          p == null
              ? null
              : new Parent(
                  p.string("db"),
                  p.string("lineage_id"),
                  p.longValue("txid", 1),
                  p.checksum("checksum"));
      return new LineageManifest(
          j.intValue("format_version", 0),
          j.string("db"),
          j.string("lineage_id"),
          j.intValue("page_size", 0),
          j.longValue("created_ms", 0),
          parent);
    } catch (IllegalArgumentException e) {
      throw j.invalid(e.getMessage());
    }
  }

  static void requireText(String s, String name) {
    Objects.requireNonNull(s, name);
    if (s.isEmpty()) {
      throw new IllegalArgumentException(name + " must not be empty");
    }
  }
}
