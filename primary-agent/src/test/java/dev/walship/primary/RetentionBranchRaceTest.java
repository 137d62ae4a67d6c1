package dev.walship.primary;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.BucketLayout;
import dev.walship.format.RetentionHorizon;
import dev.walship.restore.Brancher;
import dev.walship.restore.RestoreTarget;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #5, "retention never deletes parent objects that a live branch still needs", under
 * concurrency: a branch and a retention run of its parent, interleaved request by request in many
 * seeded orders ({@link Lockstep}) against a real S3 server (in-process). Named invariants, checked
 * after every interleaving:
 *
 * <ul>
 *   <li><b>SucceededBranchRestores</b>: a branch that was created restores to exactly the parent's
 *       rows at its branch point, after retention finished deleting.
 *   <li><b>RefusedBranchLeavesNothing</b>: a refused branch left no back-reference and no lineage,
 *       and was refused for the retention reason.
 *   <li><b>WindowBranchesSucceed</b>: a branch inside the retention window is never refused.
 *   <li><b>ParentUnchanged</b>: the parent still restores to its latest TXID.
 * </ul>
 */
class RetentionBranchRaceTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  static final long T0 = Instant.parse("2026-11-21T00:00:00Z").toEpochMilli();
  static final Duration RETENTION = Duration.ofHours(3);
  static final int SCHEDULES = 48;

  @TempDir Path dir;
  final AtomicLong now = new AtomicLong(T0);
  final InstantSource clock = () -> Instant.ofEpochMilli(now.get());

  @Test
  void aBranchRacingARetentionRunEitherRestoresOrIsRefusedCleanly() throws Exception {
    long lastTxid;
    List<ObjectInfo> fixture;
    try (Harness h = new Harness(S3, dir)) {
      lastTxid = shipSixHours(h);
      fixture = h.store.listAll("app/", null);
      long oldTxid = 5;
      long windowTxid = lastTxid - 2;
      int raced = 0;
      int refused = 0;
      int succeededOld = 0;
      int plannedGone = 0;
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        for (int seed = 0; seed < SCHEDULES; seed++) {
          long target = seed % 4 == 3 ? windowTxid : oldTxid;
          try (ObjectStore bucket = S3.openFresh()) {
            copy(h.store, fixture, bucket);
            Outcome o = race(pool, bucket, seed, target);
            String where = "seed " + seed + ", branch at TXID " + target + ": " + o.log;
            int list = o.indexOf("retention LIST app/branches/");
            int ref = o.indexOf("brancher PUT app/branches/child.json");
            int delete = o.indexOf("retention DELETE");
            boolean inWindow = list >= 0 && ref > list && delete > ref;
            if (inWindow) {
              raced++;
            }
            assertTrue(o.retention.deleted().size() > 0, "retention deleted old objects; " + where);
            if (o.branchError == null) {
              if (target == oldTxid) {
                succeededOld++;
              }
              assertFalse(inWindow && target == oldTxid,
                  "a branch whose back-reference landed after retention listed branches/ succeeded; "
                      + where);
              assertEquals(RestoredRows.at(target), rowsOf(bucket, "child"),
                  "SucceededBranchRestores: " + where);
            } else {
              refused++;
              assertInstanceOf(Brancher.BranchNotSafeException.class, o.branchError, where);
              assertTrue(o.branchError.getMessage().contains("retention horizon"),
                  o.branchError.getMessage());
              if (ref < 0) {
                plannedGone++; // retention deleted what the plan listed before anything was written
              }
              assertTrue(target != windowTxid, "WindowBranchesSucceed: " + where);
              assertTrue(bucket.head(BucketLayout.branchKey("app", "child")).isEmpty(),
                  "RefusedBranchLeavesNothing (back-reference): " + where);
              assertTrue(bucket.head(BucketLayout.lineageKey("child")).isEmpty(),
                  "RefusedBranchLeavesNothing (lineage): " + where);
            }
            assertEquals(RestoredRows.at(lastTxid), rowsOf(bucket, "app"), "ParentUnchanged: " + where);
          }
        }
      } finally {
        pool.shutdownNow();
      }
      // The schedules covered the race of the issue and both outcomes.
      assertTrue(raced > 0, "some back-reference landed between retention's LIST and DELETE");
      assertTrue(refused > 0 && succeededOld > 0,
          "refused " + refused + ", old-point branches that succeeded " + succeededOld);
      assertTrue(plannedGone > 0, "some plan lost an object to retention while it was made");
    }
  }

  private record Outcome(Retention.Report retention, Throwable branchError, List<String> log) {
    int indexOf(String prefix) {
      for (int i = 0; i < log.size(); i++) {
        if (log.get(i).startsWith(prefix)) {
          return i;
        }
      }
      return -1;
    }
  }

  /** One retention run and one branch at {@code target}, interleaved as {@code seed} says. */
  private Outcome race(ExecutorService pool, ObjectStore bucket, long seed, long target)
      throws Exception {
    Lockstep steps = new Lockstep(seed, List.of("retention", "brancher"));
    Retention retention =
        new Retention(steps.store("retention", bucket), "app", RETENTION, clock);
    Brancher brancher = new Brancher(steps.store("brancher", bucket),
        Clock.fixed(Instant.ofEpochMilli(now.get()), ZoneOffset.UTC));
    Future<Retention.Report> r = pool.submit(() -> {
      try {
        return retention.run();
      } finally {
        steps.finished("retention");
      }
    });
    Future<?> b = pool.submit(() -> {
      try {
        brancher.branch("app", "child", RestoreTarget.txid(target));
      } finally {
        steps.finished("brancher");
      }
      return null;
    });
    Throwable branchError = null;
    try {
      b.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      branchError = e.getCause();
    }
    return new Outcome(r.get(60, TimeUnit.SECONDS), branchError, steps.log());
  }

  /**
   * Six hours of history (hourly snapshots, three commits every 30 minutes) shipped by a primary
   * without retention; the clock ends six hours after the first commit.
   *
   * @return the last TXID (the rows at TXID n are ids 1..n-1)
   */
  private long shipSixHours(Harness h) throws Exception {
    Path db = dir.resolve("app.db");
    Sqlite3.run(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    DatabaseAgent agent = h.start(h.options(db).withSpoolDir(dir.resolve("spool"))
        .withSnapshotInterval(Duration.ofHours(1)), h.store, clock);
    long last = agent.capturedTxid();
    long lastSnapshot = T0;
    for (int i = 0; i < 12; i++) {
      Sqlite3.run(db, "PRAGMA busy_timeout=10000;\n" + "INSERT INTO t(v) VALUES ('row');\n".repeat(3));
      long txid = agent.syncNow(30_000);
      assertEquals(last + 3, txid, "one TXID per commit");
      last = txid;
      now.addAndGet(Duration.ofMinutes(30).toMillis());
      agent.syncNow(30_000); // one capture pass at the new time: a due snapshot is cut in it
      if (now.get() - lastSnapshot >= Duration.ofHours(1).toMillis()) {
        long snap = last;
        await().atMost(Duration.ofSeconds(60))
            .until(() -> h.store.head(BucketLayout.snapshotKey("app", snap)).isPresent());
        lastSnapshot = now.get();
      }
    }
    agent.close();
    assertTrue(h.store.head(RetentionHorizon.key("app")).isEmpty(), "no retention ran yet");
    return last;
  }

  private static void copy(ObjectStore from, List<ObjectInfo> keys, ObjectStore to) {
    for (ObjectInfo o : keys) {
      to.put(o.key(), from.get(o.key()).orElseThrow().data());
    }
  }

  private List<Long> rowsOf(ObjectStore store, String name) throws Exception {
    return RestoredRows.of(store, name, RestoreTarget.latest(), dir);
  }
}
