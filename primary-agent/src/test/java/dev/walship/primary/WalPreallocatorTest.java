package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent keeps the {@code -wal} file longer than its frames so the app overwrites cached pages
 * instead of appending; SQLite, the capture and a crash recovery must all stop at the last real
 * frame.
 */
class WalPreallocatorTest {
  @TempDir Path dir;

  @Test
  void dueWhenLittleIsLeftPastTheCapturedEndAndRoomIsLeftUnderTheCap() {
    long mib = 1L << 20;
    assertFalse(WalPreallocator.due(0, 0, 100 * mib), "no WAL file yet");
    assertTrue(WalPreallocator.due(4 * mib, 4 * mib, 100 * mib), "the app appends at the end");
    assertFalse(WalPreallocator.due(32, 4 * mib, 100 * mib), "restarted in place: room ahead");
    assertTrue(WalPreallocator.due(61 * mib, 80 * mib, 100 * mib), "under a quarter left");
    assertTrue(WalPreallocator.due(370 * mib, 400 * mib, 500 * mib), "under 32 MiB left");
    assertFalse(WalPreallocator.due(40 * mib, 80 * mib, 100 * mib));
    assertFalse(WalPreallocator.due(100 * mib, 100 * mib, 100 * mib), "at the cap");
  }

  @Test
  void theAgentExtendsUnderTheBarrierAndEveryCommitIsCapturedAndRecovered() throws Exception {
    Path db = dir.resolve("app.db");
    try (CaptureFixture f = CaptureFixture.open(dir, "app")) {
      Capturer capturer = f.capturer;
      long startTxid = capturer.lastTxid();
      Checkpointer checkpointer = new Checkpointer(capturer, 100_000, 100_000);
      f.insert(50, 100);
      capturer.poll();
      long before = Files.size(walOf(db));
      assertTrue(checkpointer.maybePreallocate(), "the app writes at the WAL's end");
      long after = Files.size(walOf(db));
      assertEquals(before + WalPreallocator.MIN_STEP, after, "grown by the least step");
      assertEquals(1, checkpointer.walExtensions());
      assertFalse(checkpointer.maybePreallocate(), "plenty of room now");

      f.insert(50, 100);
      assertEquals(after, Files.size(walOf(db)), "the app writes inside the file, not past it");
      assertEquals(50, capturer.poll(), "every commit written into the extension is captured");
      assertEquals(startTxid + 100, capturer.lastTxid());

      // A crash now: SQLite's recovery of a copy reads the frames and stops at the zeros.
      Path copy = dir.resolve("copy.db");
      Files.copy(db, copy);
      Files.copy(walOf(db), walOf(copy));
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy);
          Statement q = c.createStatement()) {
        assertEquals(100, count(q, "SELECT count(*) FROM t"));
        try (ResultSet rs = q.executeQuery("PRAGMA integrity_check")) {
          rs.next();
          assertEquals("ok", rs.getString(1));
        }
      }
    }
  }

  @Test
  void aWalHeldByTheAppsWriterIsNotExtended() throws Exception {
    Path db = dir.resolve("app.db");
    try (CaptureFixture f = CaptureFixture.open(dir, "app")) {
      Capturer capturer = f.capturer;
      Statement s = f.sql;
      Checkpointer checkpointer = new Checkpointer(capturer, 100_000, 100_000);
      f.insert(10, 100);
      capturer.poll();
      long before = Files.size(walOf(db));
      s.execute("BEGIN IMMEDIATE"); // the app's writer lock: the size may change any moment
      assertFalse(checkpointer.maybePreallocate());
      assertEquals(before, Files.size(walOf(db)));
      s.execute("COMMIT");
      assertTrue(checkpointer.maybePreallocate(), "tried again once the lock is free");
    }
  }

  @Test
  void afterATruncateTheNextExtensionGoesBackToTheLargestSizeAndOnlyTheTailedWalIsExtended()
      throws Exception {
    Path db = dir.resolve("app.db");
    Path wal = walOf(db);
    try (Connection app = CaptureFixture.openApp(db);
        Statement s = app.createStatement();
        WalReader reader = new WalReader(wal)) {
      CaptureFixture.insert(s, 10, 100);
      WalHeader first = reader.readHeader().orElseThrow();
      WalPreallocator p = new WalPreallocator(wal);
      long max = 64L << 20;
      long size = Files.size(wal);
      assertEquals(WalPreallocator.MIN_STEP, p.extend(first, max));
      assertEquals(WalPreallocator.MIN_STEP, p.extend(first, max));
      size += 2 * WalPreallocator.MIN_STEP;
      assertEquals(size / 2, p.extend(first, max), "half the size once that is more than the least step");
      long high = Files.size(wal);

      s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
      assertEquals(0, Files.size(wal));
      assertEquals(0, p.extend(first, max), "no WAL header: nothing to extend");
      CaptureFixture.insert(s, 10, 100);
      long small = Files.size(wal);
      assertEquals(0, p.extend(first, max), "a WAL generation the capture does not tail is left alone");
      assertEquals(small, Files.size(wal));
      WalHeader second = reader.readHeader().orElseThrow();
      assertEquals(high - small, p.extend(second, max), "straight back to the largest size");
      assertEquals(0, p.extend(second, high), "never past the cap");
      while (p.extend(second, max) > 0) {
        assertTrue(Files.size(wal) <= max);
      }
      assertEquals(max, Files.size(wal));
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
        rs.next();
        assertEquals(20, rs.getLong(1));
      }
    }
    Files.deleteIfExists(wal); // SQLite deletes it when its last connection closes
    assertEquals(0, new WalPreallocator(wal).extend(null, 1L << 30));
    assertFalse(Files.exists(wal), "the WAL file is never created");
  }

  private static long count(Statement s, String sql) throws Exception {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Path walOf(Path db) {
    return Path.of(db + "-wal");
  }
}
