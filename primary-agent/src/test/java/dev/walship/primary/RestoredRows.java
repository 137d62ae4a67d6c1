package dev.walship.primary;

import dev.walship.restore.RestorePlanner;
import dev.walship.restore.RestoreProgress;
import dev.walship.restore.RestoreTarget;
import dev.walship.restore.Restorer;
import dev.walship.store.ObjectStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Retention tests' view of a restore: the tests' app writes one row per commit into {@code t}, so
 * the database at TXID n holds exactly ids 1..n-1.
 */
final class RestoredRows {
  private RestoredRows() {}

  /** Restores {@code db} at {@code target} into a new file under {@code dir}; its ids, in order. */
  static List<Long> of(ObjectStore store, String db, RestoreTarget target, Path dir)
      throws Exception {
    Path out = dir.resolve("restored-" + db + "-" + UUID.randomUUID() + ".db");
    new Restorer(store, Restorer.Options.defaults(), RestoreProgress.none()).restoreTo(
        new RestorePlanner(store).plan(db, target), out, false, Restorer.JournalMode.DELETE);
    List<Long> ids = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + out);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY id")) {
      while (rs.next()) {
        ids.add(rs.getLong(1));
      }
    }
    return ids;
  }

  /** The ids at TXID {@code txid}: 1..txid-1. */
  static List<Long> at(long txid) {
    List<Long> ids = new ArrayList<>();
    for (long i = 1; i < txid; i++) {
      ids.add(i);
    }
    return ids;
  }
}
