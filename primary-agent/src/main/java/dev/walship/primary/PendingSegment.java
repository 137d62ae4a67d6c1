package dev.walship.primary;

import dev.walship.format.SegmentKind;
import java.nio.file.Path;
import java.util.List;

/**
 * A finished segment file waiting in the spool directory to be uploaded.
 *
 * @param kind incremental or snapshot
 * @param firstTxid first TXID it holds
 * @param lastTxid last TXID it holds
 * @param file the encoded segment in the spool directory (deleted once uploaded)
 * @param bytes size of {@code file}
 * @param keys object keys to create, in order (a snapshot goes to {@code L0/} and {@code
 *     snapshots/})
 * @param firstCommitMillis capture time of its first commit (for the lag metric)
 * @param lastCommitMillis capture time of its last commit
 */
record PendingSegment(
    SegmentKind kind,
    long firstTxid,
    long lastTxid,
    Path file,
    long bytes,
    List<String> keys,
    long firstCommitMillis,
    long lastCommitMillis) {}
