package dev.walship.primary;

import dev.walship.format.BucketLayout;
import dev.walship.format.CorruptSegmentException;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The commit time recorded in a snapshot, read with one ranged GET of its first 160 bytes (the
 * 128-byte header and the single 32-byte commit entry; SPEC.md 2.2-2.3) instead of downloading the
 * whole snapshot.
 *
 * <p>A snapshot's commit time is when the primary took it (TXID {@code txid} was committed at or
 * before it), so "the snapshot's time is at or before T" proves that every commit after T is
 * after the snapshot's TXID.
 *
 * <p>Stateless; thread-safe.
 */
final class SnapshotTime {
  /** Header plus one commit entry. */
  static final int PREFIX_BYTES = 128 + 32;

  private static final byte[] MAGIC = {0x57, 0x53, 0x45, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

  private SnapshotTime() {}

  /**
   * A snapshot in the bucket.
   *
   * @param txid the TXID it restores to
   * @param commitMillis the time recorded in its commit entry, ms since the epoch
   */
  record Point(long txid, long commitMillis) {}

  /**
   * The commit time of the snapshot {@code key} (one ranged GET).
   *
   * @return empty if the object is gone
   * @throws CorruptSegmentException if the bytes are not a snapshot's header for {@code txid}
   */
  static Optional<Long> read(ObjectStore store, String key, long txid) {
    Optional<byte[]> got = store.getRange(key, 0, PREFIX_BYTES);
    if (got.isEmpty()) {
      return Optional.empty();
    }
    byte[] b = got.get();
    if (b.length < PREFIX_BYTES || !Arrays.equals(b, 0, 8, MAGIC, 0, 8)) {
      throw new CorruptSegmentException(key + ": not a walship segment header (" + b.length + " bytes)");
    }
    ByteBuffer h = ByteBuffer.wrap(b); // big-endian, as the format
    long first = h.getLong(24);
    long last = h.getLong(32);
    long entryTxid = h.getLong(128);
    if (first != txid || last != txid || entryTxid != txid) {
      throw new CorruptSegmentException(
          key + ": expected a snapshot at TXID " + txid + ", header says " + first + ".." + last);
    }
    return Optional.of(h.getLong(128 + 8));
  }

  /**
   * The newest snapshot of {@code db} and its commit time: one LIST of {@code snapshots/} and one
   * ranged GET. Used at start-up so the periodic-snapshot timer counts from the bucket's last
   * snapshot, not from the agent's start.
   *
   * @return empty if the database has no snapshot (or it vanished between LIST and GET)
   */
  static Optional<Point> newest(ObjectStore store, String db) {
    List<ObjectInfo> snaps = store.listAll(BucketLayout.snapshotPrefix(db), null);
    for (int i = snaps.size() - 1; i >= 0; i--) {
      String key = snaps.get(i).key();
      var txid = BucketLayout.snapshotTxid(db, key);
      if (txid.isPresent()) {
        return read(store, key, txid.getAsLong()).map(ms -> new Point(txid.getAsLong(), ms));
      }
    }
    return Optional.empty();
  }
}
