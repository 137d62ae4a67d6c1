package dev.walship.restore;

import dev.walship.format.BranchRef;
import dev.walship.format.RetentionHorizon;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a bucket holds, per database: lineage and parent, branches, restorable TXID range and
 * commit times, snapshots, retention horizon, object counts and bytes. One LIST of the whole
 * store, GETs of the manifests, branch references and retention horizons (only those listed), and
 * ranged GETs of two segment headers per database.
 *
 * <p>Thread-safe.
 */
public final class Inventory {

  /**
   * One database.
   *
   * @param db name
   * @param lineageId its lineage
   * @param parent branch point, or null
   * @param branches names of databases branched from it (from {@code branches/})
   * @param firstTxid oldest restorable TXID (-1 if none)
   * @param lastTxid newest restorable TXID (-1 if none)
   * @param firstCommitMs commit time of {@code firstTxid}'s segment start (-1 if unknown)
   * @param lastCommitMs commit time of {@code lastTxid} (-1 if unknown)
   * @param snapshotTxids TXIDs of its own snapshots
   * @param level0Segments number of its own level-0 segments
   * @param objects number of its own objects (everything under {@code db/} but the retention
   *     horizon, which is bookkeeping, not data)
   * @param bytes their total size
   * @param horizonTxid TXID of its retention horizon {@code db/retention.json} (SPEC.md 3.4), or
   *     -1 if there is none (retention never deleted anything) or it cannot be read
   * @param horizonProblem why the horizon cannot be read, or null
   */
  public record DatabaseInfo(
      String db,
      String lineageId,
      Lineage.Parent parent,
      List<String> branches,
      long firstTxid,
      long lastTxid,
      long firstCommitMs,
      long lastCommitMs,
      List<Long> snapshotTxids,
      int level0Segments,
      int objects,
      long bytes,
      long horizonTxid,
      String horizonProblem) {}

  private final ObjectStore store;

  public Inventory(ObjectStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  /** Names of every database (a {@code NAME/lineage.json} exists), sorted. One full LIST. */
  public List<String> databaseNames() {
    List<String> names = new ArrayList<>();
    for (ObjectInfo o : store.listAll("", null)) {
      int slash = o.key().indexOf('/');
      if (slash > 0 && o.key().substring(slash).equals("/lineage.json")) {
        names.add(o.key().substring(0, slash));
      }
    }
    return names;
  }

  /** Every database (a {@code NAME/lineage.json} exists), sorted by name. */
  public List<DatabaseInfo> all() {
    TreeMap<String, List<ObjectInfo>> byDb = new TreeMap<>();
    for (ObjectInfo o : store.listAll("", null)) {
      int slash = o.key().indexOf('/');
      if (slash > 0) {
        byDb.computeIfAbsent(o.key().substring(0, slash), k -> new ArrayList<>()).add(o);
      }
    }
    List<DatabaseInfo> out = new ArrayList<>();
    for (var e : byDb.entrySet()) {
      boolean hasLineage = e.getValue().stream().anyMatch(o -> o.key().equals(e.getKey() + "/lineage.json"));
      if (hasLineage) {
        out.add(describe(e.getKey(), e.getValue()));
      }
    }
    return out;
  }

  /** One database. @throws NoSuchDatabaseException if it has no lineage manifest */
  public DatabaseInfo describe(String db) {
    return describe(db, store.listAll(db + "/", null));
  }

  private DatabaseInfo describe(String db, List<ObjectInfo> own) {
    RestorePlanner planner = new RestorePlanner(store);
    Timeline tl = planner.timeline(db);
    List<String> branches = new ArrayList<>();
    List<Long> snaps = new ArrayList<>();
    int l0 = 0;
    int objects = 0;
    long bytes = 0;
    long horizonTxid = -1;
    String horizonProblem = null;
    String horizonKey = RetentionHorizon.key(db);
    for (ObjectInfo o : own) {
      if (o.key().equals(horizonKey)) {
        try {
          horizonTxid = readHorizon(store, db).map(RetentionHorizon::txid).orElse(-1L);
        } catch (RuntimeException e) {
          horizonProblem = e.getMessage();
        }
        continue;
      }
      objects++;
      bytes += o.size();
      String rest = o.key().substring(db.length() + 1);
      if (rest.startsWith("branches/") && rest.endsWith(".json")) {
        branches.add(branchName(o.key(), rest));
      } else if (rest.startsWith("snapshots/")) {
        snaps.add(RestorePlanner.txidOfKey(o.key()));
      } else if (rest.startsWith("L0/")) {
        l0++;
      }
    }
    long first = RestorePlanner.earliestTxid(tl);
    long last = -1;
    long firstMs = -1;
    long lastMs = -1;
    if (!tl.level0().isEmpty() || !tl.snapshots().isEmpty()) {
      last = planner.latestTxid(tl);
      Timeline.Entry firstEntry = first == 1 && !tl.level0().isEmpty() ? tl.level0().get(0)
          : tl.snapshots().isEmpty() ? null : tl.snapshots().get(0);
      if (firstEntry != null) {
        firstMs = SegmentHeader.read(store, firstEntry.key(), true).commits().get(0).commitTimeMillis();
      }
      try {
        RestorePlan latest = planner.plan(tl, RestoreTarget.latest());
        lastMs = latest.targetCommitTimeMillis();
      } catch (RestoreTargetException e) {
        lastMs = -1;
      }
    }
    return new DatabaseInfo(db, tl.lineage().lineageId(), tl.lineage().parent(), List.copyOf(branches),
        first, last, firstMs, lastMs, List.copyOf(snaps), l0, objects, bytes, horizonTxid,
        horizonProblem);
  }

  /**
   * The retention horizon of {@code db} (one GET), empty if there is none.
   *
   * @throws RuntimeException if it cannot be read, does not parse or names another database
   */
  static Optional<RetentionHorizon> readHorizon(ObjectStore store, String db) {
    String key = RetentionHorizon.key(db);
    return store.get(key).map(o -> {
      RetentionHorizon h = RetentionHorizon.fromJson(o.data(), key);
      if (!h.db().equals(db)) {
        throw new IllegalStateException(key + " names database " + h.db() + ", not " + db);
      }
      return h;
    });
  }

  private String branchName(String key, String rest) {
    String name = rest.substring("branches/".length(), rest.length() - ".json".length());
    try {
      return store.get(key).map(o -> BranchRef.fromJson(o.data(), key).childDb()).orElse(name);
    } catch (RuntimeException e) {
      return name + " (unreadable back-reference: " + e.getMessage() + ")";
    }
  }

}
