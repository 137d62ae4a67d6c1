package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.CommitRecord;
import dev.walship.format.DatabaseChecksum;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CapturerTest {
  @TempDir Path dir;

  /** Keeps a copy of every page image and commit record it is handed. */
  private static final class RecordingSink implements CaptureSink {
    final List<Long> pageNumbers = new ArrayList<>();
    final List<byte[]> images = new ArrayList<>();
    final List<CommitRecord> commits = new ArrayList<>();

    @Override
    public void resume(int pageSize, long lastTxid, long checksum) {}

    @Override
    public void beginSnapshot(long txid, int pageSize) {}

    @Override
    public void page(long pageNumber, long txid, byte[] data, int offset) {
      pageNumbers.add(pageNumber);
      images.add(java.util.Arrays.copyOfRange(data, offset, offset + 4096));
    }

    @Override
    public void commit(CommitRecord record) {
      commits.add(record);
    }

    void reset() {
      pageNumbers.clear();
      images.clear();
      commits.clear();
    }
  }

  @Test
  void aTransactionWritingPagesSeveralTimesEmitsEachPageOnceWithItsLastImage() throws Exception {
    Path db = dir.resolve("a.db");
    RecordingSink sink = new RecordingSink();
    try (Connection app = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = app.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA wal_autocheckpoint=0");
      s.execute("PRAGMA cache_size=1"); // spill pages to the WAL before the commit rewrites them
      s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      try (Capturer capturer = new Capturer(db, sink, InstantSource.system(), 1000);
          WalReader reference = new WalReader(Path.of(db + "-wal"))) {
        capturer.open();
        capturer.resync(BucketPosition.nothing());
        reference.start(reference.readHeader().orElseThrow());
        reference.poll();
        sink.reset();

        app.setAutoCommit(false);
        s.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
            + " INSERT INTO t(v) SELECT randomblob(1500) FROM n");
        s.execute("UPDATE t SET v = randomblob(1400)");
        app.commit();
        app.setAutoCommit(true);
        assertEquals(1, capturer.poll());

        // The model: the last frame of each page in the transaction, read back from the file.
        List<WalTransaction> txs = reference.poll();
        assertEquals(1, txs.size());
        Map<Long, WalFrame> last = new HashMap<>();
        for (WalFrame f : txs.get(0).frames()) {
          last.put(f.pageNumber(), f);
        }
        assertTrue(txs.get(0).frames().size() > last.size(), "some page was written twice");
        assertEquals(last.size(), sink.pageNumbers.size(), "one image per page");
        assertEquals(last.keySet(), new HashSet<>(sink.pageNumbers));
        byte[] expected = new byte[4096];
        for (int i = 0; i < sink.pageNumbers.size(); i++) {
          long p = sink.pageNumbers.get(i);
          reference.readPage(last.get(p).offset(), expected, 0);
          assertArrayEquals(expected, sink.images.get(i), "page " + p);
        }
        assertEquals(1, sink.commits.size());
        assertEquals(capturer.checksum(), sink.commits.get(0).checksumAfter());
      }
      s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    assertEquals(
        DatabaseChecksum.ofFile(db, 4096),
        sink.commits.get(0).checksumAfter(),
        "the captured checksum is the database's after the commit");
  }
}
