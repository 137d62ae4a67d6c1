package dev.walship.restore;

import java.util.List;

/**
 * The fewest objects that rebuild a database at one TXID, in apply order: optionally a snapshot,
 * then consecutive level-0 segments (across the parent lineages of a branch).
 *
 * @param db database restored (a branch's own name for a branch)
 * @param lineageId lineage of {@code db}
 * @param pageSize bytes per page
 * @param targetTxid the TXID the restored database will be at
 * @param targetChecksum database checksum recorded for {@code targetTxid}
 * @param targetCommitTimeMillis commit time recorded for {@code targetTxid}, ms since the epoch
 * @param objects what to download and apply, in order
 */
public record RestorePlan(
    String db,
    String lineageId,
    int pageSize,
    long targetTxid,
    long targetChecksum,
    long targetCommitTimeMillis,
    List<PlannedObject> objects) {

  /**
   * One object of a plan.
   *
   * @param key object key
   * @param db database (key prefix) the object belongs to, a parent's for branch history
   * @param snapshot whether it is read from {@code snapshots/} (applied as a SNAPSHOT)
   * @param firstTxid first TXID the object covers (from its key)
   * @param applyUptoTxid the TXID this object is applied up to (inclusive): the next object's first
   *     TXID minus one, a branch point, or the plan's target
   * @param sizeBytes object size in bytes (from the listing)
   */
  public record PlannedObject(
      String key, String db, boolean snapshot, long firstTxid, long applyUptoTxid, long sizeBytes) {}

  /** Total bytes to download. */
  public long totalBytes() {
    return objects.stream().mapToLong(PlannedObject::sizeBytes).sum();
  }
}
