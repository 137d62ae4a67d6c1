package dev.walship.restore;

import dev.walship.format.LineageManifest;

/**
 * The lineage manifest {@code {db}/lineage.json} (team decision 6), a thin view of
 * segment-format's {@link LineageManifest} (which owns the JSON):
 *
 * <pre>
 * {"format_version":1,"db":"name","lineage_id":"uuid","page_size":4096,"created_ms":..,
 *  "parent":null | {"db":"orig","lineage_id":"..","txid":N,"checksum":"<16 hex>"}}
 * </pre>
 *
 * @param db database name (the key prefix)
 * @param lineageId unique id of this lineage
 * @param pageSize bytes per page (0 if not known yet)
 * @param createdMs creation time, ms since the epoch
 * @param parent the branch point, or null for a root lineage
 */
public record Lineage(String db, String lineageId, int pageSize, long createdMs, Parent parent) {

  /**
   * Where a branch starts: its own segments begin at {@code txid + 1} with checksumBefore equal to
   * {@code checksum}.
   *
   * @param db parent database name
   * @param lineageId parent lineage id
   * @param txid last parent TXID the branch includes
   * @param checksum parent database checksum at {@code txid}
   */
  public record Parent(String db, String lineageId, long txid, long checksum) {}

  /**
   * Parses a manifest strictly (segment-format's {@link LineageManifest}); {@code source} names it
   * in errors.
   *
   * @throws dev.walship.format.InvalidBucketObjectException if it is not a valid version-1 manifest
   */
  public static Lineage parse(byte[] json, String source) {
    return of(LineageManifest.fromJson(json, source));
  }

  /** The same manifest as segment-format's type. */
  public static Lineage of(LineageManifest m) {
    LineageManifest.Parent p = m.parent();
    return new Lineage(m.db(), m.lineageId(), m.pageSize(), m.createdMs(),
        p == null ? null : new Parent(p.db(), p.lineageId(), p.txid(), p.checksum()));
  }

  /** As segment-format's type (validates the fields). */
  public LineageManifest toManifest() {
    return LineageManifest.of(db, lineageId, pageSize, createdMs, parent == null ? null
        : new LineageManifest.Parent(parent.db(), parent.lineageId(), parent.txid(), parent.checksum()));
  }

  /** The manifest's JSON bytes. */
  public byte[] toJson() {
    return toManifest().toJson();
  }
}
