package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.walship.format.DatabaseChecksum;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Per-test fixture: a fresh bucket prefix, agents on it, and the central equality check. */
final class Harness implements AutoCloseable {
  final InProcessS3 s3;
  final Path dir;
  final String prefix = "t-" + UUID.randomUUID();
  final ObjectStore store;
  private final List<AutoCloseable> open = new ArrayList<>();

  Harness(InProcessS3 s3, Path dir) {
    this.s3 = s3;
    this.dir = dir;
    this.store = s3.open(prefix);
  }

  DatabaseOptions options(Path db) {
    return DatabaseOptions.of(db, s3.targetUrl(prefix))
        .withSyncInterval(Duration.ZERO)
        .withSpoolDir(dir.resolve("spool-" + UUID.randomUUID()));
  }

  DatabaseAgent start(DatabaseOptions o) {
    return start(o, store, InstantSource.system());
  }

  DatabaseAgent start(DatabaseOptions o, ObjectStore st, InstantSource clock) {
    DatabaseAgent a = new DatabaseAgent(o, st, new SimpleMeterRegistry(), clock);
    a.start();
    open.add(a);
    return a;
  }

  /**
   * The central check: the bucket, replayed segment by segment with checksum verification,
   * equals the app's database (checksum, .dump, integrity_check). Call after the app exited and
   * the agent drained and closed.
   *
   * @return the replay result
   */
  BucketReplay.Result assertBucketEqualsApp(String name, Path appDb) {
    Path out = dir.resolve("replayed-" + UUID.randomUUID() + ".db");
    BucketReplay.Result r = BucketReplay.replay(store, name, out);
    Sqlite3.run(appDb, "PRAGMA wal_checkpoint(TRUNCATE);");
    assertEquals(
        DatabaseChecksum.toHex(DatabaseChecksum.ofFile(appDb, r.pageSize())),
        DatabaseChecksum.toHex(r.checksum()),
        "database checksum of the bucket vs the app's file");
    assertEquals("ok\n", Sqlite3.run(out, "PRAGMA integrity_check;"));
    assertEquals(Sqlite3.run(appDb, ".dump"), Sqlite3.run(out, ".dump"));
    return r;
  }

  Path copyOf(Path src, String name) {
    try {
      Path p = dir.resolve(name);
      Files.copy(src, p);
      p.toFile().setWritable(true);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    for (AutoCloseable c : open.reversed()) {
      try {
        c.close();
      } catch (Exception e) {
        // best effort: the test already has its verdict
      }
    }
    store.close();
  }
}
