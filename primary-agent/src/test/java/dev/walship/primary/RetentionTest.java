package dev.walship.primary;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.BucketLayout;
import dev.walship.restore.Brancher;
import dev.walship.restore.RestorePlanner;
import dev.walship.restore.RestoreTarget;
import dev.walship.restore.RestoreTargetException;
import dev.walship.store.ObjectInfo;
import dev.walship.store.testing.InProcessS3;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention against a real S3 server (in-process) with a fake clock: a separate {@code sqlite3}
 * process writes one row per commit (so the rows at TXID n are exactly ids 1..n-1), the agent
 * ships it with hourly snapshots and a 3-hour retention while the test moves the clock, and the
 * restore tool (planner + restorer + brancher) checks what is left.
 */
class RetentionTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  static final long T0 = Instant.parse("2026-11-21T00:00:00Z").toEpochMilli();
  static final Duration STEP = Duration.ofMinutes(30);
  static final Duration RETENTION = Duration.ofHours(3);

  @TempDir Path dir;
  Harness h;
  final AtomicLong now = new AtomicLong(T0);
  final InstantSource clock = () -> Instant.ofEpochMilli(now.get());
  /** TXID -> fake-clock time of its commit. */
  final TreeMap<Long, Long> commitTimes = new TreeMap<>();
  Path db;
  long lastTxid;

  @BeforeEach
  void setUp() {
    h = new Harness(S3, dir);
    db = dir.resolve("app.db");
    Sqlite3.run(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
  }

  @AfterEach
  void tearDown() {
    h.close();
  }

  @Test
  void everyTxidInsideTheWindowRestoresAndOlderOnesAreReportedDeleted() throws Exception {
    DatabaseAgent agent = startAgent();
    runHours(agent, 10);
    agent.close();

    long cutoff = now.get() - RETENTION.toMillis();
    RestorePlanner planner = new RestorePlanner(h.store);
    long firstInWindow = firstTxidAtOrAfter(cutoff);
    RestoreTargetException gone =
        assertThrows(RestoreTargetException.class, () -> planner.plan("app", RestoreTarget.txid(1)));
    assertTrue(gone.getMessage().contains("deleted by retention"), gone.getMessage());
    long earliest = gone.nearestAfter().orElseThrow();
    assertTrue(earliest > 1, "history was deleted: earliest point " + earliest);
    assertTrue(earliest <= firstInWindow,
        "earliest point " + earliest + " must not be after the first TXID in the window " + firstInWindow);
    assertTrue(h.store.head(BucketLayout.snapshotKey("app", 1)).isEmpty(), "old snapshot deleted");
    assertTrue(h.store.head(BucketLayout.level0Key("app", 1)).isEmpty(), "old segment deleted");
    for (long t = firstInWindow; t <= lastTxid; t++) {
      assertRestoresTo("app", t, t);
    }
    RestoreTargetException before = assertThrows(RestoreTargetException.class,
        () -> planner.plan("app", RestoreTarget.txid(earliest - 1)));
    assertEquals(earliest, before.nearestAfter().orElseThrow(), before.getMessage());
    // Only restore points older than the window were given up: the anchor is at or before it.
    assertTrue(commitTimes.get(earliest) <= cutoff, "anchor snapshot is older than the cutoff");
    assertNotNull(agent.lastRetention());
  }

  @Test
  void aBranchAtAnOldTxidKeepsItsParentObjects() throws Exception {
    DatabaseAgent agent = startAgent();
    runHours(agent, 1);
    long branchTxid = 5;
    new Brancher(h.store, Clock.fixed(Instant.ofEpochMilli(now.get()), ZoneOffset.UTC))
        .branch("app", "child", RestoreTarget.txid(branchTxid));
    runHours(agent, 8);
    agent.close();

    RestorePlanner planner = new RestorePlanner(h.store);
    Retention.Report last = agent.lastRetention();
    assertTrue(last.anchorTxid() > branchTxid, "the window moved past the branch point");
    // Parent history between the branch point and the anchor is gone...
    RestoreTargetException gap = assertThrows(RestoreTargetException.class,
        () -> planner.plan("app", RestoreTarget.txid(last.anchorTxid() - 1)));
    assertTrue(gap.getMessage().contains("gap"), gap.getMessage());
    // ...but the branch still restores to the parent's data at its branch point.
    assertRestoresTo("child", -1, branchTxid);
    assertTrue(h.store.head(BucketLayout.snapshotKey("app", 1)).isPresent(),
        "the snapshot the branch starts from is kept");
    assertRestoresTo("app", lastTxid, lastTxid);
  }

  @Test
  void theOnlySnapshotIsNeverDeletedAndARunCostsAFewRequests() throws Exception {
    DatabaseAgent agent = startAgent();
    for (int i = 0; i < 3; i++) {
      commitRows(agent, 2);
    }
    agent.close();
    now.addAndGet(Duration.ofHours(10).toMillis());

    Retention retention = new Retention(h.store, "app", Duration.ofHours(1), clock);
    Retention.Report r = retention.run();
    assertEquals(1, r.anchorTxid(), "the initial snapshot is the anchor");
    assertTrue(h.store.head(BucketLayout.snapshotKey("app", 1)).isPresent(), "only snapshot kept");
    assertEquals(List.of(BucketLayout.level0Key("app", 1)), r.deleted(),
        "only the L0 copy of the snapshot is redundant");
    assertEquals(3, r.lists(), "LIST snapshots/, branches/, L0/");
    assertEquals(2, r.gets(),
        "one ranged GET of the snapshot header (time not known yet), one GET of retention.json");
    assertEquals(1, r.puts(), "the horizon raised to the anchor before branches/ is listed");
    assertEquals(1, r.deleteBatches());
    assertEquals(7, r.requests());
    for (long t = 1; t <= lastTxid; t++) {
      assertRestoresTo("app", t, t);
    }
    Retention.Report again = retention.run();
    assertEquals(List.of(), again.deleted());
    assertEquals(1, again.requests(), "unchanged anchor: one LIST of snapshots/ and nothing else");
  }

  @Test
  void theSnapshotTimerCountsFromTheBucketsNewestSnapshot() throws Exception {
    DatabaseAgent first = startAgent();
    commitRows(first, 2);
    now.addAndGet(Duration.ofMinutes(50).toMillis());
    first.close();

    DatabaseAgent second = startAgent(); // no resync snapshot: the local file matches the bucket
    long before = snapshotCount();
    commitRows(second, 1);
    now.addAndGet(Duration.ofMinutes(15).toMillis()); // 65 min after the bucket's snapshot
    second.syncNow(30_000);
    await().atMost(Duration.ofSeconds(60)).until(
        () -> h.store.head(BucketLayout.snapshotKey("app", lastTxid)).isPresent());
    assertEquals(before + 1, snapshotCount(), "a periodic snapshot 1 h after the bucket's last one");
  }

  @Test
  void anIdleDatabaseMakesNoRequestEvenWithRetentionAndSnapshotsDue() throws Exception {
    FlakyStore counting = new FlakyStore(h.store);
    DatabaseAgent agent = h.start(h.options(db).withSpoolDir(dir.resolve("spool"))
        .withSnapshotInterval(Duration.ofHours(1)).withRetention(RETENTION), counting, clock);
    await().atMost(Duration.ofSeconds(60)).until(() -> agent.retentionRuns() == 1);
    lastTxid = agent.capturedTxid();
    commitRows(agent, 2);
    now.addAndGet(Duration.ofHours(1).toMillis()); // the commits get their periodic snapshot
    agent.syncNow(30_000);
    await().atMost(Duration.ofSeconds(60)).until(() -> agent.retentionRuns() == 2);
    assertTrue(h.store.head(BucketLayout.snapshotKey("app", lastTxid)).isPresent());
    long before = counting.requests();
    for (int i = 0; i < 12; i++) { // six idle hours: every capture pass sees snapshots "due"
      now.addAndGet(STEP.toMillis());
      assertEquals(lastTxid, agent.syncNow(30_000)); // one capture-loop pass at the new time
    }
    assertEquals(before, counting.requests(), "idle: no snapshot, no retention, no request");
    assertEquals(2, agent.retentionRuns());
  }

  // ---- helpers ----

  private DatabaseAgent startAgent() {
    DatabaseOptions o = h.options(db)
        .withSpoolDir(dir.resolve("spool"))
        .withSnapshotInterval(Duration.ofHours(1))
        .withRetention(RETENTION);
    boolean fresh = h.store.head(BucketLayout.snapshotKey("app", 1)).isEmpty();
    DatabaseAgent a = h.start(o, h.store, clock);
    if (fresh) { // the initial snapshot's upload starts a first (empty) retention run
      await().atMost(Duration.ofSeconds(60)).until(() -> a.retentionRuns() == 1);
    }
    lastTxid = a.capturedTxid();
    commitTimes.putIfAbsent(lastTxid, now.get());
    return a;
  }

  /**
   * Moves the clock in 30-minute steps, committing rows at each, and waits for each due snapshot
   * and retention run so the run is deterministic.
   */
  private void runHours(DatabaseAgent agent, int hours) throws Exception {
    for (int i = 0; i < hours * 2; i++) {
      commitRows(agent, 3);
      long runs = agent.retentionRuns();
      // Decided from the test's own record, never by asking the bucket after the clock moved:
      // the agent may cut and upload the snapshot before such a HEAD, which then missed it and
      // expected it 30 minutes later, when the agent (rightly) did not cut one.
      boolean snapshotDue = now.get() + STEP.toMillis() - newestSnapshotTime()
          >= Duration.ofHours(1).toMillis(); // every step commits, so there is a new TXID
      now.addAndGet(STEP.toMillis());
      agent.syncNow(30_000); // one capture-loop pass at the new time: the snapshot is cut in it
      if (snapshotDue) {
        await().atMost(Duration.ofSeconds(60)).until(
            () -> h.store.head(BucketLayout.snapshotKey("app", lastTxid)).isPresent());
        snapshotTimes.put(lastTxid, now.get());
        await().atMost(Duration.ofSeconds(60)).until(() -> agent.retentionRuns() > runs);
      }
    }
  }

  private final TreeMap<Long, Long> snapshotTimes = new TreeMap<>(java.util.Map.of(1L, T0));

  private long newestSnapshotTime() {
    return snapshotTimes.lastEntry().getValue();
  }

  /** {@code n} commits of one row each by a separate sqlite3 process, then synced. */
  private void commitRows(DatabaseAgent agent, int n) throws Exception {
    StringBuilder sql = new StringBuilder("PRAGMA busy_timeout=10000;\n");
    for (int i = 0; i < n; i++) {
      sql.append("INSERT INTO t(v) VALUES ('row');\n");
    }
    Sqlite3.run(db, sql.toString());
    long txid = agent.syncNow(30_000);
    assertEquals(lastTxid + n, txid, "one TXID per commit");
    for (long t = lastTxid + 1; t <= txid; t++) {
      commitTimes.put(t, now.get());
    }
    lastTxid = txid;
  }

  private long firstTxidAtOrAfter(long millis) {
    for (var e : commitTimes.entrySet()) {
      if (e.getValue() >= millis) {
        return e.getKey();
      }
    }
    return lastTxid;
  }

  private long snapshotCount() {
    List<ObjectInfo> l = h.store.listAll(BucketLayout.snapshotPrefix("app"), null);
    return l.size();
  }

  /**
   * Restores {@code db} at {@code txid} (-1 = latest) and checks it holds exactly the rows of
   * parent TXID {@code rowsAt}: ids 1..rowsAt-1.
   */
  private void assertRestoresTo(String name, long txid, long rowsAt) throws Exception {
    RestoreTarget target = txid < 0 ? RestoreTarget.latest() : RestoreTarget.txid(txid);
    assertEquals(RestoredRows.at(rowsAt), RestoredRows.of(h.store, name, target, dir),
        name + " at TXID " + txid);
  }
}
