package dev.walship.format;

import java.util.HexFormat;
import java.util.OptionalLong;
import java.util.regex.Pattern;

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
 * {db}/branches/{child}.json             back-reference written by a branch of this database
 * </pre>
 *
 * Keys are relative to the store root (the target URL's prefix). A replica that has applied TXID t
 * expects {@code level0Key(db, t + 1)} next and can GET exactly that key. Stateless and
 * thread-safe.
 */
public final class BucketLayout {
  private static final HexFormat HEX = HexFormat.of();
  private static final Pattern DB_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,199}");
  private static final Pattern HEX16 = Pattern.compile("[0-9a-f]{16}");

  private BucketLayout() {}

  /** 16 lower-case hex digits, zero-padded: the form of every number in a key. */
  public static String hex(long n) {
    return HEX.toHexDigits(n);
  }

  /**
   * True if {@code db} is a valid database (or branch child) name: 1-200 characters of {@code A-Z
   * a-z 0-9 . _ -}, not starting with {@code .} or {@code -}. No {@code /}, so one database's keys
   * can never be read as another's.
   */
  public static boolean isValidDbName(String db) {
    return db != null && DB_NAME.matcher(db).matches();
  }

  /**
   * Returns {@code db} if it is a valid name (see {@link #isValidDbName}).
   *
   * @throws IllegalArgumentException otherwise
   */
  public static String checkDbName(String db) {
    if (!isValidDbName(db)) {
      throw new IllegalArgumentException(
          "database name must be 1-200 of [A-Za-z0-9._-], not starting with '.' or '-': " + db);
    }
    return db;
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

  public static String branchesPrefix(String db) {
    return db + "/branches/";
  }

  /** Key of the back-reference branch {@code child} writes under its parent {@code db}. */
  public static String branchKey(String db, String child) {
    return branchesPrefix(db) + child + ".json";
  }

  /**
   * The first TXID named by a level-0 key of {@code db} (as returned by a LIST), or empty if {@code
   * key} is not exactly {@code {db}/L0/{16 hex}.seg}.
   */
  public static OptionalLong level0Txid(String db, String key) {
    return txidIn(key, levelPrefix(db, 0));
  }

  /** The TXID named by a snapshot key of {@code db}, or empty if {@code key} is not one. */
  public static OptionalLong snapshotTxid(String db, String key) {
    return txidIn(key, snapshotPrefix(db));
  }

  private static OptionalLong txidIn(String key, String prefix) {
    if (key == null
        || !key.startsWith(prefix)
        || !key.endsWith(".seg")
        || key.length() != prefix.length() + 16 + 4) {
      return OptionalLong.empty();
    }
    String digits = key.substring(prefix.length(), prefix.length() + 16);
    if (!HEX16.matcher(digits).matches()) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(HexFormat.fromHexDigitsToLong(digits));
  }
}
