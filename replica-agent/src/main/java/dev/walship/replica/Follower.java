package dev.walship.replica;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.format.CorruptSegmentException;
import dev.walship.format.SegmentReader;
import dev.walship.replica.hrana.HranaStreams;
import dev.walship.restore.ChecksumChainException;
import dev.walship.restore.DatabaseFailedException;
import dev.walship.restore.Lineage;
import dev.walship.restore.PageApplier;
import dev.walship.restore.RestorePlan;
import dev.walship.restore.RestorePlanner;
import dev.walship.restore.RestoreProgress;
import dev.walship.restore.RestoreTarget;
import dev.walship.restore.Restorer;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStoreException;
import dev.walship.store.StoredObject;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one database of the bucket: bootstraps the replica file from the restore planner
 * (latest snapshot plus level-0 segments), then polls for the next segment and applies it through
 * the restore tool's {@link PageApplier}, publishing each new TXID to the {@link ServedDatabase}.
 *
 * <h2>Requests</h2>
 *
 * A caught-up follower makes one GET per poll, of exactly {@code {db}/L0/{txid+1:016x}.seg} (a
 * cheap 404 while nothing is new); it never LISTs per poll. LIST (with {@code start-after}) is used
 * only to bootstrap and, every {@link Settings#gapCheckInterval()} while the expected key stays
 * absent, to see whether a later segment exists (a gap: history the replica needs was deleted);
 * the same check GETs {@code lineage.json} to notice a database replaced under the same name.
 *
 * <h2>Failures</h2>
 *
 * A corrupt object, a gap, or a checksum chain broken before any page was written leaves the file
 * exactly the primary's at {@link ServedDatabase#txid()}: the database is STALLED (still served,
 * answers say why). A checksum mismatch after pages were written, or a failed crash repair, makes
 * it UNAVAILABLE (never served) until a re-bootstrap from the latest snapshot, done automatically
 * when {@link Settings#autoRebootstrap()} is set. Every failure is logged, counted and kept for
 * {@code /v1/status}.
 *
 * <p>Crash safety is the applier's: a pending intent is repaired when the applier opens, before the
 * database is marked SERVING.
 *
 * <p>Not thread-safe: one poll at a time (the agent schedules it with a fixed delay); {@link
 * #status()} may be read from any thread.
 */
public final class Follower implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Follower.class);

  /**
   * How a follower polls and recovers.
   *
   * @param pollInterval delay between polls when caught up
   * @param gapCheckInterval while caught up, how often a LIST checks for a later segment (a gap)
   * @param autoRebootstrap re-bootstrap from the latest snapshot when the file cannot advance
   * @param maxReadConnections read connections per database
   * @param readBusyTimeout how long a read waits for an apply's EXCLUSIVE lock
   * @param maxSegmentsPerApply segments applied in one step when the replica is behind
   */
  public record Settings(
      Duration pollInterval,
      Duration gapCheckInterval,
      boolean autoRebootstrap,
      int maxReadConnections,
      Duration readBusyTimeout,
      int maxSegmentsPerApply) {

    public static Settings defaults() {
      return new Settings(
          Duration.ofSeconds(1), Duration.ofMinutes(5), false, 8, Duration.ofSeconds(30), 16);
    }
  }

  /** What one poll did. */
  public enum PollResult {
    APPLIED,
    CAUGHT_UP,
    STALLED,
    UNAVAILABLE
  }

  /** Segments smaller than this are read into memory; larger ones go through a file. */
  private static final long INLINE_BYTES = 8L << 20;

  /** How long a missing key with later keys present may stay missing before it is a gap, ms. */
  private static final long GAP_CONFIRM_MILLIS = 10_000;

  /** How often a database that is unavailable for a transient reason retries, ms. */
  private static final long RETRY_MILLIS = 5_000;

  /** Unsynced segments after which a caught-up poll fsyncs the applied pages. */
  static final int SYNC_AFTER_SEGMENTS = 16;

  private final String db;
  private final ObjectStore store;
  private final Path file;
  private final Path workDir;
  private final Settings settings;
  private final Clock clock;
  private final ServedDatabase served;
  private final HranaStreams streams;
  private final ReplicaMetrics metrics;
  private final RestorePlanner planner;
  private PageApplier applier;
  private volatile long appliedTxid;
  private String lineageId;
  private volatile boolean caughtUp;
  private volatile String lastError;
  private volatile long lastErrorAtMillis;
  private long lastGapCheckMillis;
  private long lastRetryMillis;
  private long gapSuspectTxid = -1;
  private String unavailableKind;
  private long failedKeyTxid = -1;
  private volatile long lastFoundMillis = Long.MIN_VALUE;
  private final Prefetch prefetch = new Prefetch();

  /**
   * @param db database name (its prefix in the bucket)
   * @param store the bucket (root = the source URL's prefix)
   * @param dir directory of replica files: {@code dir/db.db} and its sidecar state
   * @param streams the server's stream table (transactions of a re-bootstrapped db are closed)
   */
  public Follower(
      String db,
      ObjectStore store,
      Path dir,
      Settings settings,
      Clock clock,
      HranaStreams streams,
      MeterRegistry registry,
      java.util.function.LongSupplier nanoTime) {
    this.db = db;
    this.store = store;
    this.file = dir.resolve(db + ".db");
    this.workDir = dir.resolve(".walship-tmp").resolve(db);
    this.settings = settings;
    this.clock = clock;
    this.streams = streams;
    this.served =
        new ServedDatabase(db, file, settings.maxReadConnections(), settings.readBusyTimeout(), nanoTime);
    this.metrics =
        new ReplicaMetrics(registry, db, this, f -> f.served.txid(), f -> f.lagSeconds());
    this.planner = new RestorePlanner(store);
  }

  public String name() {
    return db;
  }

  public ServedDatabase served() {
    return served;
  }

  /**
   * Opens the replica file (repairing an interrupted apply) and bootstraps it if it is empty. On
   * failure the database stays UNAVAILABLE and {@link #poll()} retries the start.
   */
  public void start() {
    try {
      Files.createDirectories(file.getParent());
      Files.createDirectories(workDir);
      Lineage lineage = fetchLineage();
      if (lineage == null) {
        unavailable("lineage", "no " + BucketLayout.lineageKey(db) + " in the bucket yet");
        return;
      }
      lineageId = lineage.lineageId();
      lastGapCheckMillis = clock.millis();
      openApplier();
      if (applier == null) {
        return;
      }
      appliedTxid = applier.txid();
      if (applier.txid() == 0) {
        bootstrap();
      } else {
        publish(applier.txid(), 0);
        LOG.info("{}: replica file at TXID {} (repaired and verified on open)", db, applier.txid());
      }
    } catch (IOException e) {
      unavailable("io", "cannot prepare " + file + ": " + e.getMessage());
    } catch (ObjectStoreException e) {
      unavailable("store", "bucket unreachable while starting: " + e.getMessage());
    }
  }

  /** One poll: applies every segment already in the bucket after the served TXID. */
  public PollResult poll() {
    prefetch.newPoll();
    if (applier == null && appliedTxid == 0) {
      long now = clock.millis();
      if (lastRetryMillis != 0 && now - lastRetryMillis < RETRY_MILLIS) {
        return PollResult.UNAVAILABLE;
      }
      lastRetryMillis = now;
      start();
      if (applier == null || applier.txid() == 0) {
        return PollResult.UNAVAILABLE;
      }
    }
    if (served.health().state() == ServedDatabase.Health.State.UNAVAILABLE && transientKind()) {
      // Bootstrap, open or I/O failed without proving the file wrong: retry now and then.
      long now = clock.millis();
      if (now - lastRetryMillis < RETRY_MILLIS) {
        return PollResult.UNAVAILABLE;
      }
      lastRetryMillis = now;
      if (applier != null && appliedTxid == 0) {
        bootstrap();
      } else if (applier != null) {
        closeApplier();
        try {
          openApplier(); // repairs an interrupted apply, verifying the checksum
        } catch (IOException | RuntimeException e) {
          unavailable("io", "reopening " + file + " failed: " + e.getMessage());
          return PollResult.UNAVAILABLE;
        }
        if (applier != null) {
          appliedTxid = applier.txid();
          publish(appliedTxid, served.commitTimeMillis());
        }
      }
      if (served.health().state() == ServedDatabase.Health.State.UNAVAILABLE) {
        return PollResult.UNAVAILABLE;
      }
    }
    if (served.health().state() == ServedDatabase.Health.State.UNAVAILABLE) {
      if (!settings.autoRebootstrap()) {
        return PollResult.UNAVAILABLE;
      }
      rebootstrap("the replica file cannot be trusted: " + lastError);
      return served.health().state() == ServedDatabase.Health.State.UNAVAILABLE
          ? PollResult.UNAVAILABLE
          : PollResult.APPLIED;
    }
    boolean appliedAny = false;
    while (true) {
      PollResult r = step();
      if (r == PollResult.APPLIED) {
        appliedAny = true;
        continue;
      }
      if (r == PollResult.CAUGHT_UP) {
        syncIfDue();
      }
      if (r == PollResult.CAUGHT_UP && appliedAny) {
        return PollResult.APPLIED;
      }
      return r;
    }
  }

  /**
   * Fsyncs the applied pages ({@link PageApplier#sync}) while caught up, so the fsync is not on
   * the path from a new segment to readers: when {@value #SYNC_AFTER_SEGMENTS} segments or more
   * are unsynced, or no segment came for a second (idle). Until then a crash is repaired from the
   * applier's recorded intent.
   */
  private void syncIfDue() {
    if (applier == null) {
      return;
    }
    int unsynced = applier.unsyncedSegments();
    if (unsynced == 0) {
      return;
    }
    long found = lastFoundMillis;
    boolean idle = found == Long.MIN_VALUE
        || clock.millis() - found >= Math.max(1000, settings.pollInterval().toMillis());
    if (unsynced >= SYNC_AFTER_SEGMENTS || idle) {
      try {
        applier.sync();
      } catch (UncheckedIOException e) {
        unavailable("io", "fsync of " + file + " failed: " + e.getMessage());
      }
    }
  }

  private PollResult step() {
    long t = appliedTxid;
    String key = BucketLayout.level0Key(db, t + 1);
    Path tmp = workDir.resolve(BucketLayout.hex(t + 1) + ".seg");
    List<PageApplier.SegmentRef> batch = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    files.add(tmp);
    try {
      Prefetch.Taken taken = prefetch.take(t + 1, settings.maxSegmentsPerApply());
      SegmentReader reader;
      if (taken.absent()) {
        reader = null; // the prefetch GET of this key, started in this poll, was a 404
      } else if (!taken.readers().isEmpty()) {
        reader = taken.readers().get(0);
        for (SegmentReader r : taken.readers()) {
          batch.add(new PageApplier.SegmentRef(BucketLayout.level0Key(db, r.firstTxid()), r));
        }
      } else {
        try {
          reader = fetch(key, tmp);
        } catch (ObjectStoreException e) {
          caughtUp = false; // unknown: lag now counts from the last applied commit
          recordError("store", "GET " + key + " failed: " + e.getMessage());
          return PollResult.STALLED;
        }
        if (reader != null) {
          batch.add(new PageApplier.SegmentRef(key, reader));
        }
      }
      if (reader == null) {
        caughtUp = true;
        return checkGap(t, key);
      }
      lastFoundMillis = clock.millis();
      if (applier == null) {
        // Closed while idle (see releaseHandles): reopen; a pending intent is repaired first.
        try {
          openApplier();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        if (applier == null) {
          return PollResult.UNAVAILABLE;
        }
        appliedTxid = applier.txid();
        if (appliedTxid != t) {
          return PollResult.APPLIED;
        }
      }
      if (reader.firstTxid() != t + 1) {
        return stall(
            "corrupt",
            key + " is named for TXID " + (t + 1) + " but starts at TXID " + reader.firstTxid());
      }
      SegmentReader lastReader = batch.get(batch.size() - 1).reader();
      // While this batch is applied, the next segments are fetched (one GET in flight).
      prefetch.startAfter(lastReader.lastTxid() + 1, settings.maxSegmentsPerApply());
      CommitRecord last = lastReader.commits().get(lastReader.commits().size() - 1);
      long start = System.nanoTime();
      Lock w = served.applyLock().writeLock();
      w.lock();
      try {
        applier.apply(batch, lastReader.lastTxid());
        appliedTxid = applier.txid();
        publish(appliedTxid, last.commitTimeMillis());
      } finally {
        w.unlock();
      }
      metrics.applied(System.nanoTime() - start);
      caughtUp = false;
      failedKeyTxid = -1;
      lastError = null;
      return PollResult.APPLIED;
    } catch (CorruptSegmentException e) {
      return stall("corrupt", "refused corrupt object " + key + ": " + e.getMessage());
    } catch (ChecksumChainException e) {
      if (e.stage() == ChecksumChainException.Stage.POST_APPLY) {
        unavailable("checksum", "applying " + e.key() + " did not give the primary's database: " + e.getMessage());
        return PollResult.UNAVAILABLE;
      }
      return stall("checksum", "refused " + e.key() + ": " + e.getMessage());
    } catch (DatabaseFailedException e) {
      unavailable("failed", e.getMessage());
      return PollResult.UNAVAILABLE;
    } catch (IllegalArgumentException e) {
      return stall("gap", "cannot apply " + key + ": " + e.getMessage());
    } catch (UncheckedIOException e) {
      unavailable("io", "apply of " + key + " failed: " + e.getMessage());
      return PollResult.UNAVAILABLE;
    } finally {
      for (PageApplier.SegmentRef r : batch) {
        r.reader().close();
      }
      files.forEach(Follower::deleteQuietly);
    }
  }

  /**
   * GETs a segment: small ones (the usual level-0 segment) straight into memory with one ranged
   * GET and no disk write; one larger than {@link #INLINE_BYTES} (a resync snapshot) is fetched
   * again into {@code tmp} and memory-mapped, so memory stays bounded.
   *
   * @return the opened (verified) reader, or null if the object does not exist (a cheap 404)
   * @throws CorruptSegmentException if the object is not a valid segment
   */
  private SegmentReader fetch(String key, Path tmp) {
    long start = System.nanoTime();
    Optional<byte[]> head = store.getRange(key, 0, INLINE_BYTES);
    metrics.fetchTime(System.nanoTime() - start);
    metrics.get(head.isPresent());
    if (head.isEmpty()) {
      return null;
    }
    metrics.fetched();
    if (head.get().length < INLINE_BYTES) {
      return SegmentReader.open(head.get(), key);
    }
    boolean found = store.getToFile(key, tmp);
    metrics.get(found);
    if (!found) {
      return null;
    }
    return SegmentReader.open(tmp, key);
  }

  /**
   * Fetches the level-0 segments after the batch being applied, one GET in flight at a time, on a
   * virtual thread, so a GET and an apply overlap and a replica that is behind keeps fetching while
   * objects keep arriving. At most {@code max} fetched segments wait (each under {@link
   * #INLINE_BYTES}, held in memory); the chain stops at the first absent key (remembered, so the
   * poll need not GET it again), a larger object, or any failure (the poll then GETs that key itself
   * and reports what is wrong). Readers handed out are owned by the caller.
   */
  private final class Prefetch {
    /** What {@link #take} found. */
    record Taken(List<SegmentReader> readers, boolean absent) {}

    private final java.util.ArrayDeque<SegmentReader> ready = new java.util.ArrayDeque<>();
    private boolean running;
    private long generation;
    private long pollSeq;
    private long absentTxid = -1;
    private long absentPollSeq = -1;

    synchronized void newPoll() {
      pollSeq++;
    }

    /** Starts the chain at key {@code next} unless it runs already (it then continues by itself). */
    synchronized void startAfter(long next, int max) {
      if (running || ready.size() >= max) {
        return;
      }
      long from = ready.isEmpty() ? next : ready.peekLast().lastTxid() + 1;
      running = true;
      long gen = generation;
      Thread.ofVirtual().name("walship-prefetch-" + db).start(() -> chain(gen, from, max));
    }

    private void chain(long gen, long from, int max) {
      long next = from;
      try {
        while (true) {
          long seq;
          synchronized (this) {
            if (gen != generation || ready.size() >= max) {
              return;
            }
            seq = pollSeq;
          }
          String key = BucketLayout.level0Key(db, next);
          long start = System.nanoTime();
          Optional<byte[]> head = store.getRange(key, 0, INLINE_BYTES);
          metrics.fetchTime(System.nanoTime() - start);
          metrics.get(head.isPresent());
          if (head.isPresent()) {
            metrics.fetched();
          }
          synchronized (this) {
            if (gen != generation) {
              return;
            }
            if (head.isEmpty()) {
              absentTxid = next;
              absentPollSeq = seq;
              return;
            }
            if (head.get().length >= INLINE_BYTES) {
              return; // a large object: the poll fetches it through a file
            }
          }
          SegmentReader r = SegmentReader.open(head.get(), key);
          synchronized (this) {
            if (gen != generation || r.firstTxid() != next) {
              r.close();
              return;
            }
            ready.addLast(r);
            next = r.lastTxid() + 1;
            notifyAll();
          }
        }
      } catch (RuntimeException e) {
        LOG.debug("{}: prefetch stopped: {}", db, e.getMessage());
      } finally {
        synchronized (this) {
          if (gen == generation) {
            running = false;
          }
          notifyAll();
        }
      }
    }

    /**
     * Waits for the GET in flight (if any), then takes the fetched segments that start at {@code
     * first} and follow each other (after the first, only INCREMENTAL ones, at most {@code max}).
     * Fetched segments that do not start at {@code first} are stale (the replica moved another way)
     * and are dropped.
     */
    synchronized Taken take(long first, int max) {
      while (running && ready.isEmpty()) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return new Taken(List.of(), false);
        }
      }
      if (ready.isEmpty()) {
        boolean absent = absentTxid == first && absentPollSeq == pollSeq;
        absentTxid = -1;
        return new Taken(List.of(), absent);
      }
      if (ready.peekFirst().firstTxid() != first) {
        reset();
        return new Taken(List.of(), false);
      }
      List<SegmentReader> out = new ArrayList<>();
      out.add(ready.pollFirst());
      long next = out.get(0).lastTxid() + 1;
      while (out.size() < max
          && !ready.isEmpty()
          && ready.peekFirst().firstTxid() == next
          && ready.peekFirst().kind() == dev.walship.format.SegmentKind.INCREMENTAL) {
        SegmentReader r = ready.pollFirst();
        out.add(r);
        next = r.lastTxid() + 1;
      }
      if (!ready.isEmpty() && ready.peekFirst().firstTxid() != next) {
        reset();
      }
      return new Taken(out, false);
    }

    /** Drops everything fetched; a chain still running stops and discards what it gets. */
    synchronized void reset() {
      generation++;
      running = false;
      absentTxid = -1;
      ready.forEach(SegmentReader::close);
      ready.clear();
      notifyAll();
    }
  }

  /** While caught up, now and then: is there a segment after the one we wait for (a gap)? */
  private PollResult checkGap(long t, String expectedKey) {
    long now = clock.millis();
    if (now - lastGapCheckMillis < settings.gapCheckInterval().toMillis()) {
      return healthAfterWait();
    }
    lastGapCheckMillis = now;
    Lineage current;
    try {
      current = fetchLineage();
    } catch (ObjectStoreException | IllegalArgumentException e) {
      recordError("store", "GET " + BucketLayout.lineageKey(db) + " failed: " + e.getMessage());
      return PollResult.STALLED;
    }
    if (current != null && lineageId != null && !current.lineageId().equals(lineageId)) {
      String why =
          "the database was replaced in the bucket: lineage " + current.lineageId()
              + " instead of " + lineageId;
      if (settings.autoRebootstrap()) {
        rebootstrap(why);
        return PollResult.APPLIED;
      }
      return stall("lineage", why);
    }
    List<ObjectInfo> after;
    try {
      after =
          store.list(BucketLayout.levelPrefix(db, 0), expectedKey, 100).stream()
              .filter(o -> BucketLayout.level0Txid(db, o.key()).isPresent())
              .toList();
      metrics.list();
    } catch (ObjectStoreException e) {
      recordError("store", "LIST after " + expectedKey + " failed: " + e.getMessage());
      return PollResult.STALLED;
    }
    if (after.isEmpty()) {
      gapSuspectTxid = -1;
      return healthAfterWait();
    }
    if (gapSuspectTxid != t) {
      // A later key exists but ours does not (yet): an upload may still be in flight. Only a gap
      // that is still there on a second look, a little later, is declared.
      gapSuspectTxid = t;
      long confirm = Math.min(settings.gapCheckInterval().toMillis(), GAP_CONFIRM_MILLIS);
      lastGapCheckMillis = now - settings.gapCheckInterval().toMillis() + confirm;
      return healthAfterWait();
    }
    String why =
        "gap in the bucket: the replica is at TXID " + t + " and needs " + expectedKey
            + ", which is missing, but " + after.get(0).key() + " exists";
    if (settings.autoRebootstrap()) {
      rebootstrap(why);
      return PollResult.APPLIED;
    }
    return stall("gap", why);
  }

  private PollResult healthAfterWait() {
    if (served.health().state() == ServedDatabase.Health.State.STALLED) {
      return PollResult.STALLED;
    }
    return PollResult.CAUGHT_UP;
  }

  private PollResult stall(String kind, String why) {
    long t = appliedTxid;
    if (failedKeyTxid != t + 1) {
      LOG.error("{}: stopped at TXID {}: {}", db, t, why);
      failedKeyTxid = t + 1;
    }
    recordError(kind, why);
    served.health(ServedDatabase.Health.State.STALLED, why);
    if (settings.autoRebootstrap() && kind.equals("corrupt") && latestSnapshotAfter(t)) {
      rebootstrap(why);
    }
    return PollResult.STALLED;
  }

  /** Whether the last UNAVAILABLE cause may go away by itself (nothing says the file is wrong). */
  private boolean transientKind() {
    return unavailableKind != null
        && (unavailableKind.equals("bootstrap")
            || unavailableKind.equals("io")
            || unavailableKind.equals("store")
            || unavailableKind.equals("open"));
  }

  private void unavailable(String kind, String why) {
    unavailableKind = kind;
    LOG.error("{}: not served: {}", db, why);
    recordError(kind, why);
    served.health(ServedDatabase.Health.State.UNAVAILABLE, why);
    streams.closeAll(served);
  }

  private void recordError(String kind, String why) {
    metrics.error(kind);
    lastError = why;
    lastErrorAtMillis = clock.millis();
  }

  private boolean latestSnapshotAfter(long t) {
    try {
      List<ObjectInfo> snaps = store.list(BucketLayout.snapshotPrefix(db), BucketLayout.snapshotKey(db, t), 1);
      metrics.list();
      return !snaps.isEmpty();
    } catch (ObjectStoreException e) {
      return false;
    }
  }

  private void publish(long txid, long commitTimeMillis) {
    if (txid < served.txid()) {
      served.health(
          ServedDatabase.Health.State.UNAVAILABLE,
          "catching up after a re-bootstrap: at TXID " + txid + ", served TXID was " + served.txid());
      return;
    }
    served.published(txid, commitTimeMillis);
  }

  private Lineage fetchLineage() {
    Optional<StoredObject> o = store.get(BucketLayout.lineageKey(db));
    metrics.get(o.isPresent());
    return o.map(s -> Lineage.parse(s.data(), BucketLayout.lineageKey(db))).orElse(null);
  }

  private void openApplier() throws IOException {
    try {
      applier = PageApplier.open(file, lineageId, this::fetchSegment);
      if (applier.failure().isPresent()) {
        String why = applier.failure().get();
        closeApplier();
        if (settings.autoRebootstrap()) {
          LOG.warn("{}: replica file was marked failed ({}); re-bootstrapping", db, why);
          deleteReplicaFiles();
          applier = PageApplier.open(file, lineageId, this::fetchSegment);
        } else {
          unavailable("failed", "replica file marked failed: " + why);
        }
      }
    } catch (IllegalStateException | DatabaseFailedException e) {
      // Another lineage (the database was replaced), a foreign file, or a failed repair.
      closeApplier();
      if (settings.autoRebootstrap()) {
        LOG.warn("{}: {}; re-bootstrapping from the bucket", db, e.getMessage());
        deleteReplicaFiles();
        applier = PageApplier.open(file, lineageId, this::fetchSegment);
      } else {
        unavailable("open", e.getMessage());
      }
    }
  }

  private SegmentReader fetchSegment(String key) {
    Path tmp = workDir.resolve("repair-" + Math.abs(key.hashCode()) + ".seg");
    if (!store.getToFile(key, tmp)) {
      metrics.get(false);
      throw new IllegalStateException("segment " + key + " needed for crash repair is missing");
    }
    metrics.get(true);
    metrics.fetched();
    try {
      byte[] bytes = Files.readAllBytes(tmp);
      return SegmentReader.open(bytes, key);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(tmp);
    }
  }

  private void bootstrap() {
    RestorePlan plan;
    try {
      plan = planner.plan(db, new RestoreTarget.Latest());
      metrics.list();
    } catch (RuntimeException e) {
      unavailable("bootstrap", "cannot plan the bootstrap of " + db + ": " + e.getMessage());
      return;
    }
    Restorer restorer = new Restorer(store, Restorer.Options.defaults(), RestoreProgress.none());
    Lock w = served.applyLock().writeLock();
    w.lock();
    try {
      restorer.applyPlan(plan, applier, workDir);
      for (int i = 0; i < plan.objects().size(); i++) {
        metrics.fetched();
      }
      appliedTxid = applier.txid();
      publish(appliedTxid, plan.targetCommitTimeMillis());
      LOG.info(
          "{}: bootstrapped to TXID {} from {} objects ({} bytes)",
          db, applier.txid(), plan.objects().size(), plan.totalBytes());
    } catch (RuntimeException e) {
      unavailable("bootstrap", "bootstrap of " + db + " failed: " + e.getMessage());
    } finally {
      w.unlock();
    }
  }

  /** Replaces the replica file with a fresh bootstrap from the latest snapshot and segments. */
  private void rebootstrap(String why) {
    LOG.warn("{}: re-bootstrapping from the latest snapshot: {}", db, why);
    prefetch.reset();
    served.health(ServedDatabase.Health.State.UNAVAILABLE, "re-bootstrapping: " + why);
    served.close();
    streams.closeAll(served);
    try {
      if (!served.awaitIdle(Duration.ofSeconds(30))) {
        unavailable("bootstrap", "re-bootstrap postponed: read connections still open after 30 s");
        served.reopen();
        return;
      }
      closeApplier();
      deleteReplicaFiles();
      Lineage lineage = fetchLineage();
      String newId = lineage == null ? null : lineage.lineageId();
      if (newId != null && !newId.equals(lineageId)) {
        LOG.warn("{}: now following lineage {} (was {}); TXIDs start again", db, newId, lineageId);
        Lock w = served.applyLock().writeLock();
        w.lock();
        try {
          served.newLineage();
        } finally {
          w.unlock();
        }
      }
      lineageId = newId;
      appliedTxid = 0;
      applier = PageApplier.open(file, lineageId, this::fetchSegment);
    } catch (IOException | RuntimeException e) {
      unavailable("bootstrap", "re-bootstrap failed: " + e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } finally {
      served.reopen();
    }
    failedKeyTxid = -1;
    bootstrap();
  }

  private void deleteReplicaFiles() throws IOException {
    Files.deleteIfExists(file);
    Files.deleteIfExists(file.resolveSibling(file.getFileName() + "-journal"));
    for (Path sidecar : PageApplier.sidecarFiles(file)) {
      Files.deleteIfExists(sidecar);
    }
  }

  private void closeApplier() {
    if (applier != null) {
      applier.close();
      applier = null;
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.debug("cannot delete {}: {}", p, e.getMessage());
    }
  }

  /**
   * Closes the applier (its file descriptor and SQLite connection) and idle read connections of an
   * idle database, so a replica of many databases keeps only the busy ones open. Refused while a
   * read connection is in use. Call from the thread that polls (or with the same lock).
   *
   * @return true if nothing is held open any more
   */
  public boolean releaseHandles() {
    if (applier == null) {
      served.closeIdleConnections();
      return true;
    }
    ServedDatabase.Health.State state = served.health().state();
    if (state == ServedDatabase.Health.State.UNAVAILABLE) {
      return false;
    }
    return served.whenNoConnections(
        () -> {
          applier.close();
          applier = null;
        });
  }

  /**
   * How long to wait before the next poll: the poll interval when idle; a quarter of it (at least
   * 1 ms) for one poll interval after a segment was found, so a replica that is being written to
   * picks up the next segment soon after the primary uploads it. A caught-up, idle replica still
   * makes one GET per poll interval.
   */
  public Duration nextPollDelay() {
    long interval = Math.max(1, settings.pollInterval().toMillis());
    long found = lastFoundMillis;
    if (found != Long.MIN_VALUE && clock.millis() - found < interval) {
      return Duration.ofMillis(Math.max(1, interval / 4));
    }
    return Duration.ofMillis(interval);
  }

  /** True while the applier (and so the file) is open. */
  public boolean handlesOpen() {
    return applier != null;
  }

  /** Seconds the served data may be behind the primary: 0 when caught up. */
  double lagSeconds() {
    if (caughtUp && served.health().state() == ServedDatabase.Health.State.SERVING) {
      return 0;
    }
    long commit = served.commitTimeMillis();
    if (commit <= 0) {
      return 0;
    }
    return Math.max(0, clock.millis() - commit) / 1000.0;
  }

  /** For {@code /v1/status}. */
  public DatabaseCatalog.DatabaseStatus status() {
    ServedDatabase.Health h = served.health();
    return new DatabaseCatalog.DatabaseStatus(
        db, h.state().name(), served.txid(), lagSeconds(), lastError, lastErrorAtMillis);
  }

  /** Store requests made so far (GETs, LISTs), for the idle-cost measurement. */
  public double storeRequests() {
    return metrics.getCount() + metrics.listCount();
  }

  @Override
  public void close() {
    prefetch.reset();
    streams.closeAll(served);
    served.close();
    if (applier != null) {
      applier.close();
      applier = null;
    }
  }
}
