package dev.walship.restore;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.format.Compression;
import dev.walship.format.DatabaseChecksum;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentWriter;
import dev.walship.store.ObjectStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * A small reference shipper for tests, standing in for the primary agent: a separate {@code
 * sqlite3} process commits marker rows, one transaction at a time, to a rollback-journal database;
 * after each commit the file's pages are diffed against the previous copy and the changed pages
 * become that TXID's page versions in one-or-more-commit L0 segments, with correct checksums.
 * TXID 1 is a SNAPSHOT of the database as found (at {@code L0/1} and {@code snapshots/1}).
 *
 * <p>Model: commit t inserts marker {@code t + markerOffset}; every 7th commit also deletes the
 * marker of t - 5. Commit times come from a fake clock: {@code t0 + t * 1000} ms.
 */
final class ReferenceShipper implements AutoCloseable {

  /** What the bucket must give back at one TXID. */
  record Committed(long txid, long timeMillis, long checksum, long sizePages, List<Long> markers) {}

  static final int PAGE_SIZE = 1024;

  final ObjectStore store;
  final String db;
  final Path file;
  final Lineage lineage;
  final TreeMap<Long, Committed> history = new TreeMap<>();
  private final Path spool;
  private final Random random;
  private final long t0;
  private final long markerOffset;
  private final Process sqlite;
  private final Writer in;
  private final BufferedReader out;
  private final TreeSet<Long> markers;
  private byte[] previous;
  private long txid;
  private SegmentWriter segment;
  private long segmentFirst;
  private int probe;

  private ReferenceShipper(ObjectStore store, String db, Path file, Lineage lineage, long t0,
      long markerOffset, Random random, long txid, TreeSet<Long> markers) throws IOException {
    this.store = store;
    this.db = db;
    this.file = file;
    this.lineage = lineage;
    this.t0 = t0;
    this.markerOffset = markerOffset;
    this.random = random;
    this.txid = txid;
    this.markers = markers;
    this.spool = Files.createDirectories(file.resolveSibling("spool-" + db));
    this.sqlite = new ProcessBuilder("sqlite3", "-batch", file.toString())
        .redirectErrorStream(true).start();
    this.in = new OutputStreamWriter(sqlite.getOutputStream(), StandardCharsets.UTF_8);
    this.out = new BufferedReader(new InputStreamReader(sqlite.getInputStream(), StandardCharsets.UTF_8));
    if (store.head(BucketLayout.lineageKey(db)).isEmpty()) {
      store.putIfAbsent(BucketLayout.lineageKey(db), lineage.toJson());
    }
  }

  /** A new database in {@code dir}, TXID 1 uploaded as a snapshot. */
  static ReferenceShipper create(ObjectStore store, String db, Path dir, long t0, Random random)
      throws IOException {
    return create(store, db, dir, t0, random, 0);
  }

  /** As above, the database as found also holding {@code bulkRows} rows of 3,000 random bytes. */
  static ReferenceShipper create(ObjectStore store, String db, Path dir, long t0, Random random,
      int bulkRows) throws IOException {
    Path file = dir.resolve(db + ".db");
    Process p = new ProcessBuilder("sqlite3", "-batch", file.toString(),
        "PRAGMA page_size=" + PAGE_SIZE + "; PRAGMA journal_mode=DELETE; PRAGMA auto_vacuum=FULL;"
            + " CREATE TABLE markers(seq INTEGER PRIMARY KEY, payload BLOB);"
            + " CREATE TABLE bulk(id INTEGER PRIMARY KEY, v BLOB);"
            + " WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + bulkRows
            + ") INSERT INTO bulk SELECT x, randomblob(3000) FROM c WHERE " + bulkRows + " > 0;")
        .redirectErrorStream(true).start();
    String err = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException("sqlite3 failed: " + err);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    Lineage lineage = new Lineage(db, UUID.randomUUID().toString(), PAGE_SIZE, t0, null);
    ReferenceShipper s = new ReferenceShipper(store, db, file, lineage, t0, 0, random, 0, new TreeSet<>());
    s.uploadInitialSnapshot();
    return s;
  }

  /**
   * A branch: {@code file} holds the parent at {@code parent.txid} (rollback mode); the branch's
   * own commits start at {@code parent.txid + 1}.
   */
  static ReferenceShipper branch(ObjectStore store, String db, Path file, Lineage lineage,
      Committed atBranch, long t0, long markerOffset, Random random) throws IOException {
    ReferenceShipper s = new ReferenceShipper(store, db, file, lineage, t0, markerOffset, random,
        lineage.parent().txid(), new TreeSet<>(atBranch.markers()));
    s.previous = Files.readAllBytes(file);
    s.history.put(atBranch.txid(), atBranch);
    return s;
  }

  private void uploadInitialSnapshot() throws IOException {
    byte[] image = Files.readAllBytes(file);
    txid = 1;
    long time = t0 + 1000;
    long checksum = checksum(image);
    try (SegmentWriter w = SegmentWriter.create(SegmentKind.SNAPSHOT, 0, PAGE_SIZE, 1, 0,
        Compression.LZ4, spool)) {
      for (int pg = 1; pg <= image.length / PAGE_SIZE; pg++) {
        w.addPage(pg, 1, image, (pg - 1) * PAGE_SIZE);
      }
      w.addCommit(new CommitRecord(1, time, image.length / PAGE_SIZE, checksum));
      byte[] bytes = w.finish();
      store.putIfAbsent(BucketLayout.level0Key(db, 1), bytes);
      store.putIfAbsent(BucketLayout.snapshotKey(db, 1), bytes);
    }
    previous = image;
    history.put(1L, new Committed(1, time, checksum, image.length / PAGE_SIZE, List.of()));
  }

