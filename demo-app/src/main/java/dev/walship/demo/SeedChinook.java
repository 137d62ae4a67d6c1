package dev.walship.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/**
 * Writes the bundled Chinook database to a path (if nothing is there yet) and switches it to WAL:
 * {@code SeedChinook /data/chinook.db}. Used by the compose "app" service.
 */
public final class SeedChinook {
  private SeedChinook() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: SeedChinook PATH");
      System.exit(2);
    }
    Path db = Path.of(args[0]);
    if (Files.exists(db)) {
      System.out.println(db + " exists; left as it is");
      return;
    }
    Path tmp = db.resolveSibling(db.getFileName() + ".seed");
    AppLog.copyChinook(tmp);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + tmp);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
      s.execute("PRAGMA journal_mode=WAL");
    }
    Files.deleteIfExists(tmp.resolveSibling(tmp.getFileName() + "-wal"));
    Files.deleteIfExists(tmp.resolveSibling(tmp.getFileName() + "-shm"));
    Files.move(tmp, db);
    System.out.println("wrote the Chinook database to " + db + " (WAL mode)");
  }
}
