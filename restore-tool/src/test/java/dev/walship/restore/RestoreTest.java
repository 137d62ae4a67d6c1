package dev.walship.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.BucketLayout;
import dev.walship.format.CorruptSegmentException;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point-in-time restore against a real S3 server (S3Proxy in-process) of a history written by a
 * separate sqlite3 process (see {@link ReferenceShipper}).
 */
class RestoreTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();

  @TempDir static Path dir;
  static ObjectStore store;
  static ReferenceShipper shipper;
  static final long T0 = Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();

  @BeforeAll
  static void ship() throws IOException {
    store = S3.openFresh();
    // 3,000 bulk rows: about 12,000 pages of 1 KiB, so restores take the parallel apply path.
    shipper = ReferenceShipper.create(store, "app", dir, T0, new Random(42), 3000);
    shipper.run(160, 6, 6);
  }

  @AfterAll
  static void close() {
    shipper.close();
    store.close();
  }

  static Restorer restorer() {
    return new Restorer(store, new Restorer.Options(4, 1 << 20, 7), RestoreProgress.none());
  }

  @Test
  void restoresEveryRandomTxidToExactlyItsCommittedPrefix() throws Exception {
    RestorePlanner planner = new RestorePlanner(store);
    Timeline tl = planner.timeline("app");
    Random r = new Random(7);
    List<Long> targets = new ArrayList<>(List.of(1L, 2L, shipper.txid()));
    for (int i = 0; i < 12; i++) {
      targets.add(1 + (long) r.nextInt((int) shipper.txid()));
    }
    for (long t : targets) {
      RestorePlan plan = planner.plan(tl, RestoreTarget.txid(t));
      Path out = dir.resolve("r-" + t + ".db");
      Restorer.Result result = restorer().restoreTo(plan, out, false, Restorer.JournalMode.WAL);
      ReferenceShipper.Committed expected = shipper.history.get(t);
      assertEquals(t, result.txid());
      assertEquals(expected.checksum(), result.checksum(), "recorded checksum at " + t);
      assertRestored(out, expected);
      Files.delete(out);
    }
  }

  @Test
  void restoresRandomTimestampsToTheLastCommitAtOrBefore() throws Exception {
    RestorePlanner planner = new RestorePlanner(store);
    Timeline tl = planner.timeline("app");
    Random r = new Random(11);
    for (int i = 0; i < 8; i++) {
      long t = 1 + r.nextInt((int) shipper.txid());
      // Between commit t and t+1 (commit times are t0 + txid * 1000 ms).
      Instant at = Instant.ofEpochMilli(T0 + t * 1000 + r.nextInt(1000));
      RestorePlan plan = planner.plan(tl, RestoreTarget.atOrBefore(at));
      assertEquals(t, plan.targetTxid(), "at " + at);
      Path out = dir.resolve("ts-" + t + ".db");
      restorer().restoreTo(plan, out, false, Restorer.JournalMode.DELETE);
      assertRestored(out, shipper.history.get(t));
      Files.delete(out);
    }
  }

  @Test
  void latestUsesTheNewestSnapshotAndFewestSegments() {
    RestorePlan plan = new RestorePlanner(store).plan("app", RestoreTarget.latest());
    assertEquals(shipper.txid(), plan.targetTxid());
    RestorePlan.PlannedObject first = plan.objects().get(0);
    assertTrue(first.snapshot(), "starts from a snapshot: " + first);
    long newestSnapshot = store.listAll(BucketLayout.snapshotPrefix("app"), null).stream()
        .mapToLong(o -> RestorePlanner.txidOfKey(o.key())).max().orElseThrow();
    assertEquals(newestSnapshot, first.firstTxid());
    for (int i = 1; i < plan.objects().size(); i++) {
      assertFalse(plan.objects().get(i).snapshot());
      assertTrue(plan.objects().get(i).firstTxid() > newestSnapshot - 6);
    }
  }

  @Test
  void restoringTheSameTargetTwiceIsByteIdentical() throws Exception {
    RestorePlan plan = new RestorePlanner(store).plan("app", RestoreTarget.txid(97));
    Path a = dir.resolve("twice-a.db");
    Path b = dir.resolve("twice-b.db");
    restorer().restoreTo(plan, a, false, Restorer.JournalMode.WAL);
    restorer().restoreTo(plan, b, false, Restorer.JournalMode.WAL);
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + a);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
      rs.next();
      assertEquals("wal", rs.getString(1));
    }
  }

  @Test
  void refusesToOverwriteWithoutForceAndReplacesWithIt() throws Exception {
    Path out = dir.resolve("existing.db");
    Files.writeString(out, "not a database");
    RestorePlan plan = new RestorePlanner(store).plan("app", RestoreTarget.txid(20));
    assertThrows(Restorer.FileAlreadyExistsWithoutForceException.class,
        () -> restorer().restoreTo(plan, out, false, Restorer.JournalMode.WAL));
    assertEquals("not a database", Files.readString(out));
    Files.writeString(out.resolveSibling("existing.db-wal"), "stale wal");
    restorer().restoreTo(plan, out, true, Restorer.JournalMode.WAL);
    assertFalse(Files.exists(out.resolveSibling("existing.db-wal")));
    assertRestored(out, shipper.history.get(20L));
  }

  @Test
  void targetsOutsideHistoryNameTheNearestPoints() {
    RestorePlanner planner = new RestorePlanner(store);
    RestoreTargetException after = assertThrows(RestoreTargetException.class,
        () -> planner.plan("app", RestoreTarget.txid(shipper.txid() + 5)));
    assertEquals(shipper.txid(), after.nearestBefore().orElseThrow());
    assertTrue(after.getMessage().contains("after the last restore point"), after.getMessage());
    RestoreTargetException before = assertThrows(RestoreTargetException.class,
        () -> planner.plan("app", RestoreTarget.atOrBefore(Instant.ofEpochMilli(T0))));
    assertEquals(1, before.nearestAfter().orElseThrow());
    assertThrows(NoSuchDatabaseException.class, () -> planner.plan("nope", RestoreTarget.latest()));
  }

  @Test
  void historyDeletedByRetentionIsReportedWithTheOldestRemainingPoint() throws Exception {
    try (ObjectStore copy = S3.openFresh()) {
      for (ObjectInfo o : store.listAll("app/", null)) {
        copy.put(o.key(), store.get(o.key()).orElseThrow().data());
      }
      List<ObjectInfo> snaps = copy.listAll(BucketLayout.snapshotPrefix("app"), null);
      long kept = RestorePlanner.txidOfKey(snaps.get(snaps.size() / 2).key());
      // Retention: everything older than the kept snapshot goes (segments that end before it).
      List<ObjectInfo> l0 = copy.listAll(BucketLayout.levelPrefix("app", 0), null);
      for (int i = 0; i + 1 < l0.size(); i++) {
        if (RestorePlanner.txidOfKey(l0.get(i + 1).key()) <= kept + 1) {
          copy.delete(l0.get(i).key());
        }
      }
      for (ObjectInfo o : snaps) {
        if (RestorePlanner.txidOfKey(o.key()) < kept) {
          copy.delete(o.key());
        }
      }
      RestorePlanner planner = new RestorePlanner(copy);
      RestoreTargetException e = assertThrows(RestoreTargetException.class,
          () -> planner.plan("app", RestoreTarget.txid(kept - 1)));
      assertEquals(kept, e.nearestAfter().orElseThrow());
      assertTrue(e.getMessage().contains("before the first restore point"), e.getMessage());
      for (long t : List.of(kept, kept + 1, shipper.txid())) {
        Path out = dir.resolve("retained-" + t + ".db");
        new Restorer(copy, Restorer.Options.defaults(), RestoreProgress.none())
            .restoreTo(planner.plan("app", RestoreTarget.txid(t)), out, false, Restorer.JournalMode.DELETE);
        assertRestored(out, shipper.history.get(t));
      }
      assertEquals(List.of(), new Verifier(copy, 2, dir).verify("app").problems());
    }
  }

  @Test
  void corruptOrMissingObjectsFailNamingTheKeyAndLeaveNoOutput() throws Exception {
    try (ObjectStore copy = S3.openFresh()) {
      for (ObjectInfo o : store.listAll("app/", null)) {
        copy.put(o.key(), store.get(o.key()).orElseThrow().data());
      }
      RestorePlan plan = new RestorePlanner(copy).plan("app", RestoreTarget.latest());
      RestorePlan.PlannedObject victim = plan.objects().get(plan.objects().size() / 2);
      byte[] bytes = copy.get(victim.key()).orElseThrow().data();
      bytes[bytes.length / 2] ^= 0x10;
      copy.put(victim.key(), bytes);
      Path out = dir.resolve("corrupt.db");
      Restorer restorer = new Restorer(copy, Restorer.Options.defaults(), RestoreProgress.none());
      CorruptSegmentException corrupt = assertThrows(CorruptSegmentException.class,
          () -> restorer.restoreTo(plan, out, false, Restorer.JournalMode.WAL));
      assertTrue(corrupt.getMessage().contains(victim.key()), corrupt.getMessage());
      assertNoRestoreLeftovers(out);

      copy.delete(victim.key());
      MissingObjectException missing = assertThrows(MissingObjectException.class,
          () -> restorer.restoreTo(plan, out, false, Restorer.JournalMode.WAL));
      assertEquals(victim.key(), missing.key());
      assertNoRestoreLeftovers(out);
    }
  }

  @Test
  void aSnapshotAppliedWhileDownloadingFailsCleanlyWhenAnyPartOfItIsDamaged() throws Exception {
    try (ObjectStore copy = S3.openFresh()) {
      for (ObjectInfo o : store.listAll("app/", null)) {
        copy.put(o.key(), store.get(o.key()).orElseThrow().data());
      }
      RestorePlan plan = new RestorePlanner(copy).plan("app", RestoreTarget.latest());
      RestorePlan.PlannedObject snapshot = plan.objects().get(0);
      assertTrue(snapshot.snapshot(), "the plan starts with a snapshot: " + snapshot);
      byte[] good = copy.get(snapshot.key()).orElseThrow().data();
      Restorer restorer = new Restorer(copy, Restorer.Options.defaults(), RestoreProgress.none());
      Path out = dir.resolve("streamed.db");
      // Header field, page index, a page body, the last page body, the trailer's file CRC32C:
      // the last two are only found after every page was written to the temporary file.
      for (int at : new int[] {40, 128 + 32 + 8, good.length / 2, good.length - 9, good.length - 8}) {
        byte[] bad = good.clone();
        bad[at] ^= 0x01;
        copy.put(snapshot.key(), bad);
        RuntimeException e = assertThrows(RuntimeException.class,
            () -> restorer.restoreTo(plan, out, false, Restorer.JournalMode.WAL), "flipped byte " + at);
        assertTrue(e instanceof CorruptSegmentException || e instanceof ChecksumChainException,
            "flipped byte " + at + ": " + e);
        assertTrue(e.getMessage().contains(snapshot.key()), e.getMessage());
        assertNoRestoreLeftovers(out);
      }
      // A delta flag (segment format v2, index entry byte 28) with valid CRCs: a snapshot never
      // holds a delta, so the entry is rejected, in a v1 or a v2 header alike, never applied whole.
      for (int version : new int[] {1, 2}) {
        byte[] bad = good.clone();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bad);
        b.putShort(8, (short) version);
        b.put(128 + 32 + 32 + 28, (byte) 1); // entry 1: a delta against page 1 would be its meaning
        int metaEnd = 128 + 32 + 32 * b.getInt(64);
        b.putInt(metaEnd, crc(bad, 0, metaEnd));
        b.putInt(bad.length - 8, crc(bad, 0, bad.length - 8));
        copy.put(snapshot.key(), bad);
        CorruptSegmentException e = assertThrows(CorruptSegmentException.class,
            () -> restorer.restoreTo(plan, out, false, Restorer.JournalMode.WAL), "delta flag, v" + version);
        assertTrue(e.getMessage().contains(snapshot.key()), e.getMessage());
        assertNoRestoreLeftovers(out);
      }
      copy.put(snapshot.key(), java.util.Arrays.copyOf(good, good.length - 1));
      assertThrows(CorruptSegmentException.class,
          () -> restorer.restoreTo(plan, out, false, Restorer.JournalMode.WAL), "truncated");
      assertNoRestoreLeftovers(out);
      copy.delete(snapshot.key());
      MissingObjectException missing = assertThrows(MissingObjectException.class,
          () -> restorer.restoreTo(plan, out, false, Restorer.JournalMode.WAL));
      assertEquals(snapshot.key(), missing.key());
      assertNoRestoreLeftovers(out);
      copy.put(snapshot.key(), good);
      restorer.restoreTo(plan, out, false, Restorer.JournalMode.WAL);
      assertEquals(plan.targetChecksum(), ReferenceShipper.checksumOfFile(out, ReferenceShipper.PAGE_SIZE));
    }
  }

  /**
   * A GET body breaking mid-way once, the streamed snapshot's or a level-0 segment's, is read again
   * from its first byte: the restore succeeds, byte for byte the same as an unbroken one.
   */
  @Test
  void aBodyThatBreaksOnceIsReadAgain() throws Exception {
    RestorePlan plan = new RestorePlanner(store).plan("app", RestoreTarget.latest());
    assertTrue(plan.objects().get(0).snapshot() && plan.objects().size() > 2, "a snapshot, then segments");
    List<String> victims = List.of(plan.objects().get(0).key(), plan.objects().get(2).key());
    // Every body read through `breaking` breaks part way; only the victims' first GETs use it.
    ObjectStore breaking = dev.walship.store.testing.FaultInjectingObjectStore.builder(store, 11)
        .truncatedReadRate(1.0).build();
    java.util.Map<String, Integer> opened = new java.util.concurrent.ConcurrentHashMap<>();
    ObjectStore breaksFirstBodies = (ObjectStore) java.lang.reflect.Proxy.newProxyInstance(
        ObjectStore.class.getClassLoader(), new Class<?>[] {ObjectStore.class}, (proxy, method, args) -> {
          boolean first = method.getName().equals("getStream") && victims.contains((String) args[0])
              && opened.merge((String) args[0], 1, Integer::sum) == 1;
          try {
            return method.invoke(first ? breaking : store, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
    Path out = dir.resolve("broken-once.db");
    new Restorer(breaksFirstBodies, Restorer.Options.defaults(), RestoreProgress.none())
        .restoreTo(plan, out, false, Restorer.JournalMode.WAL);
    assertEquals(java.util.Map.of(victims.get(0), 2, victims.get(1), 2), opened, "each victim was read again");
    Path unbroken = dir.resolve("unbroken.db");
    new Restorer(store, Restorer.Options.defaults(), RestoreProgress.none())
        .restoreTo(plan, unbroken, false, Restorer.JournalMode.WAL);
    assertArrayEquals(Files.readAllBytes(unbroken), Files.readAllBytes(out));
    assertRestored(out, shipper.history.get(plan.targetTxid()));
    Files.delete(out);
    Files.delete(unbroken);
  }

  /** The snapshot's GET body breaking on every attempt fails the restore and leaves nothing. */
  @Test
  void aSnapshotWhoseBodyBreaksMidGetFailsCleanly() throws Exception {
    RestorePlan plan = new RestorePlanner(store).plan("app", RestoreTarget.latest());
    assertTrue(plan.objects().get(0).snapshot(), "the plan starts with a snapshot");
    dev.walship.store.testing.FaultInjectingObjectStore breaking =
        dev.walship.store.testing.FaultInjectingObjectStore.builder(store, 11).truncatedReadRate(1.0).build();
    Restorer restorer = new Restorer(breaking, Restorer.Options.defaults(), RestoreProgress.none());
    Path out = dir.resolve("broken-body.db");
    java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
        () -> restorer.restoreTo(plan, out, false, Restorer.JournalMode.WAL));
    assertTrue(e.getMessage().contains(plan.objects().get(0).key()), e.getMessage());
    assertNoRestoreLeftovers(out);
  }

  private static int crc(byte[] b, int off, int len) {
    java.util.zip.CRC32C c = new java.util.zip.CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  static void assertNoRestoreLeftovers(Path out) throws IOException {
    assertFalse(Files.exists(out), "no output file");
    try (Stream<Path> s = Files.list(out.getParent())) {
      List<String> names = s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("." + out.getFileName())).toList();
      assertEquals(List.of(), names, "temporary files left behind");
    }
  }

  static void assertRestored(Path out, ReferenceShipper.Committed expected) throws Exception {
    assertRestoredAs(shipper, out, expected);
  }

  /** {@code out} holds exactly {@code expected}: checksum, markers, integrity. */
  static void assertRestoredAs(ReferenceShipper shipper, Path out, ReferenceShipper.Committed expected)
      throws Exception {
    assertEquals(expected.checksum(), ReferenceShipper.checksumOfFile(out, ReferenceShipper.PAGE_SIZE),
        "checksum at " + expected.txid());
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + out);
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
        rs.next();
        assertEquals("ok", rs.getString(1));
      }
      assertEquals(expected.markers(), markers(st));
    }
  }

  static List<Long> markers(Statement st) throws SQLException {
    List<Long> seqs = new ArrayList<>();
    try (ResultSet rs = st.executeQuery("SELECT seq FROM markers ORDER BY seq")) {
      while (rs.next()) {
        seqs.add(rs.getLong(1));
      }
    }
    return seqs;
  }
}
