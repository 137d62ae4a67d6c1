package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What keeps a busy app's WAL small and its barriers short: past {@link
 * Checkpointer#forcePages()} a checkpoint starts even though the interval has not passed and no
 * segment is due, so the WAL restarts in place instead of growing; and the WAL is synced ahead
 * every {@link Checkpointer#SYNC_AHEAD_BYTES} the app writes.
 */
class CheckpointerForceTest {
  @TempDir Path dir;

  private static final Runnable NOTHING = () -> { };
  private static final Checkpointer.DurableFlush NO_FLUSH = () -> NOTHING;

  @Test
  void aLargeWalIsCheckpointedWithoutWaitingForTheIntervalOrTheNextSegment() throws Exception {
    try (CaptureFixture f = CaptureFixture.open(dir, "force")) {
      Capturer capturer = f.capturer;
      AtomicLong now = new AtomicLong(1_000_000_000L); // fake clock: the hour never passes
      long frameBytes = WalFrame.HEADER_SIZE + 4096;
      Checkpointer checkpointer = new Checkpointer(
          capturer, 20, 1_000_000, Duration.ofHours(1), now::get, 300 * frameBytes);
      assertEquals(300, checkpointer.forcePages());

      f.insert(40, 100);
      capturer.poll();
      assertEquals(Checkpointer.Outcome.NOT_NEEDED,
          checkpointer.maybeCheckpoint(() -> false, NOTHING, NOTHING, NOTHING, NO_FLUSH),
          "past the PASSIVE threshold, but no segment is due");
      assertEquals(Checkpointer.Outcome.PASSIVE,
          checkpointer.maybeCheckpoint(() -> true, NOTHING, NOTHING, NOTHING, NO_FLUSH));

      f.insert(40, 100);
      capturer.poll();
      assertTrue(capturer.walFrames() < 60, "the WAL restarted: " + capturer.walFrames());
      assertEquals(Checkpointer.Outcome.NOT_NEEDED,
          checkpointer.maybeCheckpoint(() -> true, NOTHING, NOTHING, NOTHING, NO_FLUSH),
          "the interval has not passed since the last barrier");

      f.insert(300, 100);
      capturer.poll();
      assertTrue(capturer.walFrames() >= 300, "frames " + capturer.walFrames());
      long barriers = checkpointer.barriers();
      assertEquals(Checkpointer.Outcome.PASSIVE,
          checkpointer.maybeCheckpoint(() -> false, NOTHING, NOTHING, NOTHING, NO_FLUSH),
          "forced: neither the interval nor the segment cadence holds it back");
      assertEquals(barriers + 1, checkpointer.barriers());
      long txid = capturer.lastTxid();
      f.insert(1, 100);
      capturer.poll();
      assertEquals(txid + 1, capturer.lastTxid(), "the restart was expected: no resync");
      assertTrue(capturer.walFrames() <= 2, "the WAL restarted in place: " + capturer.walFrames());
    }
  }

  @Test
  void theWalIsSyncedAheadEveryEightMebibytesTheAppWrites() throws Exception {
    try (CaptureFixture f = CaptureFixture.open(dir, "sync")) {
      Capturer capturer = f.capturer;
      Checkpointer checkpointer = new Checkpointer(capturer, 100_000, 100_000);
      long lastSync = 0;
      int syncs = 0;
      for (int round = 0; syncs < 3; round++) {
        assertTrue(round < 500, "three syncs expected by now, got " + syncs);
        f.insert(100, 3000);
        capturer.poll();
        long before = checkpointer.syncsAhead();
        checkpointer.syncAhead();
        long end = capturer.walEnd();
        if (checkpointer.syncsAhead() > before) {
          assertTrue(end - lastSync >= Checkpointer.SYNC_AHEAD_BYTES,
              "a sync only after 8 MiB more: at " + end + ", last at " + lastSync);
          lastSync = end;
          syncs++;
        } else {
          assertTrue(end - lastSync < Checkpointer.SYNC_AHEAD_BYTES,
              "a sync was due at " + end + ", last at " + lastSync);
        }
        awaitIdle();
      }
    }
  }

  @Test
  void theBarrierIsRetriedForItsTimeAndTakenOnceTheWriterIsFree() throws Exception {
    try (CaptureFixture f = CaptureFixture.open(dir, "barrier")) {
      SqliteSession session = f.capturer.session();
      f.sql.execute("BEGIN IMMEDIATE"); // the app holds SQLite's writer lock
      long start = System.nanoTime();
      assertFalse(session.tryBarrierWithin(20_000_000L));
      assertTrue(System.nanoTime() - start >= 20_000_000L, "kept trying for 20 ms");
      f.sql.execute("COMMIT");
      assertTrue(session.tryBarrierWithin(20_000_000L));
      f.sql.execute("PRAGMA busy_timeout=50");
      try {
        assertThrows(java.sql.SQLException.class, () -> f.insert(1, 10),
            "the app's writer now waits");
      } finally {
        session.releaseBarrier();
      }
      f.insert(1, 10);
    }
  }

  /** Lets the running sync finish: a new one starts only when none runs. */
  private static void awaitIdle() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    Checkpointer.runOnSyncThread(done::countDown);
    assertTrue(done.await(30, TimeUnit.SECONDS));
  }
}
