package dev.walship.primary;

import dev.walship.format.BranchRef;
import dev.walship.format.BucketLayout;
import dev.walship.format.RetentionHorizon;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.PreconditionFailedException;
import dev.walship.store.StoredObject;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the objects of one database that no restore point inside the retention window needs.
 *
 * <h2>What is kept</h2>
 *
 * With {@code cutoff = now - retention}, the <em>anchor</em> is the newest snapshot whose commit
 * time is at or before {@code cutoff}. Kept:
 *
 * <ul>
 *   <li>the anchor and every snapshot after it;
 *   <li>every level-0 segment whose last TXID is after the anchor's TXID;
 *   <li>the newest level-0 segment, always (it is where a restarting primary and the planner's
 *       "latest" read the lineage's position);
 *   <li>for every back-reference {@code {db}/branches/{child}.json} with branch TXID {@code b}: the
 *       newest snapshot at or before {@code b} and the level-0 segments from that snapshot up to
 *       {@code b} (what a restore of the branch reads from its parent).
 * </ul>
 *
 * Deleted: older snapshots and level-0 segments wholly at or before the anchor's TXID that no
 * branch needs. If no snapshot is old enough to be an anchor nothing is deleted, so the only
 * snapshot (and the oldest still-needed one) is never deleted. Every TXID whose commit time is
 * after {@code cutoff} stays restorable; older TXIDs become "before the first restore point" for
 * the restore planner.
 *
 * <h2>How segment bounds and times are known without HEAD requests</h2>
 *
 * <ul>
 *   <li>A level-0 key names the first TXID of its segment and the chain is contiguous (SPEC.md 3),
 *       so a segment's last TXID is the next key's first TXID minus one: no header is read. A gap
 *       (never written by a primary) only makes a segment look longer, so it is kept, never
 *       deleted by mistake.
 *   <li>Only snapshot times matter (the anchor is chosen by time; segments follow by TXID). The
 *       agent records the time of every snapshot it uploads ({@link #snapshotUploaded}) and of the
 *       newest one it found at start-up ({@link #knownSnapshot}). A snapshot of unknown time
 *       (uploaded by an earlier run) is read once with a 160-byte ranged GET of its header ({@link
 *       SnapshotTime}) and remembered. Snapshots are walked newest first and the walk stops at the
 *       first one at or before the cutoff, so older snapshots are never read.
 *   <li>Branch references are create-only; each is read once (GET) and remembered by key and ETag.
 * </ul>
 *
 * <h2>Branches created while a run is deleting: the horizon</h2>
 *
 * A branch writes its back-reference, then its lineage. A run that listed {@code branches/} just
 * before the back-reference landed would delete what the new branch needs. So every run, before it
 * lists {@code branches/}, raises the <em>retention horizon</em> {@code {db}/retention.json} to its
 * anchor (a conditional PUT: create-only, then {@code If-Match}; the horizon only grows; see
 * {@link RetentionHorizon}); it deletes nothing beyond that horizon (snapshots below the anchor,
 * segments whose last TXID is at or below it). The brancher, after writing its back-reference,
 * reads the horizon and refuses (deleting its back-reference) if any parent object its restore
 * reads is covered by it.
 *
 * <p>Why that is correct under any interleaving, with S3's linearizable PUT, GET and LIST: suppose a
 * run deletes object {@code o} that a successful branch needs. The run raised the horizon to cover
 * {@code o} (write {@code W}) before it listed {@code branches/} ({@code L}), and {@code L} did not
 * return the back-reference (write {@code R}), so {@code L} precedes {@code R}. The brancher read
 * the horizon ({@code P}) after {@code R}: {@code W < L < R < P}. The horizon only grows, so
 * {@code P} saw a horizon covering {@code o} and the branch was refused: a contradiction. It holds
 * for any number of runs at once (a deposed primary still deleting, a restarted agent): each
 * deletes only under a horizon it wrote or read before its own LIST. A run that fails part-way has
 * at worst raised the horizon, which only makes branching more cautious. The cost: branching at a
 * TXID whose parent objects are below the horizon (outside the retention window) is refused even
 * while another branch still keeps those objects; branch that branch instead.
 *
 * <h2>Requests per run</h2>
 *
 * One LIST of {@code snapshots/} (per 1,000 keys). If the anchor is the same as in the last
 * completed run, that is all. Otherwise one conditional PUT of {@code retention.json} (plus one GET
 * of it on the agent's first such run, or after another writer raised it), one LIST of {@code
 * branches/}, a GET per branch reference not seen before, one LIST of {@code L0/} paginated only
 * up to the anchor (per 1,000 keys, stops at the first key after the anchor), ranged GETs of
 * snapshot headers whose time is unknown (zero in steady state), and one DeleteObjects per 1,000
 * deleted keys. The returned {@link Report} counts them.
 *
 * <h2>Safety</h2>
 *
 * Only the lease holder runs retention (the agent calls it from its own threads). Deletions go
 * oldest first, so a run cut short leaves a contiguous, still-restorable suffix; the next run
 * finishes the job (deletes are idempotent). A back-reference that cannot be read or parsed stops
 * the run before anything is deleted. Compacted levels (L1+) are not touched (compaction does not
 * exist yet).
 *
 * <p>Not thread-safe: one run at a time per instance (the agent guarantees it); {@link
 * #snapshotUploaded} may be called from another thread.
 */
final class Retention {
  private static final Logger log = LoggerFactory.getLogger(Retention.class);

  /**
   * What one run did.
   *
   * @param anchorTxid TXID of the anchor snapshot, or -1 if none is old enough (nothing deleted)
   * @param deleted keys deleted, oldest first
   * @param lists LIST requests made
   * @param gets GET requests made (ranged snapshot headers, branch references, the horizon)
   * @param puts PUT requests made (raising the horizon)
   * @param deleteBatches DeleteObjects requests made
   */
  record Report(
      long anchorTxid, List<String> deleted, int lists, int gets, int puts, int deleteBatches) {
    int requests() {
      return lists + gets + puts + deleteBatches;
    }
  }

  /** Tries at raising the horizon against other writers before a run gives up (nothing deleted). */
  private static final int HORIZON_ATTEMPTS = 5;

  private final ObjectStore store;
  private final String db;
  private final Duration retention;
  private final InstantSource clock;
  /** Snapshot TXID -> commit time, for snapshots seen (bounded by what retention keeps). */
  private final Map<Long, Long> snapshotTimes = new java.util.concurrent.ConcurrentHashMap<>();
  /** Branch reference key -> (etag, branch TXID). */
  private final Map<String, Map.Entry<String, Long>> branches = new HashMap<>();
  /** Anchor of the last run that completed its deletions, or -1. */
  private long completedAnchor = -1;

  /** The horizon as last written or read, and its ETag; null: not read yet (or lost a race). */
  private RetentionHorizon horizon;
  private String horizonEtag;

  private int lists;
  private int gets;
  private int puts;

  /**
   * @param retention how long restore points are kept (positive)
   */
  Retention(ObjectStore store, String db, Duration retention, InstantSource clock) {
    if (retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention must be positive, got " + retention);
    }
    this.store = store;
    this.db = db;
    this.retention = retention;
    this.clock = clock;
  }

  /** Records the commit time of a snapshot this agent uploaded (no request needed later). */
  void snapshotUploaded(long txid, long commitMillis) {
    snapshotTimes.put(txid, commitMillis);
  }

  /** Records the time of a snapshot learned elsewhere (the newest, read at start-up). */
  void knownSnapshot(SnapshotTime.Point p) {
    snapshotTimes.put(p.txid(), p.commitMillis());
  }

  /** One retention pass; see the class comment for what it keeps and what it costs. */
  Report run() {
    lists = 0;
    gets = 0;
    puts = 0;
    long cutoff = clock.millis() - retention.toMillis();
    lists++;
    List<Long> snaps = new ArrayList<>();
    for (ObjectInfo o : store.listAll(BucketLayout.snapshotPrefix(db), null)) {
      BucketLayout.snapshotTxid(db, o.key()).ifPresent(snaps::add);
    }
    long anchor = -1;
    for (int i = snaps.size() - 1; i >= 0; i--) {
      long txid = snaps.get(i);
      Optional<Long> t = timeOf(txid);
      if (t.isPresent() && t.get() <= cutoff) {
        anchor = txid;
        break;
      }
    }
    snapshotTimes.keySet().retainAll(snaps);
    if (anchor < 0 || anchor == completedAnchor) {
      return new Report(anchor, List.of(), lists, gets, puts, 0);
    }
    // Before listing branches/: see "Branches created while a run is deleting" above.
    raiseHorizon(anchor);
    List<Long> branchTxids = branchTxids();

    // Level-0 first TXIDs up to the first key after the anchor (that one bounds the last segment
    // at or before the anchor; everything later is kept without being listed).
    List<Long> l0 = new ArrayList<>();
    String after = null;
    page:
    while (true) {
      lists++;
      List<ObjectInfo> page = store.list(BucketLayout.levelPrefix(db, 0), after, 1000);
      if (page.isEmpty()) {
        break;
      }
      for (ObjectInfo o : page) {
        OptionalLong first = BucketLayout.level0Txid(db, o.key());
        if (first.isEmpty()) {
          continue;
        }
        if (first.getAsLong() > anchor + 1) {
          break page;
        }
        l0.add(first.getAsLong());
      }
      after = page.get(page.size() - 1).key();
    }

    // TXID ranges that must stay: (anchor, inf) plus (snapshot <= b, b] per branch.
    List<long[]> needed = new ArrayList<>(); // {fromExclusive, toInclusive}
    needed.add(new long[] {anchor, Long.MAX_VALUE});
    TreeMap<Long, Boolean> keepSnap = new TreeMap<>();
    keepSnap.put(anchor, true);
    for (long b : branchTxids) {
      long base = 0;
      for (long s : snaps) {
        if (s <= b) {
          base = s;
        }
      }
      if (base > 0) {
        keepSnap.put(base, true);
      }
      needed.add(new long[] {base, b});
    }

    // Oldest first, level-0 segments and snapshots interleaved by TXID.
    TreeMap<Long, List<String>> doomed = new TreeMap<>();
    // The last listed segment is kept: it is the chain's tail, or it holds anchor + 1.
    for (int i = 0; i + 1 < l0.size(); i++) {
      long first = l0.get(i);
      long last = l0.get(i + 1) - 1; // contiguous chain: the next key starts after this one ends
      if (last > anchor || overlapsNeeded(first, last, needed)) {
        continue;
      }
      doomed.computeIfAbsent(first, k -> new ArrayList<>()).add(BucketLayout.level0Key(db, first));
    }
    for (long s : snaps) {
      if (s < anchor && !keepSnap.containsKey(s)) {
        doomed.computeIfAbsent(s, k -> new ArrayList<>()).add(BucketLayout.snapshotKey(db, s));
      }
    }
    List<String> keys = new ArrayList<>();
    doomed.values().forEach(keys::addAll);
    int batches = 0;
    for (int i = 0; i < keys.size(); i += 1000) {
      store.deleteAll(keys.subList(i, Math.min(keys.size(), i + 1000)));
      batches++;
    }
    completedAnchor = anchor;
    for (String k : keys) {
      BucketLayout.snapshotTxid(db, k).ifPresent(snapshotTimes::remove);
    }
    if (!keys.isEmpty()) {
      log.info("{}: retention {} kept restore points from snapshot TXID {} on ({} branch(es));"
              + " deleted {} object(s) ({} LIST, {} GET, {} PUT, {} DELETE)",
          db, retention, anchor, branchTxids.size(), keys.size(), lists, gets, puts, batches);
    }
    return new Report(anchor, List.copyOf(keys), lists, gets, puts, batches);
  }

  /**
   * Makes sure the bucket's horizon is at least {@code anchor} before anything is listed or
   * deleted: no request if this instance already wrote or read such a horizon (it only grows).
   *
   * @throws PrimaryException if the horizon cannot be read or keeps changing under us (nothing is
   *     deleted then)
   */
  private void raiseHorizon(long anchor) {
    String key = RetentionHorizon.key(db);
    for (int attempt = 0; attempt < HORIZON_ATTEMPTS; attempt++) {
      if (horizon == null) {
        gets++;
        Optional<StoredObject> got = store.get(key);
        if (got.isPresent()) {
          try {
            horizon = RetentionHorizon.fromJson(got.get().data(), key);
          } catch (RuntimeException e) {
            throw new PrimaryException(
                "retention stopped: cannot read " + key + ": " + e.getMessage(), e);
          }
          horizonEtag = got.get().etag();
        } else {
          horizon = RetentionHorizon.of(db, 0, 0);
          horizonEtag = null;
        }
      }
      if (horizon.txid() >= anchor) {
        return;
      }
      RetentionHorizon raised = RetentionHorizon.of(db, anchor, clock.millis());
      puts++;
      try {
        horizonEtag = horizonEtag == null
            ? store.putIfAbsent(key, raised.toJson())
            : store.putIfMatch(key, raised.toJson(), horizonEtag);
        horizon = raised;
        return;
      } catch (PreconditionFailedException e) {
        horizon = null; // someone else wrote it: read it again, never overwrite blindly
      } catch (RuntimeException e) {
        horizon = null; // the write may or may not have landed: read it again next time
        throw e;
      }
    }
    throw new PrimaryException("retention stopped before deleting anything: " + key
        + " changed under every one of " + HORIZON_ATTEMPTS + " conditional writes (another"
        + " retention run on " + db + "?)");
  }

  /** True if segment TXIDs {@code first..last} hold a TXID some kept restore point needs. */
  private static boolean overlapsNeeded(long first, long last, List<long[]> needed) {
    for (long[] r : needed) {
      if (last > r[0] && first <= r[1]) {
        return true;
      }
    }
    return false;
  }

  private Optional<Long> timeOf(long txid) {
    Long known = snapshotTimes.get(txid);
    if (known != null) {
      return Optional.of(known);
    }
    gets++;
    Optional<Long> t = SnapshotTime.read(store, BucketLayout.snapshotKey(db, txid), txid);
    t.ifPresent(ms -> snapshotTimes.put(txid, ms));
    return t;
  }

  /**
   * Branch TXIDs of every live back-reference (one LIST; a GET per reference not seen before).
   *
   * @throws PrimaryException if a reference cannot be read (nothing is deleted then)
   */
  private List<Long> branchTxids() {
    lists++;
    List<ObjectInfo> refs = store.listAll(BucketLayout.branchesPrefix(db), null);
    Map<String, Map.Entry<String, Long>> seen = new HashMap<>();
    List<Long> out = new ArrayList<>();
    for (ObjectInfo o : refs) {
      if (!o.key().endsWith(".json")) {
        continue;
      }
      Map.Entry<String, Long> cached = branches.get(o.key());
      if (cached == null || !cached.getKey().equals(String.valueOf(o.etag()))) {
        gets++;
        var got = store.get(o.key());
        if (got.isEmpty()) {
          continue; // deleted between LIST and GET: the branch is gone
        }
        BranchRef ref;
        try {
          ref = BranchRef.fromJson(got.get().data(), o.key());
        } catch (RuntimeException e) {
          throw new PrimaryException(
              "retention stopped: cannot read branch reference " + o.key() + ": " + e.getMessage(), e);
        }
        cached = Map.entry(String.valueOf(o.etag()), ref.txid());
      }
      seen.put(o.key(), cached);
      out.add(cached.getValue());
    }
    branches.clear();
    branches.putAll(seen);
    return out;
  }
}
