package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.store.testing.InProcessS3;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A separate app process writes; the agent captures and ships; after the app stops and the agent
 * drains, the bucket replayed with checksum verification equals the app's database.
 */
class CaptureEndToEndTest {
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
  void commitsSchemaChangesVacuumAndCheckpointsByAppAndAgent() throws Exception {
    Path db = dir.resolve("app.db");
    DatabaseAgent agent;
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      app.run("insert 50 100");
      agent = h.start(h.options(db).withCheckpointPages(100, 300));
      app.run("insert 200 300");
      app.run("sql CREATE INDEX t_v ON t(v)");
      app.run("sql ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'x'");
      app.run("insert 600 3000"); // the app's autocheckpoint (1000 pages) and the agent's run
      app.run("sql DELETE FROM t WHERE id % 3 = 0");
      app.run("sql VACUUM");
      app.run("sql PRAGMA busy_timeout=200");
      app.run("query PRAGMA wal_checkpoint(TRUNCATE)"); // busy unless the agent just checkpointed
      app.run("sql PRAGMA busy_timeout=20000");
      app.run("insert 100 50");
      app.run("sql DROP INDEX t_v");
      app.run("sql CREATE TABLE u(a TEXT)");
      app.run("sql INSERT INTO u VALUES ('last')");
    }
    agent.syncNow(30_000);
    assertTrue(agent.status().checkpoints() > 0, "the agent checkpointed");
    assertEquals(0, agent.status().resyncs(), "every WAL restart was expected");
    agent.close();
    BucketReplay.Result r = h.assertBucketEqualsApp("app", db);
    assertEquals(1, r.snapshotsInL0(), "only the initial snapshot");
    assertTrue(r.lastTxid() > 900, "one TXID per commit: " + r.lastTxid());
  }
}
