package dev.walship.primary;

import dev.walship.format.Compression;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How one database is shipped.
 *
 * @param name database name, the key prefix in the bucket ({@code {name}/L0/...})
 * @param path the application's SQLite file
 * @param target target URL of the bucket (see {@code ObjectStores.open})
 * @param syncInterval how often a segment is cut; {@link Duration#ZERO} = continuous (upload
 *     whenever there are new commits, one upload in flight, commits arriving meanwhile coalesced)
 * @param checkpointPages WAL frames after which the agent runs a PASSIVE checkpoint
 * @param truncatePages WAL frames after which the agent also truncates the WAL
 * @param spoolDir where finished segments wait for upload
 * @param snapshotInterval how often a periodic snapshot is written to {@code snapshots/} (at a
 *     segment boundary, when everything captured is durable); {@link Duration#ZERO} = never
 * @param compression how page images are stored in uploaded segments (LZ4 by default; NONE trades
 *     bucket bytes for agent CPU)
 * @param retention how long restore points are kept ({@link Retention}: after a periodic snapshot,
 *     at most once an hour, objects no restore point inside the window needs are deleted); {@link
 *     Duration#ZERO} = keep everything. Needs a snapshot interval.
 * @param checkpointInterval at most one checkpoint write barrier per interval (the app's writers
 *     wait while it is held), unless the WAL has passed 128 MiB or {@code truncatePages}
 *     ({@link Checkpointer#forcePages()}); {@link
 *     Duration#ZERO} = whenever the WAL passes {@code checkpointPages}
 */
public record DatabaseOptions(
    String name,
    Path path,
    String target,
    Duration syncInterval,
    long checkpointPages,
    long truncatePages,
    Path spoolDir,
    Duration snapshotInterval,
    Compression compression,
    Duration retention,
    Duration checkpointInterval) {

  public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofSeconds(1);
  public static final long DEFAULT_CHECKPOINT_PAGES = 1000;
  /**
   * Litestream's default (max-checkpoint-page-n, about 500 MB of 4 KiB pages): past this the
   * checkpoint interval is ignored. Lower values force a write barrier several times a second at
   * full write speed (20,000 frames fill in 0.35 s at 58,000 one-page commits/s).
   */
  public static final long DEFAULT_TRUNCATE_PAGES = 121_359;
  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(1);

  /** Snapshot interval used when retention is set and no interval is given. */
  public static final Duration DEFAULT_RETENTION_SNAPSHOT_INTERVAL = Duration.ofHours(1);

  public DatabaseOptions {
    if (syncInterval.isNegative() || snapshotInterval.isNegative() || retention.isNegative()
        || checkpointInterval.isNegative()) {
      throw new IllegalArgumentException(
          "intervals must be >= 0, got sync " + syncInterval + ", snapshot " + snapshotInterval
              + ", retention " + retention + ", checkpoint " + checkpointInterval);
    }
    if (!retention.isZero() && snapshotInterval.isZero()) {
      throw new IllegalArgumentException(
          "retention " + retention + " needs periodic snapshots: set a snapshot interval (e.g. 1h)");
    }
  }

  /** Defaults for one database: name = file name without extension, spool beside the file. */
  public static DatabaseOptions of(Path path, String target) {
    Path abs = path.toAbsolutePath();
    return new DatabaseOptions(
        defaultName(abs),
        abs,
        target,
        DEFAULT_SYNC_INTERVAL,
        DEFAULT_CHECKPOINT_PAGES,
        DEFAULT_TRUNCATE_PAGES,
        Path.of(abs + ".walship"),
        Duration.ZERO,
        Compression.LZ4,
        Duration.ZERO,
        DEFAULT_CHECKPOINT_INTERVAL);
  }

  /** The file name without its extension ({@code /data/app.db} → {@code app}). */
  public static String defaultName(Path path) {
    String f = path.getFileName().toString();
    int dot = f.lastIndexOf('.');
    return dot > 0 ? f.substring(0, dot) : f;
  }

  public DatabaseOptions withName(String n) {
    return new DatabaseOptions(n, path, target, syncInterval, checkpointPages, truncatePages, spoolDir, snapshotInterval, compression, retention, checkpointInterval);
  }

  public DatabaseOptions withSyncInterval(Duration d) {
    return new DatabaseOptions(name, path, target, d, checkpointPages, truncatePages, spoolDir, snapshotInterval, compression, retention, checkpointInterval);
  }

  public DatabaseOptions withCheckpointPages(long passive, long truncate) {
    return new DatabaseOptions(name, path, target, syncInterval, passive, truncate, spoolDir, snapshotInterval, compression, retention, checkpointInterval);
  }

  public DatabaseOptions withSpoolDir(Path dir) {
    return new DatabaseOptions(name, path, target, syncInterval, checkpointPages, truncatePages, dir, snapshotInterval, compression, retention, checkpointInterval);
  }

  public DatabaseOptions withSnapshotInterval(Duration d) {
    return new DatabaseOptions(name, path, target, syncInterval, checkpointPages, truncatePages, spoolDir, d, compression, retention, checkpointInterval);
  }

  public DatabaseOptions withCompression(Compression c) {
    return new DatabaseOptions(name, path, target, syncInterval, checkpointPages, truncatePages, spoolDir, snapshotInterval, c, retention, checkpointInterval);
  }

  /**
   * Keep restore points for {@code d} ({@link Duration#ZERO} = forever). With retention and no
   * snapshot interval yet, the interval becomes {@link #DEFAULT_RETENTION_SNAPSHOT_INTERVAL}.
   */
  public DatabaseOptions withRetention(Duration d) {
    Duration snaps =
        !d.isZero() && snapshotInterval.isZero() ? DEFAULT_RETENTION_SNAPSHOT_INTERVAL : snapshotInterval;
    return new DatabaseOptions(name, path, target, syncInterval, checkpointPages, truncatePages, spoolDir, snaps, compression, d, checkpointInterval);
  }

  public DatabaseOptions withTarget(String t) {
    return new DatabaseOptions(name, path, t, syncInterval, checkpointPages, truncatePages, spoolDir, snapshotInterval, compression, retention, checkpointInterval);
  }

  public DatabaseOptions withCheckpointInterval(Duration d) {
    return new DatabaseOptions(name, path, target, syncInterval, checkpointPages, truncatePages, spoolDir, snapshotInterval, compression, retention, d);
  }
}
