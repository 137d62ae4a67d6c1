package dev.walship.format;

/**
 * Object keys of the bucket layout (see SPEC.md, "Bucket layout"). Every number in a key is
 * fixed-width, zero-padded, lower-case hex so a lexicographic LIST is log order.
 *
 * <pre>
 * {db}/lineage.json                      manifest: lineage id, page size, parent for a branch
 * {db}/lease.json                        the writer's lease (conditional writes)
 * {db}/L0/{firstTxid:016x}.seg           level-0 segment, named by the TXID it starts at
 * {db}/L{n}/{firstTxid:016x}-{lastTxid:016x}.seg   compacted segments, level n >= 1
 * {db}/snapshots/{txid:016x}.seg         snapshot at txid
 * </pre>
 *
 * A replica that has applied TXID t expects {@code level0Key(db, t + 1)} next and can GET exactly
 * that key. Stateless and thread-safe.
 */
public final class BucketLayout {
  private BucketLayout() {}

  public static String hex(long n) {
    return String.format("%016x", n);
  }

  public static String dbPrefix(String db) {
    return db + "/";
  }

  public static String lineageKey(String db) {
    return db + "/lineage.json";
  }

  public static String leaseKey(String db) {
    return db + "/lease.json";
  }

  public static String levelPrefix(String db, int level) {
    return db + "/L" + level + "/";
  }

  public static String level0Key(String db, long firstTxid) {
    return levelPrefix(db, 0) + hex(firstTxid) + ".seg";
  }

  public static String compactedKey(String db, int level, long firstTxid, long lastTxid) {
    if (level < 1) {
      throw new IllegalArgumentException("compacted levels start at 1, got " + level);
    }
    return levelPrefix(db, level) + hex(firstTxid) + "-" + hex(lastTxid) + ".seg";
  }

  public static String snapshotPrefix(String db) {
    return db + "/snapshots/";
  }

  public static String snapshotKey(String db, long txid) {
    return snapshotPrefix(db) + hex(txid) + ".seg";
  }
}
