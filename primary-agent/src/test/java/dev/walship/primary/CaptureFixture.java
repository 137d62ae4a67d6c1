package dev.walship.primary;

import dev.walship.format.Compression;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.InstantSource;

/**
 * For checkpointer tests: an app connection ({@link #openApp}) on a new database, an empty WAL (a
 * new reader gets read mark 0), and a {@link Capturer} resynced on it. Not thread-safe.
 */
final class CaptureFixture implements AutoCloseable {
  final Connection app;
  final Statement sql;
  final Capturer capturer;

  private CaptureFixture(Connection app, Statement sql, Capturer capturer) {
    this.app = app;
    this.sql = sql;
    this.capturer = capturer;
  }

  /** Creates {@code dir/name.db} and a spool directory beside it. */
  static CaptureFixture open(Path dir, String name) throws Exception {
    Path db = dir.resolve(name + ".db");
    Connection app = openApp(db);
    Statement s = app.createStatement();
    s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    SegmentBuilder builder = new SegmentBuilder(
        name, Files.createDirectories(dir.resolve(name + ".spool")), Compression.NONE);
    Capturer capturer = new Capturer(db, builder, InstantSource.system(), 1000);
    capturer.open();
    capturer.resync(BucketPosition.nothing());
    return new CaptureFixture(app, s, capturer);
  }

  /**
   * The app's connection to {@code db}: WAL, SQLite's autocheckpoint off (only the agent
   * checkpoints, nothing else restarts the WAL), table {@code t(id INTEGER PRIMARY KEY, v BLOB)}.
   */
  static Connection openApp(Path db) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA wal_autocheckpoint=0");
      s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
    }
    return c;
  }

  /** Commits {@code rows} one-row transactions of {@code bytes} random bytes each. */
  void insert(int rows, int bytes) throws SQLException {
    insert(sql, rows, bytes);
  }

  /** As {@link #insert(int, int)}, through {@code s}. */
  static void insert(Statement s, int rows, int bytes) throws SQLException {
    for (int i = 0; i < rows; i++) {
      s.execute("INSERT INTO t(v) VALUES (randomblob(" + bytes + "))");
    }
  }

  @Override
  public void close() throws SQLException {
    capturer.close();
    app.close();
  }
}
