package dev.walship.restore;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.StoredObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Chooses the fewest objects that rebuild a database at a target: the latest snapshot at or before
 * the target, then the level-0 segments after it up to the target, following {@code lineage.json}
 * parents for a branch (the parent's objects up to the branch TXID, then the branch's own).
 *
 * <p>Requests: one GET per lineage manifest, one LIST per level per database of the chain (with
 * prefix, following pagination), and ranged GETs of segment headers (128 bytes plus the commit
 * table) for the segment holding the target and, for a timestamp target, a binary search's worth
 * of segments. Whole segments are never downloaded while planning.
 *
 * <p>Compacted levels (L1+) are not used yet: plans use snapshots and level 0 only.
 *
 * <p>Thread-safe (stateless apart from the store, which is thread-safe).
 */
public final class RestorePlanner {
  private final ObjectStore store;

  public RestorePlanner(ObjectStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  /**
   * Reads {@code {db}/lineage.json}.
   *
   * @throws NoSuchDatabaseException if the manifest is absent
   */
  public Lineage lineage(String db) {
    String key = BucketLayout.lineageKey(db);
    StoredObject o = store.get(key).orElseThrow(() -> new NoSuchDatabaseException(db, key));
    Lineage l = Lineage.parse(o.data(), key);
    if (!l.db().equals(db)) {
      throw new IllegalStateException(key + " names database " + l.db() + ", not " + db);
    }
    return l;
  }

  /** The history of {@code db}: its lineage chain and the objects that belong to it. */
  public Timeline timeline(String db) {
    List<Lineage> chain = new ArrayList<>();
    Lineage l = lineage(db);
    chain.add(l);
    while (l.parent() != null) {
      Lineage.Parent p = l.parent();
      Lineage parent = lineage(p.db());
      if (!parent.lineageId().equals(p.lineageId())) {
        throw new IllegalStateException(
            db + " branched from " + p.db() + " lineage " + p.lineageId()
                + " but that database now holds lineage " + parent.lineageId());
      }
      if (chain.stream().anyMatch(c -> c.db().equals(parent.db()))) {
        throw new IllegalStateException("lineage cycle through " + parent.db());
      }
      chain.add(parent);
      l = parent;
    }
    Collections.reverse(chain);
    List<Timeline.Entry> level0 = new ArrayList<>();
    List<Timeline.Entry> snapshots = new ArrayList<>();
    for (int i = 0; i < chain.size(); i++) {
      Lineage c = chain.get(i);
      long floor = c.parent() == null ? 0 : c.parent().txid();
      long cap = i + 1 < chain.size() ? chain.get(i + 1).parent().txid() : Long.MAX_VALUE;
      for (ObjectInfo o : store.listAll(BucketLayout.levelPrefix(c.db(), 0), null)) {
        long first = txidOfKey(o.key());
        if (first > floor && first <= cap) {
          level0.add(new Timeline.Entry(o.key(), c.db(), first, cap, o.size()));
        }
      }
      for (ObjectInfo o : store.listAll(BucketLayout.snapshotPrefix(c.db()), null)) {
        long txid = txidOfKey(o.key());
        if (txid > floor && txid <= cap) {
          snapshots.add(new Timeline.Entry(o.key(), c.db(), txid, cap, o.size()));
        }
      }
    }
    return new Timeline(db, List.copyOf(chain), List.copyOf(level0), List.copyOf(snapshots));
  }

  /** Plans a restore of {@code db} at {@code target}; see {@link #plan(Timeline, RestoreTarget)}. */
  public RestorePlan plan(String db, RestoreTarget target) {
    return plan(timeline(db), target);
  }

  /**
   * Plans a restore.
   *
   * @throws RestoreTargetException if the target is not in the history (names the nearest points)
   * @throws MissingObjectException if a listed object vanished while planning
   */
  public RestorePlan plan(Timeline tl, RestoreTarget target) {
    List<Timeline.Entry> l0 = tl.level0();
    List<Timeline.Entry> snaps = tl.snapshots();
    if (l0.isEmpty() && snaps.isEmpty()) {
      throw new RestoreTargetException("database " + tl.db() + " has no segments or snapshots", -1, -1);
    }
    long latest = latestTxid(tl);
    long earliest = earliestTxid(tl);
    long t =
        switch (target) {
          case RestoreTarget.Latest x -> latest;
          case RestoreTarget.Txid x -> x.txid();
          case RestoreTarget.AtOrBefore x -> txidAt(tl, x.instant());
        };
    if (t > latest) {
      throw new RestoreTargetException(
          "TXID " + t + " of " + tl.db() + " is after the last restore point", latest, -1);
    }
    if (t < earliest) {
      throw new RestoreTargetException(
          "TXID " + t + " of " + tl.db() + " is before the first restore point"
              + " (older history was never uploaded or was deleted by retention)", -1, earliest);
    }
    List<RestorePlan.PlannedObject> objects = new ArrayList<>();
    long base = 0;
    Timeline.Entry snapshot = null;
    for (Timeline.Entry s : snaps) {
      if (s.firstTxid() <= t) {
        snapshot = s;
      }
    }
    CommitRecord targetRecord;
    int pageSize;
    if (snapshot != null) {
      base = snapshot.firstTxid();
      objects.add(new RestorePlan.PlannedObject(
          snapshot.key(), snapshot.db(), true, base, base, snapshot.sizeBytes()));
    }
    if (t == base) {
      SegmentHeader h = SegmentHeader.read(store, snapshot.key(), true);
      targetRecord = h.commits().get(h.commits().size() - 1);
      pageSize = h.pageSize();
    } else {
      int idx = -1;
      for (int i = 0; i < l0.size(); i++) {
        if (l0.get(i).firstTxid() <= base + 1) {
          idx = i;
        }
      }
      if (idx < 0) {
        long after = nextPointAfter(tl, base);
        throw new RestoreTargetException(
            "TXID " + t + " of " + tl.db() + " is not covered: no segment holds TXID " + (base + 1),
            base == 0 ? -1 : base, after);
      }
      int j = idx;
      while (true) {
        Timeline.Entry e = l0.get(j);
        boolean hasNext = j + 1 < l0.size() && l0.get(j + 1).firstTxid() <= t;
        long upto = hasNext ? l0.get(j + 1).firstTxid() - 1 : t;
        upto = Math.min(upto, e.capTxid());
        objects.add(new RestorePlan.PlannedObject(e.key(), e.db(), false, e.firstTxid(), upto, e.sizeBytes()));
        if (!hasNext) {
          break;
        }
        j++;
      }
      Timeline.Entry holder = l0.get(j);
      SegmentHeader h = SegmentHeader.read(store, holder.key(), true);
      if (h.lastTxid() < t) {
        long next = j + 1 < l0.size() ? l0.get(j + 1).firstTxid() : -1;
        throw new RestoreTargetException(
            "TXID " + t + " of " + tl.db() + " falls in a gap: " + holder.key() + " ends at TXID "
                + h.lastTxid() + (next < 0 ? "" : " and the next segment starts at TXID " + next),
            h.lastTxid(), next);
      }
      targetRecord = h.commits().get((int) (t - h.firstTxid()));
      pageSize = h.pageSize();
    }
    return new RestorePlan(
        tl.db(), tl.lineage().lineageId(), pageSize, t, targetRecord.checksumAfter(),
        targetRecord.commitTimeMillis(), List.copyOf(objects));
  }

  /** The newest restorable TXID (reads the last segment's header). */
  public long latestTxid(Timeline tl) {
    long latest = -1;
    if (!tl.level0().isEmpty()) {
      Timeline.Entry last = tl.level0().get(tl.level0().size() - 1);
      SegmentHeader h = SegmentHeader.read(store, last.key(), false);
      latest = Math.min(h.lastTxid(), last.capTxid());
    }
    if (!tl.snapshots().isEmpty()) {
      latest = Math.max(latest, tl.snapshots().get(tl.snapshots().size() - 1).firstTxid());
    }
    return latest;
  }

  /** The oldest restorable TXID: TXID 1 if level 0 starts there, else the oldest snapshot. */
  static long earliestTxid(Timeline tl) {
    long earliest = Long.MAX_VALUE;
    if (!tl.level0().isEmpty() && tl.level0().get(0).firstTxid() == 1) {
      earliest = 1;
    }
    if (!tl.snapshots().isEmpty()) {
      earliest = Math.min(earliest, tl.snapshots().get(0).firstTxid());
    }
    return earliest == Long.MAX_VALUE ? -1 : earliest;
  }

  private static long nextPointAfter(Timeline tl, long txid) {
    OptionalLong s = tl.snapshots().stream().mapToLong(Timeline.Entry::firstTxid).filter(x -> x > txid).min();
    OptionalLong l = tl.level0().stream().mapToLong(Timeline.Entry::firstTxid).filter(x -> x > txid).min();
    long best = Long.MAX_VALUE;
    if (s.isPresent()) {
      best = s.getAsLong();
    }
    if (l.isPresent()) {
      best = Math.min(best, l.getAsLong());
    }
    return best == Long.MAX_VALUE ? -1 : best;
  }

  /**
   * The last TXID committed at or before {@code instant}: a binary search over the level-0
   * segments by their first commit time (ranged GETs of headers), then the commit table of one.
   */
  long txidAt(Timeline tl, Instant instant) {
    long ms = instant.toEpochMilli();
    List<Timeline.Entry> points = tl.level0().isEmpty() ? tl.snapshots() : tl.level0();
    int lo = 0;
    int hi = points.size() - 1;
    int found = -1;
    SegmentHeader foundHeader = null;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      SegmentHeader h = SegmentHeader.read(store, points.get(mid).key(), true);
      if (h.commits().get(0).commitTimeMillis() <= ms) {
        found = mid;
        foundHeader = h;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) {
      SegmentHeader first = SegmentHeader.read(store, points.get(0).key(), true);
      CommitRecord c = first.commits().get(0);
      throw new RestoreTargetException(
          "instant " + instant + " is before the first commit of " + tl.db() + " in the bucket (TXID "
              + c.txid() + " at " + Instant.ofEpochMilli(c.commitTimeMillis()) + ")", -1, c.txid());
    }
    long cap = points.get(found).capTxid();
    long t = -1;
    for (CommitRecord c : foundHeader.commits()) {
      if (c.commitTimeMillis() <= ms && c.txid() <= cap) {
        t = c.txid();
      }
    }
    return t;
  }

  /** The TXID in a {@code .../{16 hex}.seg} key, or -1 if the key is not one. */
  static long txidOfKey(String key) {
    int slash = key.lastIndexOf('/');
    String name = key.substring(slash + 1);
    if (!name.endsWith(".seg") || name.length() != 16 + 4) {
      return -1;
    }
    try {
      return Long.parseUnsignedLong(name.substring(0, 16), 16);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
