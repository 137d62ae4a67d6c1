package dev.walship.restore;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.BucketLayout;
import dev.walship.format.RetentionHorizon;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a branch does with its parent's retention horizon ({@code retention.json}, written by the
 * parent's retention before it lists {@code branches/}): refuse, leaving nothing behind, when
 * retention may delete what the branch reads; succeed (and restore) from the horizon on. The
 * interleavings with a real retention run are in primary-agent's {@code RetentionBranchRaceTest}.
 */
class BranchRetentionHorizonTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  @TempDir Path dir;

  static final long T0 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
  final Clock clock = Clock.fixed(Instant.parse("2026-11-21T12:00:00Z"), ZoneOffset.UTC);

  @Test
  void aBranchIsRefusedBelowTheHorizonAndSucceedsFromItOn() throws Exception {
    try (ObjectStore store = S3.openFresh();
        ReferenceShipper parent = ReferenceShipper.create(store, "app", dir, T0, new Random(7))) {
      parent.run(20, 4, 0);
      parent.snapshot();
      long horizon = parent.txid();
      parent.run(20, 4, 0);
      store.putIfAbsent(RetentionHorizon.key("app"), RetentionHorizon.of("app", horizon, T0).toJson());
      Brancher brancher = new Brancher(store, clock);

      Brancher.BranchNotSafeException below = assertThrows(Brancher.BranchNotSafeException.class,
          () -> brancher.branch("app", "old", RestoreTarget.txid(5)));
      assertTrue(below.getMessage().contains("retention horizon TXID " + horizon), below.getMessage());
      assertTrue(below.getMessage().contains(BucketLayout.snapshotKey("app", 1)), below.getMessage());
      assertLeftNothing(store, "app", "old");

      for (long t : new long[] {horizon, horizon + 3}) {
        String name = "at-" + t;
        brancher.branch("app", name, RestoreTarget.txid(t));
        assertRestoresAs(store, parent, name, t);
      }
    }
  }

  @Test
  void aBranchOfABranchBeforeItsBranchPointIsRefused() throws Exception {
    try (ObjectStore store = S3.openFresh();
        ReferenceShipper parent = ReferenceShipper.create(store, "app", dir, T0, new Random(8))) {
      parent.run(30, 4, 3);
      Brancher brancher = new Brancher(store, clock);
      brancher.branch("app", "mid", RestoreTarget.txid(20));

      Brancher.BranchNotSafeException inherited = assertThrows(
          Brancher.BranchNotSafeException.class,
          () -> brancher.branch("mid", "deep", RestoreTarget.txid(12)));
      assertTrue(inherited.getMessage().contains("inherited from app"), inherited.getMessage());
      assertLeftNothing(store, "mid", "deep");

      brancher.branch("mid", "deep", RestoreTarget.txid(20)); // the branch point itself is kept
      assertRestoresAs(store, parent, "deep", 20);
    }
  }

  @Test
  void anUnreadableHorizonRefusesTheBranch() throws Exception {
    try (ObjectStore store = S3.openFresh();
        ReferenceShipper parent = ReferenceShipper.create(store, "app", dir, T0, new Random(9))) {
      parent.run(10, 4, 0);
      store.put(RetentionHorizon.key("app"), "{\"format_version\":1}".getBytes(StandardCharsets.UTF_8));
      Brancher.BranchNotSafeException e = assertThrows(Brancher.BranchNotSafeException.class,
          () -> new Brancher(store, clock).branch("app", "b", RestoreTarget.txid(parent.txid())));
      assertTrue(e.getMessage().contains("cannot be read"), e.getMessage());
      assertLeftNothing(store, "app", "b");
    }
  }

  private static void assertLeftNothing(ObjectStore store, String parent, String child) {
    assertTrue(store.head(BucketLayout.branchKey(parent, child)).isEmpty(), "back-reference left");
    assertTrue(store.list(BucketLayout.dbPrefix(child), null, 1).isEmpty(), child + " objects left");
  }

  private void assertRestoresAs(ObjectStore store, ReferenceShipper parent, String db, long txid)
      throws Exception {
    Path out = dir.resolve(db + ".db");
    new Restorer(store, new Restorer.Options(2, 1 << 20, 5), RestoreProgress.none())
        .restoreTo(new RestorePlanner(store).plan(db, RestoreTarget.latest()), out, false,
            Restorer.JournalMode.DELETE);
    RestoreTest.assertRestoredAs(parent, out, parent.history.get(txid));
  }
}
