package dev.walship.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.BucketLayout;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Branching from the middle of history, writing on the branch, and ls/verify of both. */
class BranchTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  @TempDir Path dir;

  static final long T0 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
  final Clock clock = Clock.fixed(Instant.parse("2026-11-21T12:00:00Z"), ZoneOffset.UTC);

  Restorer restorer(ObjectStore store) {
    return new Restorer(store, new Restorer.Options(3, 1 << 20, 5), RestoreProgress.none());
  }

  @Test
  void branchFromTheMiddleRestoresToItsOwnStateAndLeavesTheParentUnchanged() throws Exception {
    try (ObjectStore store = S3.openFresh();
        ReferenceShipper parent = ReferenceShipper.create(store, "app", dir, T0, new Random(3))) {
      parent.run(60, 5, 5);
      Lineage branch = new Brancher(store, clock).branch("app", "feature", RestoreTarget.txid(30));
      assertEquals("app", branch.parent().db());
      assertEquals(30, branch.parent().txid());
      assertEquals(parent.history.get(30L).checksum(), branch.parent().checksum());
      assertTrue(store.head(Brancher.branchRefKey("app", "feature")).isPresent());
      assertThrows(Brancher.BranchExistsException.class,
          () -> new Brancher(store, clock).branch("app", "feature", RestoreTarget.txid(10)));
      assertThrows(RestoreTargetException.class,
          () -> new Brancher(store, clock).branch("app", "other", RestoreTarget.txid(parent.txid() + 1)));
      assertTrue(store.head(BucketLayout.lineageKey("other")).isEmpty());

      // The branch is restorable at once (the parent's objects up to TXID 30).
      Path file = dir.resolve("feature.db");
      RestorePlanner planner = new RestorePlanner(store);
      restorer(store).restoreTo(planner.plan("feature", RestoreTarget.latest()), file, false,
          Restorer.JournalMode.DELETE);
      RestoreTest.assertRestoredAs(parent, file, parent.history.get(30L));

      // Writes on the branch go to the branch's own lineage.
      try (ReferenceShipper onBranch = ReferenceShipper.branch(store, "feature", file, branch,
          parent.history.get(30L), T0 + 1_000_000, 1_000_000, new Random(4))) {
        onBranch.run(25, 4, 4);
        assertEquals(55, onBranch.txid());
        for (long t : List.of(31L, 42L, 55L)) {
          Path out = dir.resolve("feature-" + t + ".db");
          RestorePlan plan = planner.plan("feature", RestoreTarget.txid(t));
          restorer(store).restoreTo(plan, out, false, Restorer.JournalMode.WAL);
          RestoreTest.assertRestoredAs(onBranch, out, onBranch.history.get(t));
        }
        Path mid = dir.resolve("feature-20.db");
        restorer(store).restoreTo(planner.plan("feature", RestoreTarget.txid(20)), mid, false,
            Restorer.JournalMode.WAL);
        RestoreTest.assertRestoredAs(parent, mid, parent.history.get(20L));

        // The parent is untouched: its own history, beyond the branch point too.
        for (long t : List.of(45L, 61L)) {
          Path out = dir.resolve("app-" + t + ".db");
          restorer(store).restoreTo(planner.plan("app", RestoreTarget.txid(t)), out, false,
              Restorer.JournalMode.WAL);
          RestoreTest.assertRestoredAs(parent, out, parent.history.get(t));
        }

        Inventory.DatabaseInfo app = new Inventory(store).describe("app");
        assertEquals(List.of("feature"), app.branches());
        assertNull(app.parent());
        assertEquals(1, app.firstTxid());
        assertEquals(61, app.lastTxid());
        assertEquals(T0 + 1000, app.firstCommitMs());
        assertEquals(T0 + 61_000, app.lastCommitMs());
        List<Inventory.DatabaseInfo> all = new Inventory(store).all();
        assertEquals(List.of("app", "feature"), all.stream().map(Inventory.DatabaseInfo::db).toList());
        Inventory.DatabaseInfo feature = all.get(1);
        assertEquals(30, feature.parent().txid());
        assertEquals(55, feature.lastTxid());

        Verifier verifier = new Verifier(store, 2, dir);
        for (Verifier.Report r : verifier.verifyAll()) {
          assertEquals(List.of(), r.problems(), r.db());
          assertTrue(r.objectsChecked() > 0);
        }
        assertTrue(Files.exists(dir.resolve("feature-55.db")));
      }
    }
  }
}
