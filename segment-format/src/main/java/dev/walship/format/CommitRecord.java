package dev.walship.format;

/**
 * One SQLite commit inside a segment: enough to stop a restore exactly after it.
 *
 * @param txid the commit's TXID (1 is the first commit walship ever captured for a lineage)
 * @param commitTimeMillis wall-clock time the primary captured the commit, ms since the epoch
 * @param dbSizePages database size in pages after this commit
 * @param checksumAfter {@link DatabaseChecksum} of the database after this commit
 */
public record CommitRecord(
    long txid, long commitTimeMillis, long dbSizePages, long checksumAfter) {}
