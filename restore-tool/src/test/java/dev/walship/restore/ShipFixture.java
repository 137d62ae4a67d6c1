package dev.walship.restore;

import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Random;

/**
 * Writes a small history into a bucket for trying the CLI by hand:
 * {@code java -cp <test classpath> dev.walship.restore.ShipFixture URL WORKDIR [DB] [COMMITS]}
 * (commit times start at 2026-11-21T10:00:00Z, one second apart).
 */
public final class ShipFixture {
  private ShipFixture() {}

  /**
   * Ships {@code commits} commits of database {@code db} (TXIDs 1..commits+1, commit t at
   * 2026-11-21T10:00:00Z + t seconds) into {@code store}; returns the last TXID. Tests of other
   * modules use it with {@link #markersAt(long)} as the model.
   */
  public static long ship(ObjectStore store, Path work, String db, int commits) throws java.io.IOException {
    try (ReferenceShipper s = ReferenceShipper.create(store, db, work,
        Instant.parse("2026-11-21T10:00:00Z").toEpochMilli(), new Random(1))) {
      s.run(commits, 5, 5);
      return s.txid();
    }
  }

  /** The marker rows ({@code SELECT seq FROM markers ORDER BY seq}) at {@code txid}. */
  public static java.util.List<Long> markersAt(long txid) {
    java.util.TreeSet<Long> m = new java.util.TreeSet<>();
    for (long t = 2; t <= txid; t++) {
      m.add(t);
      if (t % 7 == 0) {
        m.remove(t - 5);
      }
    }
    return java.util.List.copyOf(m);
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    Path work = Files.createDirectories(Path.of(args[1]));
    String db = args.length > 2 ? args[2] : "app";
    int commits = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    try (ObjectStore store = ObjectStores.open(url);
        ReferenceShipper s = ReferenceShipper.create(store, db, work,
            Instant.parse("2026-11-21T10:00:00Z").toEpochMilli(), new Random(1))) {
      s.run(commits, 5, 5);
      System.out.printf("shipped %s: TXIDs 1..%d, checksum at last %016x%n", db, s.txid(),
          s.history.lastEntry().getValue().checksum());
    }
  }
}
