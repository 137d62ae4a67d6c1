package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalReaderTest {
  @TempDir Path dir;

  private static Connection open(Path db) throws Exception {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA wal_autocheckpoint=0");
    }
    return c;
  }

  /** CREATE TABLE t(x), then one commit per row: blobs of {@code 100 + (i % kinds) * step} bytes. */
  private static void createAndInsertBlobs(Statement s, int rows, int kinds, int step)
      throws java.sql.SQLException {
    s.execute("CREATE TABLE t(x)");
    for (int i = 0; i < rows; i++) {
      s.execute("INSERT INTO t VALUES (randomblob(" + (100 + (i % kinds) * step) + "))");
    }
  }

  @Test
  void oneTransactionPerCommitAndLastCommitSizeIsReported() throws Exception {
    Path db = dir.resolve("a.db");
    try (Connection c = open(db);
        Statement s = c.createStatement();
        WalReader r = new WalReader(Path.of(db + "-wal"))) {
      s.execute("CREATE TABLE t(x)");
      for (int i = 0; i < 5; i++) {
        s.execute("INSERT INTO t VALUES (randomblob(3000))");
      }
      WalHeader h = r.readHeader().orElseThrow();
      assertEquals(4096, h.pageSize());
      r.start(h);
      List<WalTransaction> txs = r.poll();
      assertEquals(6, txs.size());
      assertTrue(txs.stream().allMatch(t -> t.commitFrame().isCommit()));
      assertEquals(r.committedFrames(), txs.stream().mapToInt(t -> t.frames().size()).sum());
      assertEquals(List.of(), r.poll(), "nothing new");
      s.execute("INSERT INTO t VALUES (randomblob(5000))");
      List<WalTransaction> last = r.poll();
      assertEquals(1, last.size());
      try (var rs = s.executeQuery("PRAGMA page_count")) {
        assertEquals(rs.getLong(1), last.get(0).dbSizePages(), "commit frame carries the db size");
      }
    }
  }

  @Test
  void aWalLargerThanOneReadAheadIsReadWholeAndBoundedPollsAddUp() throws Exception {
    Path db = dir.resolve("big.db");
    try (Connection c = open(db);
        Statement s = c.createStatement();
        WalReader r = new WalReader(Path.of(db + "-wal"))) {
      // 1-, 2- and 3-page transactions, ~3 MiB of WAL: transactions straddle the read-aheads.
      createAndInsertBlobs(s, 300, 3, 4000);
      WalHeader h = r.readHeader().orElseThrow();
      r.start(h);
      int commits = 0;
      for (List<WalTransaction> txs = r.poll(7); !txs.isEmpty(); txs = r.poll(7)) {
        assertTrue(txs.size() <= 7);
        commits += txs.size();
      }
      assertEquals(301, commits);
      long frameSize = WalFrame.HEADER_SIZE + h.pageSize();
      assertEquals((java.nio.file.Files.size(Path.of(db + "-wal")) - WalHeader.SIZE) / frameSize,
          r.committedFrames(), "every frame of the file was read and validated");
    }
  }

  @Test
  void everyCommittedPageImageReadsBackAsInTheFileHeldOrNot() throws Exception {
    Path db = dir.resolve("d.db");
    try (Connection c = open(db);
        Statement s = c.createStatement();
        WalReader r = new WalReader(Path.of(db + "-wal"))) {
      // ~6 MiB of WAL in one poll: more than the reader holds in memory (4 MiB)
      createAndInsertBlobs(s, 500, 4, 2000);
      WalHeader h = r.readHeader().orElseThrow();
      r.start(h);
      List<WalTransaction> txs = r.poll();
      assertEquals(501, txs.size());
      byte[] file = java.nio.file.Files.readAllBytes(Path.of(db + "-wal"));
      int ps = h.pageSize();
      byte[] page = new byte[ps];
      int held = 0;
      int notHeld = 0;
      for (WalTransaction tx : txs) {
        for (WalFrame f : tx.frames()) {
          byte[] expected =
              java.util.Arrays.copyOfRange(file, (int) f.dataOffset(), (int) f.dataOffset() + ps);
          r.readPage(f.offset(), page, 0);
          assertArrayEquals(expected, page, "frame at " + f.offset());
          int at = r.imageOffset(f.offset());
          if (at >= 0) {
            held++;
            assertArrayEquals(
                expected, java.util.Arrays.copyOfRange(r.images(), at, at + ps), "held frame");
          } else {
            notHeld++;
          }
        }
      }
      assertTrue(held >= 1000 && notHeld > 0, "held " + held + ", read again " + notHeld);
    }
  }

  @Test
  void aFrameFailingTheChecksumEndsTheValidWal() throws Exception {
    Path db = dir.resolve("c.db");
    Path copy = dir.resolve("copy-wal");
    try (Connection c = open(db);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t(x)");
      for (int i = 0; i < 5; i++) {
        s.execute("INSERT INTO t VALUES (" + i + ")");
      }
      java.nio.file.Files.copy(Path.of(db + "-wal"), copy);
    }
    int frame = WalFrame.HEADER_SIZE + 4096;
    byte[] b = java.nio.file.Files.readAllBytes(copy);
    try (WalReader r = new WalReader(copy)) {
      r.start(r.readHeader().orElseThrow());
      assertEquals(6, r.poll().size());
    }
    // flip one bit in the page image of the 4th frame (each commit here writes one or two frames)
    b[WalHeader.SIZE + 3 * frame + WalFrame.HEADER_SIZE + 100] ^= 1;
    java.nio.file.Files.write(copy, b);
    try (WalReader r = new WalReader(copy)) {
      r.start(r.readHeader().orElseThrow());
      List<WalTransaction> txs = r.poll();
      assertTrue(txs.size() < 6, "commits after the damaged frame are not valid");
      assertTrue(r.committedFrames() <= 3, "nothing at or after the damaged frame counts");
    }
  }

  @Test
  void uncommittedFramesAreNotReturnedAndRestartStartsANewGeneration() throws Exception {
    Path db = dir.resolve("b.db");
    try (Connection c = open(db);
        Statement s = c.createStatement();
        WalReader r = new WalReader(Path.of(db + "-wal"))) {
      s.execute("PRAGMA cache_size=1"); // force the big transaction to spill frames early
      s.execute("CREATE TABLE t(x)");
      WalHeader h = r.readHeader().orElseThrow();
      r.start(h);
      assertEquals(1, r.poll().size());
      c.setAutoCommit(false);
      for (int i = 0; i < 200; i++) {
        s.execute("INSERT INTO t VALUES (randomblob(4000))");
      }
      assertEquals(0, r.poll().size(), "a spilled transaction is not committed");
      assertTrue(r.hasPending());
      c.rollback();
      s.execute("INSERT INTO t VALUES (randomblob(100))");
      c.commit();
      List<WalTransaction> txs = r.poll();
      assertEquals(1, txs.size(), "the rewritten transaction is seen after the rollback");
      c.setAutoCommit(true);
      s.execute("PRAGMA wal_checkpoint(PASSIVE)");
      s.execute("INSERT INTO t VALUES (2)"); // restarts the WAL
      WalHeader h2 = r.readHeader().orElseThrow();
      assertEquals(h.salt1() + 1, h2.salt1());
      assertEquals(0, r.poll().size(), "old generation frames after the restart are invalid");
      r.start(h2);
      assertEquals(1, r.poll().size());
    }
  }
}
