package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import dev.walship.format.BucketLayout;
import dev.walship.format.Lease;
import dev.walship.store.testing.InProcessS3;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Agent restarts, an unreachable bucket, and a second primary. */
class ResilienceTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  @TempDir Path dir;
  Harness h;

  @BeforeEach
  void setUp() {
    h = new Harness(S3, dir);
  }

  @AfterEach
  void tearDown() {
    h.close();
  }

  @Test
  void restartedAgentResumesWithoutSnapshotWhenTheLocalDatabaseMatches() throws Exception {
    Path db = dir.resolve("app.db");
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      DatabaseAgent a1 = h.start(h.options(db));
      app.run("insert 100 200");
      long durable = a1.syncNow(30_000);
      app.run("insert 20 200"); // captured or not: a1 stops abruptly
      a1.halt();
      app.run("insert 50 200"); // while no agent runs
      // a1 never released its lease (as after a crash): a2 starts once it has expired
      InstantSource later = () -> java.time.Instant.now().plusSeconds(31);
      DatabaseAgent a2 = h.start(h.options(db), h.store, later);
      assertEquals(0, a2.status().snapshots(), "resumed without a snapshot");
      assertTrue(a2.capturedTxid() >= durable + 70, "commits made while down were captured");
      app.run("insert 30 200");
      a2.syncNow(30_000);
      a2.close();
    }
    BucketReplay.Result r = h.assertBucketEqualsApp("app", db);
    assertEquals(1, r.snapshotsInL0());
  }

  @Test
  void aDatabaseThatNoLongerMatchesGetsASnapshot() throws Exception {
    Path db = dir.resolve("app.db");
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      DatabaseAgent a1 = h.start(h.options(db));
      app.run("insert 50 200");
      a1.syncNow(30_000);
      a1.close();
      // without the agent the app checkpoints and restarts the WAL: commits are gone from it
      app.run("insert 50 200");
      app.run("query PRAGMA wal_checkpoint(TRUNCATE)");
      app.run("insert 5 200");
      DatabaseAgent a2 = h.start(h.options(db));
      assertEquals(1, a2.status().snapshots(), "resync snapshot");
      a2.syncNow(30_000);
      a2.close();
    }
    BucketReplay.Result r = h.assertBucketEqualsApp("app", db);
    assertEquals(2, r.snapshotsInL0());
  }

  @Test
  void anUnreachableBucketDelaysButLosesNothing() throws Exception {
    Path db = dir.resolve("app.db");
    FlakyStore flaky = new FlakyStore(h.store);
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      DatabaseAgent a =
          h.start(h.options(db).withCheckpointPages(50, 100), flaky, InstantSource.system());
      app.run("insert 50 100");
      a.syncNow(30_000);
      flaky.down.set(true);
      long downSince = System.nanoTime();
      app.run("insert 300 1000"); // WAL passes the checkpoint threshold while the bucket is down
      await().atMost(Duration.ofSeconds(20)).until(() -> flaky.failures.get() >= 3);
      assertTrue(a.durableTxid() < a.capturedTxid(), "nothing durable while down");
      await().atMost(Duration.ofSeconds(40))
          .until(() -> System.nanoTime() - downSince > 30_000_000_000L); // down for 30 s
      flaky.down.set(false);
      app.run("insert 20 100");
      a.syncNow(60_000);
      assertEquals(a.capturedTxid(), a.durableTxid());
      a.close();
    }
    h.assertBucketEqualsApp("app", db);
  }

  @Test
  void checkpointsContinueWhileTheBucketIsDownAndACrashLosesNoSpooledCommit() throws Exception {
    Path db = dir.resolve("app.db");
    FlakyStore flaky = new FlakyStore(h.store);
    DatabaseOptions o = h.options(db).withCheckpointPages(50, 100);
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      DatabaseAgent a1 = h.start(o, flaky, InstantSource.system());
      app.run("insert 20 100");
      a1.syncNow(30_000);
      long checkpoints = a1.status().checkpoints();
      flaky.down.set(true);
      app.run("insert 300 1000");
      await().atMost(Duration.ofSeconds(30))
          .until(() -> a1.status().checkpoints() > checkpoints && a1.capturedTxid() >= 321);
      app.run("insert 5 100"); // the app restarts the WAL: checkpointed commits live on only in the spool
      a1.halt(); // crash while the bucket is down
      flaky.down.set(false);
      InstantSource later = () -> java.time.Instant.now().plusSeconds(31);
      DatabaseAgent a2 = h.start(o, h.store, later);
      assertEquals(0, a2.status().snapshots(), "spooled segments uploaded, then resumed by match");
      app.run("insert 5 100");
      a2.syncNow(30_000);
      a2.close();
    }
    BucketReplay.Result r = h.assertBucketEqualsApp("app", db);
    assertEquals(1, r.snapshotsInL0());
  }

  @Test
  void anIdleDatabaseMakesNoRequest() throws Exception {
    Path db = dir.resolve("app.db");
    FlakyStore counting = new FlakyStore(h.store);
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(x)");
      DatabaseAgent a =
          h.start(h.options(db).withSyncInterval(Duration.ofMillis(200)), counting,
              InstantSource.system());
      app.run("sql INSERT INTO t VALUES (1)");
      a.syncNow(30_000);
      long before = counting.requests();
      await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
          .until(() -> counting.requests() == before);
      app.run("sql INSERT INTO t VALUES (2)");
      a.syncNow(30_000);
      assertEquals(before + 1, counting.requests(), "one PUT for one commit after idling");
    }
  }

  @Test
  void aDatabaseReplacedUnderneathIsResynced() throws Exception {
    Path db = dir.resolve("app.db");
    DatabaseAgent a;
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(x)");
      a = h.start(h.options(db));
      app.run("sql INSERT INTO t VALUES (1)");
      a.syncNow(30_000);
    }
    // an operator restores another file over it (new inode), with its WAL files gone
    Path other = dir.resolve("other.db");
    Sqlite3.run(other, "CREATE TABLE restored(y); INSERT INTO restored VALUES ('from backup');");
    java.nio.file.Files.move(other, db, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    java.nio.file.Files.deleteIfExists(Path.of(db + "-wal"));
    java.nio.file.Files.deleteIfExists(Path.of(db + "-shm"));
    await().atMost(Duration.ofSeconds(30)).until(() -> a.status().snapshots() == 2);
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql INSERT INTO restored VALUES ('after')");
    }
    a.syncNow(30_000);
    a.close();
    BucketReplay.Result r = h.assertBucketEqualsApp("app", db);
    assertEquals(2, r.snapshotsInL0());
  }

  @Test
  void aSecondPrimaryRefusesToStartNamingTheHolder() throws Exception {
    Path db = dir.resolve("app.db");
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(x)");
      DatabaseAgent a1 = h.start(h.options(db));
      LeaseHeldException e =
          assertThrows(LeaseHeldException.class, () -> h.start(h.options(db)));
      assertTrue(e.getMessage().contains(LeaseKeeper.hostName() + "/"), e.getMessage());
      assertEquals("RUNNING", a1.status().state());
    }
  }

  @Test
  void aPrimaryWhoseLeaseWasTakenOverIsFenced() throws Exception {
    Path db = dir.resolve("app.db");
    AtomicLong offset = new AtomicLong();
    InstantSource clock = () -> java.time.Instant.ofEpochMilli(System.currentTimeMillis() + offset.get());
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(x)");
      DatabaseAgent a1 = h.start(h.options(db), h.store, clock);
      app.run("sql INSERT INTO t VALUES (1)");
      long durable = a1.syncNow(30_000);
      // another primary takes the lineage over (as after a1's lease expired)
      String key = BucketLayout.leaseKey("app");
      String etag = h.store.get(key).orElseThrow().etag();
      long now = System.currentTimeMillis();
      h.store.putIfMatch(key, Lease.acquire("elsewhere/1/x", now, 3_600_000).toJson(), etag);
      offset.set(60_000); // a1's next upload must renew
      app.run("sql INSERT INTO t VALUES (2)");
      await().atMost(Duration.ofSeconds(20)).until(() -> a1.status().state().equals("FENCED"));
      assertEquals(durable, a1.durableTxid(), "nothing written after losing the lease");
      assertTrue(a1.status().lastError().contains("elsewhere/1/x"), a1.status().lastError());
    }
  }
}
