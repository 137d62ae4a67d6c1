package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.Compression;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent holds SQLite's checkpoint lock between its own checkpoints, so another process's
 * checkpoint (the app's autocheckpoint after every commit) is refused at once, while the agent's
 * own checkpoints still run. The other process here is the real {@code sqlite3} shell.
 */
class CheckpointLockTest {
  @TempDir Path dir;

  @Test
  void anotherProcessesCheckpointIsRefusedWhileTheAgentsOwnRuns() throws Exception {
    Path db = dir.resolve("app.db");
    Sqlite3.run(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    SegmentBuilder builder =
        new SegmentBuilder("app", Files.createDirectories(dir.resolve("spool")), Compression.NONE);
    try (Capturer capturer = new Capturer(db, builder, InstantSource.system(), 1000)) {
      capturer.open();
      capturer.resync(BucketPosition.nothing());
      SqliteSession session = capturer.session();
      assertTrue(session.holdCheckpointLock());

      String refused = Sqlite3.run(db,
          "INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); PRAGMA wal_checkpoint(PASSIVE);");
      assertTrue(refused.startsWith("1|"), "busy at once, nothing copied: " + refused);
      assertEquals(2, capturer.poll(), "the refused checkpoint's commits are all there");

      session.endRead(); // nothing pins the WAL now: the agent's PASSIVE may copy everything
      SqliteSession.CheckpointResult own = session.checkpoint("PASSIVE");
      assertFalse(own.busy(), "the agent's own checkpoint runs: " + own);
      assertTrue(own.complete(), "and copies every frame: " + own);
      assertTrue(session.checkpointLockHeld(), "held again after it");
      assertTrue(Sqlite3.run(db, "PRAGMA wal_checkpoint(PASSIVE);").startsWith("1|"));
      session.beginRead();
    }
    assertTrue(Sqlite3.run(db, "PRAGMA wal_checkpoint(PASSIVE);").startsWith("0|"),
        "released with the agent's connections");
  }
}
