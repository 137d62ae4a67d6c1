package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's read mark must not sit at 0 while the app writes: SQLite then lets no checkpoint
 * backfill anything, and the app's autocheckpoint rebuilds an index of the whole WAL on every
 * commit to find that out.
 */
class CheckpointerPinTest {
  @TempDir Path dir;

  @Test
  void theReadMarkLeavesZeroOnceTheAppHasWrittenAndTheAppCanThenBackfill() throws Exception {
    try (CaptureFixture f = CaptureFixture.open(dir, "app")) {
      Capturer capturer = f.capturer;
      Statement s = f.sql;
      Checkpointer checkpointer = new Checkpointer(capturer, 100_000, 100_000);
      f.insert((int) Checkpointer.PIN_STEP_FRAMES + 10, 100);
      assertEquals(0, backfilledByApp(s), "read mark 0 blocks every backfill");
      capturer.poll();
      checkpointer.advancePin();
      assertEquals(1, checkpointer.pinMoves());
      f.insert(1, 100);
      long backfilled = backfilledByApp(s);
      assertTrue(backfilled >= Checkpointer.PIN_STEP_FRAMES,
          "the app may now backfill up to the agent's new mark, got " + backfilled);
      assertTrue(backfilled < capturer.walFrames() + 1,
          "but not the commit the agent has not read: " + backfilled);
      checkpointer.advancePin();
      assertEquals(1, checkpointer.pinMoves(), "one commit since: the mark stays");
    }
  }

  @Test
  void barriersAreSpacedByHowLongTheLastOneWasHeld() {
    long ms = 1_000_000L;
    assertEquals(1000 * ms, Checkpointer.spacingNanos(1000 * ms, 2 * ms), "short: the interval");
    assertEquals(3000 * ms, Checkpointer.spacingNanos(1000 * ms, 30 * ms), "100 x the last hold");
    assertEquals(Checkpointer.MAX_SPACING_NANOS, Checkpointer.spacingNanos(1000 * ms, 900 * ms));
    assertEquals(20_000 * ms, Checkpointer.spacingNanos(20_000 * ms, 900 * ms), "never below the interval");
    assertEquals(0, Checkpointer.spacingNanos(0, 0), "no interval, no barrier yet");
  }

  /** Frames backfilled after the app's own PASSIVE checkpoint. */
  private static long backfilledByApp(Statement s) throws Exception {
    try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      rs.next();
      return rs.getLong(3);
    }
  }
}
