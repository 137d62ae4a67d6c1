package dev.walship.restore;

import dev.walship.format.BranchRef;
import dev.walship.format.BucketLayout;
import dev.walship.store.ObjectStore;
import dev.walship.store.PreconditionFailedException;
import java.time.Clock;
import java.util.Objects;
import java.util.UUID;

/**
 * Creates a branch of a database at any restore point in O(1): two small objects, no page data.
 *
 * <ol>
 *   <li>{@code {parent}/branches/{child}.json} (putIfAbsent): the back-reference retention reads
 *       so it keeps the parent objects the branch needs; written first so a branch never exists
 *       without it.
 *   <li>{@code {child}/lineage.json} (putIfAbsent) with {@code parent = {db, lineage_id, txid,
 *       checksum}}: a primary started on a restored branch file writes the branch's own segments
 *       from {@code L0/{txid+1}} with checksumBefore = that checksum.
 * </ol>
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
    RestorePlan plan = planner.plan(tl, target);
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
      store.putIfAbsent(BucketLayout.lineageKey(newDb), child.toJson());
    } catch (PreconditionFailedException e) {
      store.delete(refKey);
      throw new BranchExistsException(newDb + " was created concurrently by someone else");
    }
    return child;
  }

  /** The branch name is taken. */
  public static final class BranchExistsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BranchExistsException(String message) {
      super(message);
    }
  }
}
