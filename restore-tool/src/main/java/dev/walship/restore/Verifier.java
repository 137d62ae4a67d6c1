package dev.walship.restore;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.format.CorruptSegmentException;
import dev.walship.format.DatabaseChecksum;
import dev.walship.format.RetentionHorizon;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentReader;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Downloads and checks every object of a database: the lineage manifest; each level-0 segment's
 * file checksum (by opening it), that its key matches its first TXID, TXID continuity and the
 * checksum chain between consecutive segments (and, for a branch, from the parent's branch
 * point); each snapshot's kind, TXIDs, that its pages hash to its recorded checksum, and that the
 * checksum equals the level-0 commit record at the same TXID; that the retention horizon ({@code
 * retention.json}, SPEC.md 3.4), if any, parses and names the database. Every problem names its
 * key.
 *
 * <p>Memory stays bounded (objects are streamed to temporary files, a bounded number in flight).
 * Not thread-safe.
 */
public final class Verifier {

  /** One problem, with the object key it concerns. */
  public record Problem(String key, String message) {}

  /**
   * The outcome for one database.
   *
   * @param db database
   * @param objectsChecked segments and snapshots downloaded and checked
   * @param bytesChecked their size in bytes
   * @param firstTxid first TXID of its own level 0 (-1 if none)
   * @param lastTxid last TXID of its own level 0 (-1 if none)
   * @param problems what is wrong (empty: all good)
   */
  public record Report(String db, int objectsChecked, long bytesChecked, long firstTxid, long lastTxid,
      List<Problem> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  private final ObjectStore store;
  private final int parallelism;
  private final Path tempDir;

  /**
   * @param parallelism concurrent downloads
   * @param tempDir where downloads are spooled (a fresh subdirectory is used and removed)
   */
  public Verifier(ObjectStore store, int parallelism, Path tempDir) {
    this.store = Objects.requireNonNull(store, "store");
    this.parallelism = parallelism;
    this.tempDir = Objects.requireNonNull(tempDir, "tempDir");
  }

  /** Verifies every database of the store. */
  public List<Report> verifyAll() {
    List<Report> reports = new ArrayList<>();
    Set<String> dbs = new java.util.TreeSet<>();
    for (ObjectInfo o : store.listAll("", null)) {
      int slash = o.key().indexOf('/');
      if (slash > 0) {
        dbs.add(o.key().substring(0, slash));
      }
    }
    for (String db : dbs) {
      reports.add(verify(db));
    }
    return reports;
  }

  /** Verifies one database. */
  public Report verify(String db) {
    List<Problem> problems = new ArrayList<>();
    Lineage lineage;
    try {
      lineage = new RestorePlanner(store).lineage(db);
    } catch (RuntimeException e) {
      problems.add(new Problem(BucketLayout.lineageKey(db), e.getMessage()));
      return new Report(db, 0, 0, -1, -1, problems);
    }
    if (lineage.parent() != null) {
      try {
        Lineage p = new RestorePlanner(store).lineage(lineage.parent().db());
        if (!p.lineageId().equals(lineage.parent().lineageId())) {
          problems.add(new Problem(BucketLayout.lineageKey(db), "parent " + p.db() + " now holds lineage "
              + p.lineageId() + ", not the branched-from " + lineage.parent().lineageId()));
        }
      } catch (RuntimeException e) {
        problems.add(new Problem(BucketLayout.lineageKey(db), "parent: " + e.getMessage()));
      }
    }
    for (ObjectInfo o : store.listAll(BucketLayout.branchesPrefix(db), null)) {
      checkBranchRef(db, lineage, o.key(), problems);
    }
    try {
      Inventory.readHorizon(store, db); // retention and branching trust it
    } catch (RuntimeException e) {
      problems.add(new Problem(RetentionHorizon.key(db), e.getMessage()));
    }
    List<ObjectInfo> l0 = new ArrayList<>();
    for (ObjectInfo o : store.listAll(BucketLayout.levelPrefix(db, 0), null)) {
      if (RestorePlanner.txidOfKey(o.key()) < 1) {
        problems.add(new Problem(o.key(), "unexpected key in level 0"));
      } else {
        l0.add(o);
      }
    }
    List<ObjectInfo> snaps = new ArrayList<>();
    for (ObjectInfo o : store.listAll(BucketLayout.snapshotPrefix(db), null)) {
      if (RestorePlanner.txidOfKey(o.key()) < 1) {
        problems.add(new Problem(o.key(), "unexpected key in snapshots"));
      } else {
        snaps.add(o);
      }
    }
    Set<Long> snapshotTxids = new HashSet<>();
    snaps.forEach(o -> snapshotTxids.add(RestorePlanner.txidOfKey(o.key())));
    Map<Long, Long> recordedAtSnapshot = new HashMap<>();
    int checked = 0;
    long bytes = 0;
    long first = -1;
    long last = -1;
    Path dir = null;
    try {
      dir = Files.createTempDirectory(tempDir, "walship-verify-");
      SegmentReader prev = null;
      String prevKey = null;
      try (OrderedDownloads d = new OrderedDownloads(store, items(l0), dir, parallelism, 256L << 20, 0, (k, n) -> {})) {
        while (d.hasNext()) {
          String key = l0.get(checked).key();
          OrderedDownloads.Fetched f;
          try {
            f = d.next();
          } catch (CorruptSegmentException | MissingObjectException | ObjectStoreException e) {
            problems.add(new Problem(key, e.getMessage()));
            checked++;
            prev = null;
            continue;
          }
          checked++;
          bytes += f.item().sizeBytes();
          SegmentReader r = f.reader();
          long keyTxid = RestorePlanner.txidOfKey(key);
          if (r.firstTxid() != keyTxid) {
            problems.add(new Problem(key, "holds TXIDs from " + r.firstTxid() + " but its key says " + keyTxid));
          }
          if (first < 0) {
            first = r.firstTxid();
            checkStart(db, lineage, key, r, snapshotTxids, problems);
          } else if (prev == null) {
            problems.add(new Problem(key, "cannot be linked: the previous segment is unreadable"));
          } else if (r.firstTxid() != prev.lastTxid() + 1) {
            problems.add(new Problem(key, (r.firstTxid() > prev.lastTxid() + 1 ? "TXID gap: " : "TXID overlap: ")
                + prevKey + " ends at TXID " + prev.lastTxid() + " but " + key + " starts at " + r.firstTxid()));
          } else if (r.kind() == SegmentKind.INCREMENTAL && r.checksumBefore() != prev.checksumAfter()) {
            problems.add(new Problem(key, "checksum chain broken at TXID " + prev.lastTxid() + ": "
                + prevKey + " ends at " + ChecksumChainException.hex(prev.checksumAfter()) + " but "
                + key + " starts from " + ChecksumChainException.hex(r.checksumBefore())));
          }
          for (CommitRecord c : r.commits()) {
            if (snapshotTxids.contains(c.txid())) {
              recordedAtSnapshot.put(c.txid(), c.checksumAfter());
            }
          }
          last = Math.max(last, r.lastTxid());
          prev = r;
          prevKey = key;
          d.release(f);
        }
      }
      try (OrderedDownloads d = new OrderedDownloads(store, items(snaps), dir, parallelism, 256L << 20, 0, (k, n) -> {})) {
        int i = 0;
        while (d.hasNext()) {
          String key = snaps.get(i++).key();
          OrderedDownloads.Fetched f;
          try {
            f = d.next();
          } catch (CorruptSegmentException | MissingObjectException | ObjectStoreException e) {
            problems.add(new Problem(key, e.getMessage()));
            continue;
          }
          checked++;
          bytes += f.item().sizeBytes();
          checkSnapshot(key, f.reader(), recordedAtSnapshot, problems);
          d.release(f);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory in " + tempDir, e);
    } finally {
      deleteTree(dir);
    }
    problems.sort(Comparator.comparing(Problem::key));
    return new Report(db, checked, bytes, first, last, List.copyOf(problems));
  }

  private static void checkStart(String db, Lineage lineage, String key, SegmentReader r,
      Set<Long> snapshotTxids, List<Problem> problems) {
    if (lineage.parent() != null) {
      Lineage.Parent p = lineage.parent();
      if (r.firstTxid() != p.txid() + 1) {
        problems.add(new Problem(key, "branch " + db + " must start at TXID " + (p.txid() + 1)
            + " (parent " + p.db() + " at " + p.txid() + ") but starts at " + r.firstTxid()));
      } else if (r.kind() == SegmentKind.INCREMENTAL && r.checksumBefore() != p.checksum()) {
        problems.add(new Problem(key, "branch " + db + " starts from checksum "
            + ChecksumChainException.hex(r.checksumBefore()) + " but the parent had "
            + ChecksumChainException.hex(p.checksum()) + " at TXID " + p.txid()));
      }
    } else if (r.firstTxid() != 1 && r.kind() == SegmentKind.INCREMENTAL
        && snapshotTxids.stream().noneMatch(s -> s >= r.firstTxid() - 1 && s <= r.lastTxid())) {
      // Retention may delete older history, but a snapshot must then give this segment a start.
      problems.add(new Problem(key, "history before TXID " + r.firstTxid()
          + " is missing and no snapshot between TXIDs " + (r.firstTxid() - 1) + " and "
          + r.lastTxid() + " replaces it"));
    }
  }

  /** A back-reference must parse and match the child's manifest (retention trusts it). */
  private void checkBranchRef(String db, Lineage lineage, String key, List<Problem> problems) {
    try {
      byte[] data = store.get(key).orElseThrow(() -> new MissingObjectException(key)).data();
      dev.walship.format.BranchRef ref = dev.walship.format.BranchRef.fromJson(data, key);
      if (!ref.parentLineageId().equals(lineage.lineageId())) {
        problems.add(new Problem(key, "names parent lineage " + ref.parentLineageId() + " but " + db
            + " holds lineage " + lineage.lineageId()));
        return;
      }
      Lineage child = new RestorePlanner(store).lineage(ref.childDb());
      if (child.parent() == null || !child.lineageId().equals(ref.childLineageId())
          || child.parent().txid() != ref.txid() || child.parent().checksum() != ref.checksum()) {
        problems.add(new Problem(key, "does not match " + BucketLayout.lineageKey(ref.childDb())
            + " (branch lineage " + child.lineageId() + ", parent " + child.parent() + ")"));
      }
    } catch (NoSuchDatabaseException e) {
      // A branch whose manifest is gone: the back-reference only keeps parent objects alive.
      problems.add(new Problem(key, "its branch no longer exists: " + e.getMessage()));
    } catch (RuntimeException e) {
      problems.add(new Problem(key, e.getMessage()));
    }
  }

  private static void checkSnapshot(String key, SegmentReader r, Map<Long, Long> recorded,
      List<Problem> problems) {
    long txid = RestorePlanner.txidOfKey(key);
    if (r.kind() != SegmentKind.SNAPSHOT) {
      problems.add(new Problem(key, "is a " + r.kind() + " segment, not a snapshot"));
      return;
    }
    if (r.firstTxid() != txid || r.lastTxid() != txid) {
      problems.add(new Problem(key, "holds TXIDs " + r.firstTxid() + ".." + r.lastTxid()
          + " but its key says " + txid));
    }
    long size = r.dbSizePages();
    byte[] page = new byte[r.pageSize()];
    long checksum = 0;
    long expectPage = 1;
    for (int i = 0; i < r.pageCount(); i++) {
      long pg = r.pageNumber(i);
      if (pg != expectPage) {
        problems.add(new Problem(key, "page " + expectPage + " is missing from the snapshot"));
        return;
      }
      expectPage++;
      r.readPage(i, page, 0);
      checksum ^= DatabaseChecksum.pageHash(pg, page, 0, page.length);
    }
    if (expectPage - 1 != size) {
      problems.add(new Problem(key, "holds " + (expectPage - 1) + " pages but the database had " + size));
    }
    if (checksum != r.checksumAfter()) {
      problems.add(new Problem(key, "pages hash to " + ChecksumChainException.hex(checksum)
          + " but the snapshot records " + ChecksumChainException.hex(r.checksumAfter())));
    }
    Long atL0 = recorded.get(txid);
    if (atL0 != null && atL0 != r.checksumAfter()) {
      problems.add(new Problem(key, "checksum " + ChecksumChainException.hex(r.checksumAfter())
          + " differs from the level-0 commit record at TXID " + txid + " ("
          + ChecksumChainException.hex(atL0) + ")"));
    }
  }

  private static List<OrderedDownloads.Item> items(List<ObjectInfo> infos) {
    return infos.stream().map(o -> new OrderedDownloads.Item(o.key(), o.size())).toList();
  }

  private static void deleteTree(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // Best effort clean-up of temporary downloads.
    }
  }
}
