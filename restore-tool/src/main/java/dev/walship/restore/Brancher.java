package dev.walship.restore;

import dev.walship.format.BranchRef;
import dev.walship.format.BucketLayout;
import dev.walship.format.RetentionHorizon;
import dev.walship.store.ObjectStore;
import dev.walship.store.PreconditionFailedException;
import dev.walship.store.StoredObject;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Creates a branch of a database at any restore point in O(1): two small objects, no page data.
 *
 * <ol>
 *   <li>{@code {parent}/branches/{child}.json} (putIfAbsent): the back-reference retention reads
 *       so it keeps the parent objects the branch needs; written first so a branch never exists
 *       without it.
 *   <li>A GET of the parent's retention horizon {@code {parent}/retention.json} ({@link
 *       RetentionHorizon}): if a retention run of the parent may delete any parent object the
 *       branch's restore reads, the branch is refused ({@link BranchNotSafeException}) and its
 *       back-reference deleted.
 *   <li>{@code {child}/lineage.json} (putIfAbsent) with {@code parent = {db, lineage_id, txid,
 *       checksum}}: a primary started on a restored branch file writes the branch's own segments
 *       from {@code L0/{txid+1}} with checksumBefore = that checksum.
 * </ol>
 *
 * <h2>Why a branch that succeeds always restores</h2>
 *
 * Retention of the parent raises the horizon to cover everything it may delete <em>before</em> it
 * lists {@code branches/}, and the horizon only grows; the brancher reads it <em>after</em> its
 * back-reference is in the bucket. With linearizable PUT, GET and LIST (S3 since 2020), a run that
 * misses the back-reference in its LIST listed before the back-reference was written, so its
 * horizon was written before the brancher read it, and the brancher refuses if that horizon covers
 * an object the branch needs. A run that lists the back-reference keeps those objects. Any number
 * of retention runs and branches may interleave; no clock is involved. (Full argument:
 * {@code Retention} in primary-agent and SPEC.md 3.4.)
 *
 * <p>What the branch needs is taken from its restore plan: the parent's objects up to the branch
 * point, checked against the parent's horizon (snapshots below it, segments holding a TXID at or
 * below it are covered). Objects of lineages further up are what the parent's own back-reference
 * already keeps, provided the branch point is not before the parent's own branch point; a branch
 * point inside history the parent inherited is refused for that reason (branch the ancestor at
 * that TXID instead: same data, and its retention then keeps it).
 *
 * <p>Refusals are conservative: a run that did list the back-reference also makes the brancher
 * refuse if the horizon already covers the branch point. Branching inside the retention window
 * (at or after the parent's oldest kept snapshot) is never refused.
 *
 * <p>Thread-safe; concurrent branches to one name: exactly one wins (conditional writes).
 */
public final class Brancher {

  private final ObjectStore store;
  private final Clock clock;

  public Brancher(ObjectStore store, Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The back-reference key a branch writes under its parent. */
  public static String branchRefKey(String parentDb, String child) {
    return BucketLayout.branchKey(parentDb, child);
  }

  /**
   * Branches {@code db} at {@code target} into {@code newDb}.
   *
   * @return the new lineage manifest
   * @throws IllegalArgumentException if {@code newDb} is not a valid name
   * @throws BranchExistsException if {@code newDb} already exists (or holds objects)
   * @throws RestoreTargetException if the target is not a restore point of {@code db}
   * @throws BranchNotSafeException if retention of {@code db} may delete what the branch needs, or
   *     the target is in history {@code db} inherited from its own parent (nothing is left behind)
   */
  public Lineage branch(String db, String newDb, RestoreTarget target) {
    if (!BucketLayout.isValidDbName(newDb)) {
      throw new IllegalArgumentException("invalid database name '" + newDb
          + "': 1-200 letters, digits, '.', '_' and '-', not starting with '.' or '-'");
    }
    if (newDb.equals(db)) {
      throw new IllegalArgumentException("a branch needs a new name, not " + db);
    }
    if (!store.list(BucketLayout.dbPrefix(newDb), null, 1).isEmpty()) {
      throw new BranchExistsException(newDb + " already exists in the bucket");
    }
    RestorePlanner planner = new RestorePlanner(store);
    Timeline tl = planner.timeline(db);
    RestorePlan plan;
    try {
      plan = planner.plan(tl, target);
    } catch (MissingObjectException e) {
      // Listed, then gone: retention of db deleted it while we planned (or the bucket is damaged).
      Optional<RetentionHorizon> h = horizon(db);
      if (h.isPresent() && h.get().txid() > 0) {
        throw new BranchNotSafeException("cannot branch " + db + ": retention of " + db
            + " deleted objects while the branch was planned (" + e.getMessage() + "; retention"
            + " horizon TXID " + h.get().txid() + "); branch at TXID " + h.get().txid()
            + " or later", e);
      }
      throw e;
    }
    Lineage.Parent inherited = tl.lineage().parent();
    if (inherited != null && plan.targetTxid() < inherited.txid()) {
      throw new BranchNotSafeException("cannot branch " + db + " at TXID " + plan.targetTxid()
          + ": that TXID is history " + db + " inherited from " + inherited.db() + " (branched at"
          + " TXID " + inherited.txid() + "), which retention of " + inherited.db()
          + " does not keep for branches of " + db + "; branch " + inherited.db() + " at TXID "
          + plan.targetTxid() + " instead (same data)");
    }
    long now = clock.millis();
    Lineage child = new Lineage(newDb, UUID.randomUUID().toString(), plan.pageSize(), now,
        new Lineage.Parent(db, tl.lineage().lineageId(), plan.targetTxid(), plan.targetChecksum()));
    String refKey = branchRefKey(db, newDb);
    byte[] ref = BranchRef.of(newDb, child.lineageId(), tl.lineage().lineageId(), plan.targetTxid(),
        plan.targetChecksum(), now).toJson();
    try {
      store.putIfAbsent(refKey, ref);
    } catch (PreconditionFailedException e) {
      throw new BranchExistsException(refKey + " already exists: " + newDb + " was branched from "
          + db + " before");
    }
    try {
      requireKeptByRetention(db, plan);
    } catch (RuntimeException e) {
      try {
        store.delete(refKey);
      } catch (RuntimeException cleanup) {
        e.addSuppressed(new IllegalStateException("the back-reference " + refKey
            + " could not be deleted; delete it by hand (" + cleanup.getMessage() + ")", cleanup));
      }
      throw e;
    }
    try {
      store.putIfAbsent(BucketLayout.lineageKey(newDb), child.toJson());
    } catch (PreconditionFailedException e) {
      store.delete(refKey);
      throw new BranchExistsException(newDb + " was created concurrently by someone else");
    }
    return child;
  }

  /**
   * Reads {@code db}'s retention horizon (after the back-reference was written) and checks that no
   * retention run may delete an object of {@code db} that {@code plan} reads.
   *
   * @throws BranchNotSafeException if one may, or the horizon cannot be read
   */
  private void requireKeptByRetention(String db, RestorePlan plan) {
    Optional<RetentionHorizon> read = horizon(db);
    if (read.isEmpty()) {
      return; // no retention run has been allowed to delete anything yet
    }
    RetentionHorizon h = read.get();
    String key = RetentionHorizon.key(db);
    for (RestorePlan.PlannedObject o : plan.objects()) {
      if (!o.db().equals(db)) {
        continue; // kept by db's own back-reference under its parent (see the class comment)
      }
      boolean covered = o.snapshot()
          ? h.mayDeleteSnapshot(o.firstTxid())
          : h.mayDeleteSegmentHolding(o.applyUptoTxid());
      if (covered) {
        throw new BranchNotSafeException("cannot branch " + db + " at TXID " + plan.targetTxid()
            + ": retention of " + db + " may delete " + o.key() + ", which the branch needs"
            + " (retention horizon TXID " + h.txid() + " in " + key + "; restore points before it"
            + " are outside the retention window); branch at TXID " + h.txid()
            + " or later, or branch an existing branch that holds this point");
      }
    }
  }

  /**
   * {@code db}'s retention horizon, or empty if none was written (one GET).
   *
   * @throws BranchNotSafeException if it cannot be parsed
   */
  private Optional<RetentionHorizon> horizon(String db) {
    String key = RetentionHorizon.key(db);
    Optional<StoredObject> got = store.get(key);
    if (got.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(RetentionHorizon.fromJson(got.get().data(), key));
    } catch (RuntimeException e) {
      throw new BranchNotSafeException("cannot branch " + db + ": its retention horizon " + key
          + " cannot be read (" + e.getMessage() + "), so it is unknown what retention may delete",
          e);
    }
  }

  /**
   * The branch cannot be made safe from retention, or its point is inherited history (the message
   * says which and what to do instead). Nothing was left in the bucket. An {@link
   * IllegalStateException} so command-line tools report it as a plain error.
   */
  public static final class BranchNotSafeException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    BranchNotSafeException(String message) {
      super(message);
    }

    BranchNotSafeException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The branch name is taken. */
  public static final class BranchExistsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BranchExistsException(String message) {
      super(message);
    }
  }
}
