package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.store.testing.InProcessS3;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The central check over workloads that stress capture in different ways. */
class WorkloadsTest {
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
  void aTransactionLargerThan64MiB() throws Exception {
    Path db = dir.resolve("big.db");
    DatabaseAgent agent;
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      agent = h.start(h.options(db));
      app.run("insert 10 100");
      app.run("bigtx 66"); // 66 MiB of rows in one commit
      app.run("insert 10 100");
    }
    long before = agent.capturedTxid();
    agent.syncNow(120_000);
    assertTrue(agent.capturedTxid() >= before);
    agent.close();
    BucketReplay.Result r = h.assertBucketEqualsApp("big", db);
    assertEquals(1, r.snapshotsInL0());
  }

  @Test
  void pagesOf64KiB() throws Exception {
    Path db = dir.resolve("wide.db");
    DatabaseAgent agent;
    try (AppProcess app = AppProcess.start(db, 65536)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      agent = h.start(h.options(db).withCheckpointPages(20, 40));
      app.run("insert 200 5000");
      app.run("sql DELETE FROM t WHERE id % 2 = 0");
      app.run("sql VACUUM");
      app.run("insert 20 70000"); // overflow pages
    }
    agent.syncNow(60_000);
    agent.close();
    BucketReplay.Result r = h.assertBucketEqualsApp("wide", db);
    assertEquals(65536, r.pageSize());
  }

  @Test
  void anAppHoldingALongReadTransaction() throws Exception {
    Path db = dir.resolve("reader.db");
    DatabaseAgent agent;
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      app.run("insert 10 100");
      agent = h.start(h.options(db).withCheckpointPages(50, 100));
      app.run("read-begin"); // pins an old snapshot: checkpoints cannot complete
      app.run("insert 300 2000");
      agent.syncNow(30_000);
      app.run("read-end");
      app.run("insert 300 2000"); // now the agent's checkpoints complete and the WAL restarts
      app.run("sql UPDATE t SET v = randomblob(10) WHERE id < 50");
    }
    agent.syncNow(30_000);
    assertTrue(agent.status().checkpoints() > 0);
    agent.close();
    BucketReplay.Result r = h.assertBucketEqualsApp("reader", db);
    assertEquals(1, r.snapshotsInL0());
  }

  @Test
  void anAppHoldingTheWriterLockBetweenItsTransactions() throws Exception {
    Path db = dir.resolve("locked.db");
    DatabaseAgent agent;
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      agent = h.start(h.options(db).withCheckpointPages(50, 100));
      // The barrier cannot be taken while the app idles inside BEGIN IMMEDIATE; capture and
      // shipping go on meanwhile, and the checkpoint retries until the app lets go.
      app.run("locked-inserts 400 2000");
      assertEquals(401, agent.syncNow(30_000), "the snapshot (TXID 1) and all 400 commits are durable");
      app.run("sql COMMIT");
      app.run("insert 300 2000");
    }
    agent.syncNow(30_000);
    assertTrue(agent.status().checkpoints() > 0, "a checkpoint completed once the lock was free");
    agent.close();
    BucketReplay.Result r = h.assertBucketEqualsApp("locked", db);
    assertEquals(1, r.snapshotsInL0());
  }

  @Test
  void periodicSnapshotsMatchTheChainAtTheirTxid() throws Exception {
    Path db = dir.resolve("snap.db");
    DatabaseAgent agent;
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      agent = h.start(h.options(db).withCheckpointPages(50, 100)
          .withSnapshotInterval(java.time.Duration.ofMillis(300)));
      for (int i = 0; i < 5; i++) {
        app.run("insert 40 500");
        long txid = agent.syncNow(30_000);
        String key = dev.walship.format.BucketLayout.snapshotKey("snap", txid);
        try {
          org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
              .until(() -> h.store.head(key).isPresent());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          Thread.getAllStackTraces().forEach((t, st) -> {
            if (t.getName().startsWith("walship")) {
              System.err.println("THREAD " + t.getName());
              for (StackTraceElement el : st) {
                System.err.println("    " + el);
              }
            }
          });
          System.err.println("STATUS " + agent.status() + " txid " + txid);
          throw e;
        }
        // a snapshot replaces the database: it must equal the chain's checksum at its TXID
        byte[] bytes = h.store.get(key).orElseThrow().data();
        try (dev.walship.format.SegmentReader r = dev.walship.format.SegmentReader.open(bytes, key)) {
          assertEquals(dev.walship.format.SegmentKind.SNAPSHOT, r.kind());
          assertEquals(txid, r.lastTxid());
          Path out = dir.resolve("chain-" + i + ".db");
          BucketReplay.Result chain = BucketReplay.replay(h.store, "snap", out);
          assertEquals(chain.lastTxid(), txid);
          assertEquals(chain.checksum(), r.checksumAfter());
        }
      }
    }
    agent.close();
    h.assertBucketEqualsApp("snap", db);
  }

  @Test
  void chinookInRollbackJournalModeIsSwitchedToWalAndShipped() throws Exception {
    Path db = h.copyOf(Path.of("/work/shared/data/chinook.sqlite"), "chinook.db");
    DatabaseAgent agent = h.start(h.options(db));
    assertEquals("wal\n", Sqlite3.run(db, "PRAGMA journal_mode;"));
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql INSERT INTO Genre(Name) VALUES ('Sea shanty')");
      app.run("sql UPDATE Track SET UnitPrice = UnitPrice + 0.01 WHERE GenreId = 1");
      app.run("sql DELETE FROM PlaylistTrack WHERE PlaylistId = 1");
      app.run("sql CREATE INDEX track_name ON Track(Name)");
    }
    agent.syncNow(30_000);
    agent.close();
    BucketReplay.Result r = h.assertBucketEqualsApp("chinook", db);
    assertEquals(1, r.snapshotsInL0());
    assertTrue(r.lastTxid() >= 5, "snapshot + 4 commits: " + r.lastTxid());
  }
}
