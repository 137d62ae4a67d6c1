package dev.walship.primary;

import dev.walship.format.BucketLayout;
import dev.walship.format.Compression;
import dev.walship.format.CorruptSegmentException;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentWriter;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStoreException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships one database: the capture loop ({@link Capturer} + {@link Checkpointer} + {@link
 * SegmentBuilder}) on one thread, the {@link Uploader} on another, under a {@link LeaseKeeper}.
 *
 * <h2>Lifecycle (the {@code state} in {@link DatabaseStatus})</h2>
 *
 * <dl>
 *   <dt>STARTING
 *   <dd>{@link #start()}: opens the database (WAL mode), acquires the lease (refusing if another
 *       live primary holds it), reads the lineage's position ({@link LineageBootstrap}), uploads
 *       segments an earlier run left in the spool ({@link SpoolReplay}) and resyncs the capture
 *       to the result: resume without a snapshot when the local database matches,
 *       snapshot otherwise (and for a new lineage).
 *   <dt>RUNNING
 *   <dd>every poll interval (5 ms; 40 ms once nothing was committed for 2 s): capture new
 *       commits; cut a segment when there are commits,
 *       no upload is in flight, and the sync interval passed since the last cut (continuous
 *       mode: at once); checkpoint when due; write a periodic snapshot to {@code snapshots/} when
 *       the snapshot interval passed (counted from the bucket's newest snapshot, whose time is
 *       read at start-up); once a snapshot is uploaded, run {@link Retention} (if configured) on
 *       a virtual thread, at most once an hour. An idle database makes no request to the
 *       bucket.
 *   <dt>RECOVERING
 *   <dd>the capture failed (I/O or SQLite error): connections are reopened and the capture
 *       resyncs from the last complete commit it captured; retried every second until it works.
 *   <dt>FAILED
 *   <dd>a thread died of an unexpected error (a bug): logged with the TXIDs reached; nothing more
 *       is shipped.
 *   <dt>FENCED
 *   <dd>a conditional write lost: another primary writes this lineage. Nothing more is written.
 *   <dt>STOPPED
 *   <dd>after {@link #close()}, which first drains captured commits (bounded wait).
 * </dl>
 *
 * <p>Thread-safe: status, metrics and {@link #awaitDurable} may be called from any thread.
 */
public final class DatabaseAgent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DatabaseAgent.class);
  private static final long POLL_MILLIS = 5;
  /**
   * Poll period once nothing was committed for {@link #IDLE_AFTER_NANOS}: eight times fewer
   * wake-ups for an idle database (each poll reads the WAL header and stats two files), at the
   * cost of up to 40 ms more lag for the first commit after a quiet spell.
   */
  private static final long IDLE_POLL_MILLIS = 40;

  private static final long IDLE_AFTER_NANOS = 2_000_000_000L;
  private long lastActiveNanos = System.nanoTime();
  /** Retention runs at most this often (and only after a snapshot was uploaded). */
  static final long RETENTION_GAP_MILLIS = 3_600_000;
  /**
   * Spool files cut since {@link #flushBeforeBarrier} fsynced the spool, which {@link
   * #flushUnderBarrier} fsyncs with its own; null when there was no such flush since the last
   * barrier or the last {@link #ship} (then the barrier fsyncs every file waiting for upload).
   */
  private List<Path> cutSinceFlush;

  private final DatabaseOptions options;
  private final ObjectStore store;
  private final InstantSource clock;
  private final SegmentBuilder builder;
  private final Capturer capturer;
  private final Checkpointer checkpointer;
  private final LeaseKeeper lease;
  private final Uploader uploader;
  /** Null when retention is off. */
  private final Retention retention;

  private final Counter bytesUploaded;
  private final Counter objectsUploaded;
  private final Counter storeErrors;
  private final Counter checkpointsPassive;
  private final Counter checkpointsTruncate;
  private final Counter retentionDeleted;

  private volatile String state = "STARTING";
  private volatile String lastError;
  private volatile long capturedTxid;
  private volatile long walBytes;
  private volatile boolean stopping;
  /** syncNow callers waiting for the next poll + cut (guarded by this). */
  private List<CompletableFuture<Long>> syncRequests = new java.util.ArrayList<>();
  private Thread captureThread;
  private Thread uploadThread;
  private long lastCutMillis = Long.MIN_VALUE / 2;
  private volatile long recoveries;
  private long lastSnapshotMillis;
  private long lastSnapshotTxid = -1;
  /** A snapshot was uploaded since the last retention run. */
  private volatile boolean retentionDue;
  private long lastRetentionMillis = Long.MIN_VALUE / 2;
  private volatile Thread retentionThread;
  private volatile Retention.Report lastRetention;
  private volatile long retentionRuns;

  /**
   * @param store the bucket (root = the target URL); not closed by this agent
   * @param registry where per-database meters go (tag {@code db})
   * @param clock wall clock for commit records, lease and lag
   */
  public DatabaseAgent(
      DatabaseOptions options, ObjectStore store, MeterRegistry registry, InstantSource clock) {
    this.options = options;
    this.store = store;
    this.clock = clock;
    this.builder = new SegmentBuilder(options.name(), options.spoolDir(), options.compression());
    this.capturer = new Capturer(options.path(), builder, clock, 1000);
    this.checkpointer =
        new Checkpointer(capturer, options.checkpointPages(), options.truncatePages(),
            options.checkpointInterval(), System::nanoTime);
    this.lease =
        new LeaseKeeper(store, options.name(), LeaseKeeper.newHolderId(), clock, 30_000, 10_000);
    Tags tags = Tags.of("db", options.name());
    this.bytesUploaded = registry.counter("walship_primary_uploaded_bytes", tags);
    this.objectsUploaded = registry.counter("walship_primary_uploaded_objects", tags);
    this.storeErrors = registry.counter("walship_primary_s3_errors", tags);
    this.checkpointsPassive = registry.counter("walship_primary_checkpoints", tags.and("mode", "passive"));
    this.checkpointsTruncate =
        registry.counter("walship_primary_checkpoints", tags.and("mode", "truncate"));
    this.retentionDeleted = registry.counter("walship_primary_retention_deleted_objects", tags);
    this.retention =
        options.retention().isZero()
            ? null
            : new Retention(store, options.name(), options.retention(), clock);
    this.uploader =
        new Uploader(
            options.name(),
            store,
            lease,
            new Uploader.Listener() {
              @Override
              public void uploaded(PendingSegment s, String key, long bytes) {
                bytesUploaded.increment(bytes);
                objectsUploaded.increment();
                if (retention != null
                    && BucketLayout.snapshotTxid(options.name(), key).isPresent()) {
                  // The header's commit time was taken before this upload finished, so now is at
                  // or after it: retention may judge the snapshot later than it is, never earlier.
                  retention.snapshotUploaded(s.lastTxid(), clock.millis());
                  retentionDue = true;
                }
              }

              @Override
              public void failed(PendingSegment s, String key, RuntimeException error) {
                storeErrors.increment();
                lastError = "upload of " + key + ": " + error.getMessage();
              }
            },
            5_000);
    Gauge.builder("walship_primary_captured_txid", this, a -> a.capturedTxid).tags(tags).register(registry);
    Gauge.builder("walship_primary_durable_txid", uploader, u -> u.durableTxid()).tags(tags).register(registry);
    Gauge.builder("walship_primary_lag_seconds", this, DatabaseAgent::lagSeconds).tags(tags).register(registry);
    Gauge.builder("walship_primary_wal_bytes", this, a -> a.walBytes).tags(tags).register(registry);
    Gauge.builder("walship_primary_spool_bytes", uploader, u -> u.pendingBytes()).tags(tags).register(registry);
    Gauge.builder("walship_primary_snapshots", capturer, c -> c.snapshots()).tags(tags).register(registry);
    Gauge.builder("walship_primary_wal_extensions", checkpointer, c -> c.walExtensions())
        .description("times the agent extended the -wal file ahead of the app's writes")
        .tags(tags).register(registry);
  }

  public String name() {
    return options.name();
  }

  public DatabaseOptions options() {
    return options;
  }

  /**
   * Opens, takes the lease, resyncs with the bucket and starts the threads.
   *
   * @throws PrimaryException (or {@link LeaseHeldException}) with an operator-facing message
   */
  public void start() {
    capturer.open();
    try {
      try {
        lease.acquire();
      } catch (ObjectStoreException e) {
        throw new PrimaryException(
            "cannot use the bucket " + store.describe() + " for " + options.name() + ": "
                + e.getMessage(), e);
      }
      BucketPosition pos;
      try {
        pos = LineageBootstrap.position(
            store, options.name(), capturer.filePageSize(), options.spoolDir(), clock);
      } catch (ObjectStoreException e) {
        throw new PrimaryException(
            "cannot read the lineage of " + options.name() + " from " + store.describe() + ": "
                + e.getMessage(), e);
      }
      pos = SpoolReplay.replay(store, options.name(), options.spoolDir(), pos);
      uploader.startAt(pos.lastTxid());
      lastSnapshotMillis = clock.millis();
      if (capturer.resync(pos)) {
        lastSnapshotTxid = capturer.lastTxid(); // a resync snapshot is on its way: timer from now
      } else if (!options.snapshotInterval().isZero()) {
        learnNewestSnapshot();
      }
      capturedTxid = capturer.lastTxid();
    } catch (RuntimeException e) {
      capturer.close();
      throw e;
    }
    state = "RUNNING";
    uploadThread = Thread.ofPlatform().name("walship-upload-" + options.name()).daemon()
        .uncaughtExceptionHandler(this::died).start(uploader);
    captureThread = Thread.ofPlatform().name("walship-capture-" + options.name()).daemon()
        .uncaughtExceptionHandler(this::died).start(this::loop);
    log.info("{}: shipping {} to {} (sync interval {}, captured TXID {})", options.name(),
        options.path(), store.describe(), options.syncInterval(), capturedTxid);
  }

  /**
   * Points the periodic-snapshot timer at the bucket's newest snapshot (one LIST of {@code
   * snapshots/}, one 160-byte ranged GET), so restarts do not postpone snapshots forever, and
   * tells retention that snapshot's time.
   */
  private void learnNewestSnapshot() {
    try {
      SnapshotTime.newest(store, options.name()).ifPresent(p -> {
        lastSnapshotMillis = Math.min(p.commitMillis(), clock.millis());
        lastSnapshotTxid = p.txid();
        if (retention != null) {
          retention.knownSnapshot(p);
        }
      });
    } catch (CorruptSegmentException e) {
      log.warn("{}: cannot read the newest snapshot's time ({}); snapshot timer starts now",
          options.name(), e.getMessage());
    } catch (ObjectStoreException e) {
      throw new PrimaryException(
          "cannot read the snapshots of " + options.name() + " from " + store.describe() + ": "
              + e.getMessage(), e);
    }
  }

  /** A thread ended on an unexpected error: nothing more is shipped for this database. */
  private void died(Thread t, Throwable e) {
    state = "FAILED";
    lastError = t.getName() + " died: " + e;
    log.error("{}: {} died; this database is no longer shipped (captured TXID {}, durable {})",
        options.name(), t.getName(), capturedTxid, uploader.durableTxid(), e);
  }

  private void loop() {
    while (!stopping) {
      try {
        if (uploader.fenced() != null) {
          state = "FENCED";
          lastError = uploader.fenced().getMessage();
          return;
        }
        // Read a sync request before polling: the poll then sees every commit made before it.
        List<CompletableFuture<Long>> reqs = takeSyncRequests();
        if (capturer.poll() > 0 || !reqs.isEmpty()) {
          lastActiveNanos = System.nanoTime();
        }
        checkpointer.advancePin();
        checkpointer.syncAhead();
        capturedTxid = capturer.lastTxid();
        // Checkpoint before shipping: under constant load the uploader is idle only between
        // uploads, and the barrier's flush is then a single upload round trip.
        Checkpointer.Outcome o =
            checkpointer.maybeCheckpoint(this::segmentDue, this::cutBetweenPasses,
                this::flushBeforeBarrier, this::cutForUpload, this::flushUnderBarrier);
        checkpointer.maybePreallocate();
        capturer.session().holdCheckpointLock(); // no-op while held; see SqliteSession
        ship(!reqs.isEmpty());
        maybeSnapshot();
        maybeRetain();
        if (!reqs.isEmpty()) {
          if (builder.hasCommits()) {
            putBackSyncRequests(reqs); // an upload was in flight: cut on a later pass
          } else {
            for (CompletableFuture<Long> r : reqs) {
              r.complete(capturer.lastTxid()); // all captured is cut: callers await durability
            }
          }
        }
        if (o != Checkpointer.Outcome.NOT_NEEDED && o != Checkpointer.Outcome.WAITING_FOR_WRITER) {
          log.info("{}: checkpoint {} (WAL frames now {}, captured TXID {})", options.name(), o,
              capturer.walFrames(), capturer.lastTxid());
        }
        if (o == Checkpointer.Outcome.PASSIVE || o == Checkpointer.Outcome.PARTIAL) {
          checkpointsPassive.increment();
        } else if (o == Checkpointer.Outcome.TRUNCATE) {
          checkpointsPassive.increment();
          checkpointsTruncate.increment();
        }
        capturedTxid = capturer.lastTxid();
        walBytes = capturer.walBytes();
        if ("RECOVERING".equals(state)) {
          state = "RUNNING";
        }
        boolean quiet = !builder.hasCommits() && uploader.idle()
            && System.nanoTime() - lastActiveNanos > IDLE_AFTER_NANOS;
        pause(quiet ? IDLE_POLL_MILLIS : POLL_MILLIS);
      } catch (FencedException e) {
        state = "FENCED";
        lastError = e.getMessage();
        log.error("{}: FENCED: {}", options.name(), e.getMessage());
        return;
      } catch (RuntimeException e) {
        if (stopping) {
          return;
        }
        recover(e);
      }
    }
  }

  private void recover(RuntimeException cause) {
    state = "RECOVERING";
    recoveries++;
    lastError = String.valueOf(cause.getMessage());
    BucketPosition from = builder.abandonIncomplete();
    log.error("{}: capture failed ({}); reopening and resyncing from TXID {} — commits after it"
            + " are re-read from the WAL, or covered by a snapshot if the WAL no longer has them",
        options.name(), cause.toString(), from.lastTxid(), cause);
    while (!stopping) {
      try {
        capturer.close();
        capturer.open();
        capturer.resync(from);
        return;
      } catch (RuntimeException e) {
        lastError = String.valueOf(e.getMessage());
        log.error("{}: recovery failed: {}; retrying in 1 s", options.name(), e.getMessage());
        pause(1000);
      }
    }
  }

  private void ship(boolean force) {
    if (!builder.hasCommits() || !uploader.idle()) {
      return;
    }
    long now = clock.millis();
    long interval = options.syncInterval().toMillis();
    if (!force && interval > 0 && now - lastCutMillis < interval) {
      return;
    }
    cutForUpload();
    // A checkpoint waiting for the writer lock must fsync this new spool file under its barrier.
    cutSinceFlush = null;
  }

  private synchronized List<CompletableFuture<Long>> takeSyncRequests() {
    if (syncRequests.isEmpty()) {
      return List.of();
    }
    List<CompletableFuture<Long>> taken = syncRequests;
    syncRequests = new java.util.ArrayList<>();
    return taken;
  }

  private synchronized void putBackSyncRequests(List<CompletableFuture<Long>> reqs) {
    syncRequests.addAll(0, reqs);
  }

  /**
   * Writes a periodic snapshot to {@code snapshots/{txid}} once the snapshot interval passed
   * (counted from the bucket's newest snapshot, see {@link #learnNewestSnapshot}), at a segment boundary: nothing captured is waiting, no upload is in
   * flight, so the snapshot's TXID is the durable one.
   */
  private void maybeSnapshot() {
    long interval = options.snapshotInterval().toMillis();
    long now = clock.millis();
    if (interval == 0 || now - lastSnapshotMillis < interval) {
      return;
    }
    if (builder.hasCommits() || !uploader.idle()) {
      return;
    }
    long txid = capturer.lastTxid();
    lastSnapshotMillis = now;
    if (txid == lastSnapshotTxid) {
      return; // nothing new since the last one
    }
    Path file = options.spoolDir().resolve(options.name() + "-snapshot-" + BucketLayout.hex(txid) + ".seg");
    long bytes;
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.SNAPSHOT, 0, capturer.pageSize(), txid, 0,
            options.compression(), options.spoolDir())) {
      capturer.writeSnapshot(w);
      bytes = w.finishTo(file);
    }
    uploader.submit(new PendingSegment(SegmentKind.SNAPSHOT, txid, txid, file, bytes,
        List.of(BucketLayout.snapshotKey(options.name(), txid)), now, now));
    lastSnapshotTxid = txid;
    log.info("{}: periodic snapshot at TXID {} ({} bytes)", options.name(), txid, bytes);
  }

  /**
   * Starts a {@link Retention} run on a virtual thread when a snapshot was uploaded since the last
   * run, the last run started at least {@link #RETENTION_GAP_MILLIS} ago and none is running. An
   * idle database uploads no snapshot, so it never gets here. A failed run is retried after the
   * gap.
   */
  private void maybeRetain() {
    if (retention == null || !retentionDue || retentionThread != null) {
      return;
    }
    long now = clock.millis();
    if (now - lastRetentionMillis < RETENTION_GAP_MILLIS) {
      return;
    }
    retentionDue = false;
    lastRetentionMillis = now;
    // Published before it starts, so its own finally (which clears it) always comes after.
    Thread t = Thread.ofVirtual().name("walship-retention-" + options.name()).unstarted(() -> {
      try {
        Retention.Report r = retention.run();
        retentionDeleted.increment(r.deleted().size());
        lastRetention = r;
      } catch (RuntimeException e) {
        retentionDue = true;
        storeErrors.increment();
        lastError = "retention: " + e.getMessage();
        log.warn("{}: retention run failed ({}); retried in an hour", options.name(), e.toString());
      } finally {
        retentionRuns++;
        retentionThread = null;
      }
    });
    retentionThread = t;
    t.start();
  }

  /** The last completed retention run, or null (tests). */
  Retention.Report lastRetention() {
    return lastRetention;
  }

  /** Retention runs finished, successful or not (tests). */
  long retentionRuns() {
    return retentionRuns;
  }

  /**
   * Under the checkpoint barrier: cut everything captured into spool files and start fsyncing
   * them (plus those still waiting for upload) on {@link #SPOOL_FSYNC}, while the barrier runs its
   * PASSIVE; the returned action waits for the fsync. A crash after the checkpoint then loses
   * nothing: the next start uploads them before resyncing ({@link SpoolReplay}). No wait for the
   * bucket here, so the app's writers wait only for a local fsync, and an unreachable bucket does
   * not stop checkpoints.
   */
  private Runnable flushUnderBarrier() {
    List<Path> cut = new java.util.ArrayList<>();
    for (PendingSegment s : builder.cut()) {
      uploader.submit(s);
      cut.add(s.file());
    }
    if (!cut.isEmpty()) {
      lastCutMillis = clock.millis();
    }
    List<Path> files;
    if (cutSinceFlush == null) {
      files = uploader.pendingFiles();
    } else {
      files = cut;
      files.addAll(cutSinceFlush);
      cutSinceFlush = null;
    }
    if (files.isEmpty()) {
      return () -> { };
    }
    CompletableFuture<Void> fsync =
        CompletableFuture.runAsync(() -> builder.fsync(files), SPOOL_FSYNC);
    return fsync::join;
  }

  /** Spool fsyncs that overlap a checkpoint's PASSIVE, for every database of the process. */
  private static final java.util.concurrent.Executor SPOOL_FSYNC =
      java.util.concurrent.Executors.newCachedThreadPool(
          r -> Thread.ofPlatform().name("walship-spool-fsync").daemon().unstarted(r));

  /**
   * Continuous mode: always. With a sync interval: when the next segment is due (interval passed,
   * no upload in flight), so a checkpoint's cuts replace that segment instead of adding uploads
   * (they doubled the PUTs at 1,000 commits/s with a 1 s interval).
   */
  private boolean segmentDue() {
    long interval = options.syncInterval().toMillis();
    return interval == 0 || (uploader.idle() && clock.millis() - lastCutMillis >= interval);
  }

  /** Between the checkpoint's passes: hand what was captured to the uploader (continuous mode). */
  private void cutBetweenPasses() {
    if (options.syncInterval().isZero()) {
      cutForUpload();
    }
  }

  /**
   * Segments over this much page data are cut before the barrier even with a sync interval, so
   * the barrier never spools a large one while the app's writers wait.
   */
  private static final long CUT_BEFORE_BARRIER_BYTES = 4 << 20;

  /**
   * Hands everything captured to the uploader (no fsync) and records the time of the cut. Right
   * before a forced checkpoint's barrier, this cuts what was captured since {@link
   * #flushBeforeBarrier}, so the barrier does not encode it; {@link #flushUnderBarrier} fsyncs it.
   */
  private void cutForUpload() {
    for (PendingSegment s : builder.cut()) {
      uploader.submit(s);
      if (cutSinceFlush != null) {
        cutSinceFlush.add(s.file());
      }
    }
    lastCutMillis = clock.millis();
  }

  /**
   * Just before the checkpoint barrier, the app still writing: cut what was captured and fsync
   * every spool file waiting for upload, so {@link #flushUnderBarrier} only has the commits made
   * since (milliseconds' worth) to cut and fsync while the app's writers wait.
   */
  private void flushBeforeBarrier() {
    if (options.syncInterval().isZero() || checkpointer.forcing()
        || builder.openPageBytes() > CUT_BEFORE_BARRIER_BYTES) {
      cutForUpload();
    }
    builder.fsync(uploader.pendingFiles());
    cutSinceFlush = new java.util.ArrayList<>();
  }

  private synchronized void pause(long millis) {
    try {
      if (!stopping && syncRequests.isEmpty()) {
        wait(millis);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopping = true;
    }
  }

  private double lagSeconds() {
    long oldest = uploader.oldestPendingCommitMillis();
    if (oldest < 0) {
      oldest = builder.oldestCommitMillis();
    }
    return oldest < 0 ? 0 : Math.max(0, clock.millis() - oldest) / 1000.0;
  }

  /** The checkpointer (barrier counters; read them after {@link #close()}). */
  Checkpointer checkpointer() {
    return checkpointer;
  }

  /** Last TXID captured. */
  public long capturedTxid() {
    return capturedTxid;
  }

  /** Last TXID durable in the bucket. */
  public long durableTxid() {
    return uploader.durableTxid();
  }

  /**
   * Waits until TXID {@code txid} is durable in the bucket.
   *
   * @return true if durable within {@code timeoutMillis}
   */
  public boolean awaitDurable(long txid, long timeoutMillis) throws InterruptedException {
    return uploader.awaitDurable(txid, timeoutMillis);
  }

  /**
   * Captures whatever the WAL holds now, cuts a segment at once (ignoring the sync interval) and
   * waits until it is durable.
   *
   * @return the TXID that is now durable
   * @throws IllegalStateException if that did not happen within {@code timeoutMillis}
   */
  public long syncNow(long timeoutMillis) throws InterruptedException {
    CompletableFuture<Long> req = new CompletableFuture<>();
    synchronized (this) {
      syncRequests.add(req);
      notifyAll();
    }
    long txid;
    try {
      txid = req.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(options.name() + ": capture did not answer in time", e);
    }
    if (!uploader.awaitDurable(txid, timeoutMillis)) {
      throw new IllegalStateException(
          options.name() + ": TXID " + txid + " not durable after " + timeoutMillis + " ms"
              + (uploader.fenced() != null ? " (fenced)" : ""));
    }
    return txid;
  }

  public DatabaseStatus status() {
    return new DatabaseStatus(
        options.name(),
        options.path().toString(),
        state,
        capturedTxid,
        uploader.durableTxid(),
        lagSeconds(),
        walBytes,
        checkpointer.passiveCount(),
        capturer.snapshots(),
        capturer.resyncs() + recoveries,
        lastError);
  }

  /** Stops capturing, waits up to 10 s for captured commits to become durable, releases. */
  @Override
  public void close() {
    if (captureThread != null && uploader.fenced() == null && !stopping) {
      try {
        syncNow(10_000);
      } catch (RuntimeException | InterruptedException e) {
        log.warn("{}: could not drain before stopping: {}", options.name(), e.getMessage());
      }
    }
    synchronized (this) {
      stopping = true;
      notifyAll();
    }
    join(captureThread);
    join(retentionThread);
    uploader.stop();
    join(uploadThread);
    if (captureThread != null && uploader.fenced() == null) {
      lease.release();
    }
    builder.close();
    capturer.close();
    if (!"FENCED".equals(state)) {
      state = "STOPPED";
    }
  }

  /** Stops at once without draining or releasing the lease (tests: simulates a crash). */
  void halt() {
    synchronized (this) {
      stopping = true;
      notifyAll();
    }
    join(captureThread);
    join(retentionThread);
    uploader.stop();
    join(uploadThread);
    builder.close();
    capturer.close();
    state = "STOPPED";
  }

  private static void join(Thread t) {
    if (t == null) {
      return;
    }
    try {
      t.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
