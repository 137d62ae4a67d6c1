package dev.walship.restore;

import java.util.List;

/**
 * Everything a database's history can be rebuilt from: its lineage chain (root first) and the
 * level-0 segments and snapshots that belong to its history, a parent's only up to the branch
 * point. Built from LISTs of {@code L0/} and {@code snapshots/} under each database of the chain.
 *
 * @param db the database
 * @param chain lineage manifests, root lineage first, {@code db}'s own last
 * @param level0 level-0 segments in TXID order
 * @param snapshots snapshots in TXID order
 */
public record Timeline(String db, List<Lineage> chain, List<Entry> level0, List<Entry> snapshots) {

  /**
   * One object of the history.
   *
   * @param key object key
   * @param db database the object is stored under
   * @param firstTxid TXID from its key (the snapshot's TXID for a snapshot)
   * @param capTxid last TXID of this object that belongs to the history (a branch point), or
   *     {@link Long#MAX_VALUE}
   * @param sizeBytes size from the listing
   */
  public record Entry(String key, String db, long firstTxid, long capTxid, long sizeBytes) {}

  /** The lineage of {@link #db()}. */
  public Lineage lineage() {
    return chain.get(chain.size() - 1);
  }
}
