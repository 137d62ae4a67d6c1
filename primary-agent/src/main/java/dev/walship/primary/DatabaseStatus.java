package dev.walship.primary;

/**
 * A point-in-time view of one shipped database, as served by {@code GET /v1/status}.
 *
 * @param db database name
 * @param path database file
 * @param state STARTING, RUNNING, RECOVERING, FENCED or STOPPED
 * @param capturedTxid last TXID captured from the WAL
 * @param durableTxid last TXID durable in the bucket
 * @param lagSeconds age of the oldest captured commit not yet durable (0 when caught up)
 * @param walBytes size of the {@code -wal} file
 * @param checkpoints checkpoints the agent ran (PASSIVE, including partial)
 * @param snapshots snapshots taken (initial and resync)
 * @param resyncs resyncs after start-up (an unexpected WAL restart, a replaced database file, a
 *     capture error); each either matched the lineage or took a snapshot
 * @param lastError last error message, or null
 */
public record DatabaseStatus(
    String db,
    String path,
    String state,
    long capturedTxid,
    long durableTxid,
    double lagSeconds,
    long walBytes,
    long checkpoints,
    long snapshots,
    long resyncs,
    String lastError) {}
