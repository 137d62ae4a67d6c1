package dev.walship.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.BucketLayout;
import dev.walship.format.RetentionHorizon;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class VerifierTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  @TempDir static Path dir;
  static ObjectStore store;
  static ReferenceShipper shipper;

  @BeforeAll
  static void ship() throws Exception {
    store = S3.openFresh();
    shipper = ReferenceShipper.create(store, "app", dir,
        Instant.parse("2026-11-21T10:00:00Z").toEpochMilli(), new Random(9));
    shipper.run(50, 4, 3);
  }

  @AfterAll
  static void close() {
    shipper.close();
    store.close();
  }

  /** A copy of the bucket's objects under a fresh prefix, to damage. */
  static ObjectStore copy() {
    ObjectStore copy = S3.openFresh();
    for (ObjectInfo o : store.listAll("", null)) {
      copy.put(o.key(), store.get(o.key()).orElseThrow().data());
    }
    return copy;
  }

  @Test
  void aHealthyBucketHasNoProblems() {
    Verifier.Report r = new Verifier(store, 3, dir).verify("app");
    assertEquals(List.of(), r.problems());
    int objects = store.listAll("app/L0/", null).size() + store.listAll("app/snapshots/", null).size();
    assertEquals(objects, r.objectsChecked());
    assertEquals(1, r.firstTxid());
    assertEquals(shipper.txid(), r.lastTxid());
  }

  @Test
  void reportsABitFlipAMissingSegmentAndAnInconsistentSnapshotByKey() throws Exception {
    try (ObjectStore damaged = copy()) {
      List<ObjectInfo> l0 = damaged.listAll("app/L0/", null);
      List<ObjectInfo> snaps = damaged.listAll("app/snapshots/", null);
      assertTrue(l0.size() > 6 && snaps.size() >= 3, "enough history: " + l0.size() + "/" + snaps.size());
      String flipped = l0.get(3).key();
      byte[] b = damaged.get(flipped).orElseThrow().data();
      b[b.length - 20] ^= 1;
      damaged.put(flipped, b);
      String deleted = l0.get(5).key();
      damaged.delete(deleted);
      // A snapshot whose bytes belong to another TXID.
      String wrongSnap = snaps.get(snaps.size() - 1).key();
      damaged.put(wrongSnap, damaged.get(snaps.get(1).key()).orElseThrow().data());

      Verifier.Report r = new Verifier(damaged, 3, dir).verify("app");
      assertFalse(r.ok());
      List<String> keys = r.problems().stream().map(Verifier.Problem::key).toList();
      assertTrue(keys.contains(flipped), r.problems().toString());
      String afterDeleted = l0.get(6).key();
      assertTrue(r.problems().stream().anyMatch(p -> p.key().equals(afterDeleted)
          && p.message().contains("TXID gap") && p.message().contains(l0.get(4).key())), r.problems().toString());
      assertTrue(keys.contains(wrongSnap), r.problems().toString());

      // A restore target inside the deleted segment is a gap naming both neighbours.
      long t = RestorePlanner.txidOfKey(deleted);
      if (snaps.stream().noneMatch(o -> RestorePlanner.txidOfKey(o.key()) == t)) {
        RestoreTargetException e = assertThrows(RestoreTargetException.class,
            () -> new RestorePlanner(damaged).plan("app", RestoreTarget.txid(t)));
        assertTrue(e.getMessage().contains("gap"), e.getMessage());
        assertEquals(t - 1, e.nearestBefore().orElseThrow());
        assertEquals(RestorePlanner.txidOfKey(afterDeleted), e.nearestAfter().orElseThrow());
      }
    }
  }

  @Test
  void aRetentionHorizonIsCheckedAndShownButIsNotADataObject() {
    try (ObjectStore copy = copy()) {
      Inventory.DatabaseInfo without = new Inventory(copy).describe("app");
      assertEquals(-1, without.horizonTxid());
      String key = RetentionHorizon.key("app");
      copy.put(key, RetentionHorizon.of("app", 9, 1_700_000_000_000L).toJson());

      Inventory.DatabaseInfo with = new Inventory(copy).describe("app");
      assertEquals(9, with.horizonTxid());
      assertEquals(null, with.horizonProblem());
      assertEquals(without.objects(), with.objects());
      assertEquals(without.bytes(), with.bytes());
      assertEquals(List.of(), new Verifier(copy, 3, dir).verify("app").problems());

      copy.put(key, "{\"format_version\":1,\"db\":\"app\",\"txid\":-3,\"updated_ms\":0}"
          .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertHorizonProblem(copy, key, "txid");
      copy.put(key, "not json".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertHorizonProblem(copy, key, key);
      copy.put(key, RetentionHorizon.of("other", 9, 0).toJson());
      assertHorizonProblem(copy, key, "other");
    }
  }

  private static void assertHorizonProblem(ObjectStore store, String key, String mentioned) {
    Verifier.Report r = new Verifier(store, 3, dir).verify("app");
    assertEquals(List.of(key), r.problems().stream().map(Verifier.Problem::key).toList(),
        r.problems().toString());
    assertTrue(r.problems().get(0).message().contains(mentioned), r.problems().toString());
    Inventory.DatabaseInfo info = new Inventory(store).describe("app");
    assertEquals(-1, info.horizonTxid());
    assertTrue(info.horizonProblem().contains(mentioned), info.horizonProblem());
  }

  @Test
  void reportsAMissingLineageManifest() {
    try (ObjectStore damaged = copy()) {
      damaged.delete(BucketLayout.lineageKey("app"));
      Verifier.Report r = new Verifier(damaged, 2, dir).verify("app");
      assertEquals(BucketLayout.lineageKey("app"), r.problems().get(0).key());
    }
  }
}
