package dev.walship.replica.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Random;

/**
 * The "application" of the consistency tests, run as a separate process: commits transactions
 * that each keep two invariants, {@code sum(acct.bal) = 1000} and {@code counter.n = count(log)}.
 * Usage: {@code InvariantWriter FILE COMMITS SEED [PAUSE_MICROS]} (the pause paces the app between
 * commits, like real traffic). Creates the schema when the file is empty.
 */
public final class InvariantWriter {
  private InvariantWriter() {}

  public static void main(String[] args) throws Exception {
    String file = args[0];
    int commits = Integer.parseInt(args[1]);
    Random random = new Random(Long.parseLong(args[2]));
    long pauseNanos = args.length > 3 ? Long.parseLong(args[3]) * 1000 : 0;
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA busy_timeout=20000");
        s.execute("PRAGMA journal_mode=DELETE");
        s.execute("PRAGMA synchronous=OFF");
      }
      createSchema(c);
      c.setAutoCommit(false);
      try (PreparedStatement move = c.prepareStatement("UPDATE acct SET bal = bal + ? WHERE id = ?");
          PreparedStatement bump = c.prepareStatement("UPDATE counter SET n = n + 1");
          PreparedStatement log =
              c.prepareStatement("INSERT INTO log (n, pad) VALUES ((SELECT n FROM counter), randomblob(?))")) {
        for (int i = 0; i < commits; i++) {
          int amount = random.nextInt(100) - 50;
          move.setInt(1, -amount);
          move.setInt(2, 1);
          move.executeUpdate();
          move.setInt(1, amount);
          move.setInt(2, 2);
          move.executeUpdate();
          bump.executeUpdate();
          log.setInt(1, 50 + random.nextInt(400));
          log.executeUpdate();
          c.commit();
          if (pauseNanos > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
          }
        }
      }
    }
    System.out.println("committed " + commits);
  }

  /** The schema with its invariants holding (idempotent). */
  public static void createSchema(Connection c) throws Exception {
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS acct (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)");
      s.execute("INSERT OR IGNORE INTO acct VALUES (1, 600), (2, 400)");
      s.execute("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)");
      s.execute("INSERT OR IGNORE INTO counter VALUES (1, 0)");
      s.execute("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, pad BLOB)");
    }
  }
}
