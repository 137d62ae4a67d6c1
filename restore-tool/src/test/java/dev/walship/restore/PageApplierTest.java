package dev.walship.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.CommitRecord;
import dev.walship.format.Compression;
import dev.walship.format.Segment;
import dev.walship.format.SegmentCodec;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.walship.format.BucketLayout;
import dev.walship.format.SegmentReader;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PageApplierTest {
  @TempDir static Path dir;
  static ObjectStore store;
  static ReferenceShipper shipper;

  @BeforeAll
  static void ship() throws Exception {
    store = ObjectStores.open(dir.resolve("bucket").toUri().toString());
    shipper = ReferenceShipper.create(store, "app", dir, Instant.parse("2026-11-21T10:00:00Z").toEpochMilli(), new Random(5));
    shipper.run(80, 4, 0);
  }

  @AfterAll
  static void close() {
    shipper.close();
    store.close();
  }

  static SegmentReader read(String key) {
    return SegmentReader.open(store.get(key).orElseThrow().data(), key);
  }

  @Test
  void appliesEverySegmentOneByOneWithTheRecordedChecksums() {
    List<ObjectInfo> l0 = store.listAll(BucketLayout.levelPrefix("app", 0), null);
    try (PageApplier a = PageApplier.open(dir.resolve("one.db"), shipper.lineage.lineageId(), SegmentSource.none())) {
      for (ObjectInfo o : l0) {
        SegmentReader r = read(o.key());
        for (long t = Math.max(r.firstTxid(), a.txid() + 1); t <= r.lastTxid(); t++) {
          a.apply(o.key(), r, t);
          assertEquals(shipper.history.get(t).checksum(), a.checksum(), "state at " + t);
          assertEquals(a.checksum(), a.recomputeChecksum(), "file at " + t);
        }
      }
      assertEquals(shipper.txid(), a.txid());
    }
  }

  static List<ObjectInfo> level0() {
    return store.listAll(BucketLayout.levelPrefix("app", 0), null);
  }

  /** Applies whole segments up to the one whose index is {@code until} (exclusive). */
  static void applyUntil(PageApplier a, int until) {
    List<ObjectInfo> l0 = level0();
    for (int i = 0; i < until; i++) {
      try (SegmentReader r = read(l0.get(i).key())) {
        a.apply(l0.get(i).key(), r, r.lastTxid());
      }
    }
  }

  @Test
  void readersOnTheSameFileSeeOnlyCommittedStatesInOrderWhileApplying() throws Exception {
    Path file = dir.resolve("readers.db");
    List<ObjectInfo> l0 = level0();
    try (PageApplier a = PageApplier.open(file, null, SegmentSource.none())) {
      applyUntil(a, 1);
      AtomicBoolean done = new AtomicBoolean();
      CompletableFuture<List<Long>> reader = CompletableFuture.supplyAsync(() -> {
        List<Long> seen = new ArrayList<>();
        try (Connection c = a.openReader(); Statement st = c.createStatement()) {
          while (!done.get()) {
            try (ResultSet rs = st.executeQuery("SELECT count(*), coalesce(max(seq), 1) FROM markers")) {
              rs.next();
              long max = rs.getLong(2);
              ReferenceShipper.Committed at = shipper.history.get(max);
              assertEquals(at.markers().size(), rs.getLong(1), "a committed state at TXID " + max);
              seen.add(max);
            }
          }
        } catch (java.sql.SQLException e) {
          throw new IllegalStateException(e);
        }
        return seen;
      });
      for (int i = 1; i < l0.size(); i++) {
        try (SegmentReader r = read(l0.get(i).key())) {
          for (long t = Math.max(r.firstTxid(), a.txid() + 1); t <= r.lastTxid(); t++) {
            a.apply(l0.get(i).key(), r, t);
          }
        }
      }
      done.set(true);
      List<Long> seen = reader.get();
      assertTrue(seen.size() > 10, "reads: " + seen.size());
      for (int i = 1; i < seen.size(); i++) {
        assertTrue(seen.get(i) >= seen.get(i - 1), "monotonic: " + seen.get(i - 1) + " then " + seen.get(i));
      }
      assertEquals(shipper.txid(), a.txid());
    }
  }

  @Test
  void anInterruptedApplyIsRepairedOnOpenFromItsIntent() throws Exception {
    Path file = dir.resolve("crash.db");
    List<ObjectInfo> l0 = level0();
    int victim = l0.size() / 2;
    long from;
    String lineage = shipper.lineage.lineageId();
    try (PageApplier a = PageApplier.open(file, lineage, SegmentSource.none())) {
      applyUntil(a, victim);
      from = a.txid();
    }
    String key = l0.get(victim).key();
    long upto;
    try (SegmentReader r = read(key)) {
      upto = r.lastTxid();
      // The crash: intent written, then half of the page images (any versions) and a bad size.
      try (StateFile state = StateFile.open(file)) {
        state.writeDurable(new ApplierState(lineage, from, shipper.history.get(from).checksum(),
            ReferenceShipper.PAGE_SIZE,
            new ApplierState.Intent(List.of(key), from, upto, r.checksumAfter(), false), null));
      }
      byte[] page = new byte[r.pageSize()];
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        for (int i = 0; i < r.pageCount(); i += 2) {
          r.readPage(i, page, 0);
          ch.write(ByteBuffer.wrap(page), (r.pageNumber(i) - 1) * r.pageSize());
        }
        ch.write(ByteBuffer.wrap(page), (r.dbSizePages() + 3) * r.pageSize());
      }
    }
    assertThrows(IllegalStateException.class,
        () -> PageApplier.open(file, lineage, SegmentSource.none()).close(), "no source: no repair");
    List<String> fetched = new ArrayList<>();
    try (PageApplier a = PageApplier.open(file, lineage, k -> {
      fetched.add(k);
      return read(k);
    })) {
      assertEquals(List.of(key), fetched);
      assertEquals(upto, a.txid());
      assertEquals(shipper.history.get(upto).checksum(), a.checksum());
      assertEquals(a.checksum(), a.recomputeChecksum());
      try (Connection c = a.openReader(); Statement st = c.createStatement()) {
        try (ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
          rs.next();
          assertEquals("ok", rs.getString(1));
        }
        assertEquals(shipper.history.get(upto).markers(), RestoreTest.markers(st));
      }
      // And it continues normally.
      for (int i = victim + 1; i < l0.size(); i++) {
        try (SegmentReader r = read(l0.get(i).key())) {
          a.apply(l0.get(i).key(), r, r.lastTxid());
        }
      }
      assertEquals(shipper.txid(), a.txid());
    }
  }

  @Test
  void aPreCheckMismatchLeavesTheDatabaseIntactAndAPostCheckMismatchMarksItFailed() throws Exception {
    Path file = dir.resolve("mismatch.db");
    List<ObjectInfo> l0 = level0();
    try (PageApplier a = PageApplier.open(file, null, SegmentSource.none())) {
      applyUntil(a, 3);
      long at = a.txid();
      String key = l0.get(3).key();
      Segment real;
      try (SegmentReader r = read(key)) {
        real = r.toSegment();
      }
      Segment wrongBefore = new Segment(real.kind(), real.level(), real.pageSize(), real.firstTxid(),
          real.lastTxid(), real.checksumBefore() ^ 1, real.commits(), real.pages());
      ChecksumChainException pre = assertThrows(ChecksumChainException.class, () -> a.apply(key,
          SegmentReader.open(SegmentCodec.encode(wrongBefore, Compression.NONE), key), real.lastTxid()));
      assertEquals(ChecksumChainException.Stage.PRE_APPLY, pre.stage());
      assertTrue(pre.getMessage().contains(key), pre.getMessage());
      assertEquals(at, a.txid());
      assertFalse(a.failure().isPresent());

      List<CommitRecord> commits = new ArrayList<>(real.commits());
      CommitRecord lastCommit = commits.remove(commits.size() - 1);
      commits.add(new CommitRecord(lastCommit.txid(), lastCommit.commitTimeMillis(),
          lastCommit.dbSizePages(), lastCommit.checksumAfter() ^ 1));
      Segment wrongAfter = new Segment(real.kind(), real.level(), real.pageSize(), real.firstTxid(),
          real.lastTxid(), real.checksumBefore(), commits, real.pages());
      ChecksumChainException post = assertThrows(ChecksumChainException.class, () -> a.apply(key,
          SegmentReader.open(SegmentCodec.encode(wrongAfter, Compression.NONE), key), real.lastTxid()));
      assertEquals(ChecksumChainException.Stage.POST_APPLY, post.stage());
      assertTrue(a.failure().isPresent());
      assertThrows(DatabaseFailedException.class, a::openReader);
    }
    try (PageApplier again = PageApplier.open(file, null, SegmentSource.none())) {
      assertTrue(again.failure().isPresent(), "the failure survives a restart");
      try (SegmentReader r = read(l0.get(3).key())) {
        assertThrows(DatabaseFailedException.class, () -> again.apply(l0.get(3).key(), r, r.lastTxid()));
      }
    }
  }

  @Test
  void aLostEndOfApplyRecordIsRepairedFromTheDurableIntent() throws Exception {
    // The record that ends an apply is written without fsync: model a power loss that lost it
    // (its slot torn) while the pages and the intent before it were durable.
    Path file = dir.resolve("lost-done.db");
    List<ObjectInfo> l0 = level0();
    String lineage = shipper.lineage.lineageId();
    long upto;
    long checksum;
    try (PageApplier a = PageApplier.open(file, lineage, SegmentSource.none())) {
      applyUntil(a, 4);
      upto = a.txid();
      checksum = a.checksum();
    }
    assertEquals(Optional.of(new PageApplier.RecordedState(upto, checksum, -1, null)),
        PageApplier.recordedState(file), "close synced the pages and recorded the TXID");
    StateFileTest.corruptSlot(file, StateFileTest.newestSlot(file), StateFile.HEADER_BYTES + 5);
    PageApplier.RecordedState seen = PageApplier.recordedState(file).orElseThrow();
    assertEquals(upto, seen.pendingUptoTxid(), "the durable intent of the last apply is the state");
    List<String> fetched = new ArrayList<>();
    try (PageApplier a = PageApplier.open(file, lineage, k -> {
      fetched.add(k);
      return read(k);
    })) {
      int base;
      try (SegmentReader r = read(l0.get(0).key())) {
        base = r.kind() == dev.walship.format.SegmentKind.SNAPSHOT ? 1 : 0; // synced after a snapshot
      }
      assertEquals(l0.subList(base, 4).stream().map(ObjectInfo::key).toList(), fetched,
          "every segment since the last fsync of the pages is applied again");
      assertEquals(upto, a.txid());
      assertEquals(shipper.history.get(upto).checksum(), a.checksum());
      assertEquals(a.checksum(), a.recomputeChecksum());
      for (int i = 4; i < l0.size(); i++) {
        try (SegmentReader r = read(l0.get(i).key())) {
          a.apply(l0.get(i).key(), r, r.lastTxid());
        }
      }
      assertEquals(shipper.txid(), a.txid());
      assertEquals(shipper.history.get(shipper.txid()).checksum(), a.recomputeChecksum());
    }
  }

  @Test
  void pagesNotYetFsyncedAreCoveredByTheIntentAndRepairedAfterACrash() throws Exception {
    // Applies after the last sync write no fsync of the pages: the durable intent must name all of
    // them. The crash image: the state file as the killed applier left it, and the database file
    // as it was at the last sync plus only some of the later page writes (the rest lost).
    Path file = dir.resolve("unsynced.db");
    Path crashed = dir.resolve("unsynced-crashed.db");
    List<ObjectInfo> l0 = level0();
    String lineage = shipper.lineage.lineageId();
    long upto;
    try (PageApplier a = PageApplier.open(file, lineage, SegmentSource.none())) {
      applyUntil(a, 2);
      a.sync();
      assertEquals(0, a.unsyncedSegments());
      java.nio.file.Files.copy(file, crashed);
      for (int i = 2; i < 7; i++) {
        try (SegmentReader r = read(l0.get(i).key())) {
          a.apply(l0.get(i).key(), r, r.lastTxid());
        }
      }
      upto = a.txid();
      assertEquals(5, a.unsyncedSegments());
      PageApplier.RecordedState recorded = PageApplier.recordedState(file).orElseThrow();
      assertEquals(upto, recorded.pendingUptoTxid(), "the durable intent reaches the applied TXID");
      java.nio.file.Files.copy(StateFile.pathFor(file), StateFile.pathFor(crashed));
      // Some of the later page writes reached the disk: every other page of segment 4.
      try (SegmentReader r = read(l0.get(4).key());
          FileChannel ch = FileChannel.open(crashed, StandardOpenOption.WRITE)) {
        byte[] page = new byte[r.pageSize()];
        for (int i = 0; i < r.pageCount(); i += 2) {
          r.readPage(i, page, 0);
          ch.write(ByteBuffer.wrap(page), (r.pageNumber(i) - 1) * r.pageSize());
        }
      }
    }
    List<String> fetched = new ArrayList<>();
    try (PageApplier a = PageApplier.open(crashed, lineage, k -> {
      fetched.add(k);
      return read(k);
    })) {
      assertEquals(l0.subList(2, 7).stream().map(ObjectInfo::key).toList(), fetched);
      assertEquals(upto, a.txid());
      assertEquals(shipper.history.get(upto).checksum(), a.checksum());
      assertEquals(a.checksum(), a.recomputeChecksum());
      assertEquals(0, a.unsyncedSegments());
    }
  }

  @Test
  void refusesAFileItDidNotBuildAndAnotherLineage() throws Exception {
    Path foreign = dir.resolve("foreign.db");
    java.nio.file.Files.write(foreign, new byte[4096]);
    assertThrows(IllegalStateException.class, () -> PageApplier.open(foreign, null, SegmentSource.none()));
    Path mine = dir.resolve("mine.db");
    PageApplier.open(mine, "lineage-a", SegmentSource.none()).close();
    assertThrows(IllegalStateException.class, () -> PageApplier.open(mine, "lineage-b", SegmentSource.none()));
  }
}