  /** One transaction in the sqlite3 process, captured into the open segment. */
  Committed commit() throws IOException {
    long t = txid + 1;
    long marker = t + markerOffset;
    StringBuilder sql = new StringBuilder("BEGIN; INSERT INTO markers(seq, payload) VALUES (")
        .append(marker).append(", randomblob(").append(50 + random.nextInt(2500)).append("));");
    markers.add(marker);
    if (t % 7 == 0) {
      sql.append(" DELETE FROM markers WHERE seq = ").append(marker - 5).append(";");
      markers.remove(marker - 5);
    }
    sql.append(" COMMIT;");
    run(sql.toString());
    byte[] image = Files.readAllBytes(file);
    long size = image.length / PAGE_SIZE;
    if (segment == null) {
      segment = SegmentWriter.create(SegmentKind.INCREMENTAL, 0, PAGE_SIZE, t,
          history.get(txid).checksum(), random.nextBoolean() ? Compression.LZ4 : Compression.NONE, spool);
      segmentFirst = t;
    }
    for (int pg = 1; pg <= size; pg++) {
      int off = (pg - 1) * PAGE_SIZE;
      boolean same = off + PAGE_SIZE <= previous.length
          && Arrays.equals(image, off, off + PAGE_SIZE, previous, off, off + PAGE_SIZE);
      if (!same) {
        segment.addPage(pg, t, image, off);
      }
    }
    long checksum = checksum(image);
    long time = t0 + t * 1000;
    segment.addCommit(new CommitRecord(t, time, size, checksum));
    previous = image;
    txid = t;
    Committed c = new Committed(t, time, checksum, size, List.copyOf(markers));
    history.put(t, c);
    return c;
  }

  /** Uploads the open segment (if any) at {@code L0/{first}}. */
  void cutSegment() {
    if (segment == null) {
      return;
    }
    byte[] bytes = segment.finish();
    segment.close();
    segment = null;
    store.putIfAbsent(BucketLayout.level0Key(db, segmentFirst), bytes);
  }

  /** Cuts the open segment and uploads a snapshot at the current TXID. */
  void snapshot() throws IOException {
    cutSegment();
    Committed c = history.get(txid);
    try (SegmentWriter w = SegmentWriter.create(SegmentKind.SNAPSHOT, 0, PAGE_SIZE, txid, 0,
        Compression.LZ4, spool)) {
      for (int pg = 1; pg <= previous.length / PAGE_SIZE; pg++) {
        w.addPage(pg, txid, previous, (pg - 1) * PAGE_SIZE);
      }
      w.addCommit(new CommitRecord(txid, c.timeMillis(), c.sizePages(), c.checksum()));
      store.putIfAbsent(BucketLayout.snapshotKey(db, txid), w.finish());
    }
  }

  /** {@code commits} commits in segments of 1..maxPerSegment, a snapshot every {@code snapEvery}. */
  void run(int commits, int maxPerSegment, int snapEvery) throws IOException {
    int inSegment = 0;
    int target = 1 + random.nextInt(maxPerSegment);
    for (int i = 0; i < commits; i++) {
      commit();
      if (++inSegment >= target) {
        cutSegment();
        inSegment = 0;
        target = 1 + random.nextInt(maxPerSegment);
        if (snapEvery > 0 && random.nextInt(snapEvery) == 0) {
          snapshot();
        }
      }
    }
    cutSegment();
  }

  long txid() {
    return txid;
  }

  private void run(String sql) throws IOException {
    String tag = "done-" + (++probe);
    in.write(sql + "\nSELECT '" + tag + "';\n");
    in.flush();
    List<String> lines = new ArrayList<>();
    String line;
    while ((line = out.readLine()) != null) {
      if (line.equals(tag)) {
        if (!lines.isEmpty()) {
          throw new IOException("sqlite3 said: " + lines);
        }
        return;
      }
      lines.add(line);
    }
    throw new IOException("sqlite3 exited: " + lines);
  }

  static long checksum(byte[] image) {
    long c = 0;
    for (int pg = 1; pg <= image.length / PAGE_SIZE; pg++) {
      c ^= DatabaseChecksum.pageHash(pg, image, (pg - 1) * PAGE_SIZE, PAGE_SIZE);
    }
    return c;
  }

  static long checksumOfFile(Path file, int pageSize) throws IOException {
    byte[] image = Files.readAllBytes(file);
    long c = 0;
    for (int pg = 1; pg <= image.length / pageSize; pg++) {
      c ^= DatabaseChecksum.pageHash(pg, image, (pg - 1) * pageSize, pageSize);
    }
    return c;
  }

  @Override
  public void close() {
    if (segment != null) {
      segment.close();
    }
    try {
      in.write(".quit\n");
      in.flush();
    } catch (IOException ignored) {
      // The process may already be gone.
    }
    sqlite.destroy();
  }

}
