package dev.walship.restore;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.format.Compression;
import dev.walship.format.DatabaseChecksum;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentWriter;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Restore throughput beside raw GET throughput of the same objects from the same store, in one
 * run. The store is a real S3 server in-process (S3Proxy, filesystem backend) kept under the work
 * directory, so a history is generated once and reused.
 *
 * <p>History: a SQLite database of {@code --size-mib} (rows of random 3,000-byte blobs) captured as
 * a snapshot at TXID 1, then {@code --commits} commits, each updating one random row and inserting
 * one, captured from the WAL's frames (as the primary does) into level-0 segments of
 * {@code --commits-per-segment} commits with exact checksums, plus one snapshot in the middle.
 *
 * <pre>
 * mvn -B -q -pl restore-tool -am test-compile
 * mvn -B -q -pl restore-tool dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -Xmx1g -cp restore-tool/target/test-classes:restore-tool/target/classes:$(cat /tmp/cp.txt) \
 *   dev.walship.restore.RestoreBenchmark --dir /tmp/walship-bench --size-mib 1024 --commits 100000
 * </pre>
 */
public final class RestoreBenchmark {
  private static final int PAGE_SIZE = 4096;
  private static final long T0 = 1_795_255_200_000L;

  public static void main(String[] args) throws Exception {
    Path dir = Path.of("/tmp/walship-bench");
    int sizeMib = 256;
    int commits = 100_000;
    int perSegment = 100;
    int parallelism = 8;
    int rounds = 2;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[i + 1]);
        case "--size-mib" -> sizeMib = Integer.parseInt(args[i + 1]);
        case "--commits" -> commits = Integer.parseInt(args[i + 1]);
        case "--commits-per-segment" -> perSegment = Integer.parseInt(args[i + 1]);
        case "--parallelism" -> parallelism = Integer.parseInt(args[i + 1]);
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    String name = "bench-" + sizeMib + "m-" + commits;
    Path work = Files.createDirectories(dir.resolve(name));
    try (InProcessS3 s3 = InProcessS3.filesystemBackend(work.resolve("s3")).start();
        ObjectStore store = s3.open("bench")) {
      if (store.head(BucketLayout.lineageKey("db")).isEmpty()) {
        long g = System.nanoTime();
        generate(store, work, sizeMib, commits, perSegment);
        System.out.printf("generated %s in %.1f s%n", name, (System.nanoTime() - g) / 1e9);
      }
      RestorePlanner planner = new RestorePlanner(store);
      Timeline tl = planner.timeline("db");
      long last = planner.latestTxid(tl);
      System.out.printf("history: TXIDs 1..%d, %d level-0 segments, %d snapshots, %d objects%n", last,
          tl.level0().size(), tl.snapshots().size(), store.listAll("db/", null).size());
      // Per target: {raw seconds, restore seconds} of each measured round (the first is warm-up).
      List<List<double[]>> measured = List.of(new ArrayList<>(), new ArrayList<>());
      for (int round = 0; round < rounds; round++) {
        System.out.println(round == 0 ? "-- warm-up round" : "-- measured round");
        int targetIndex = 0;
        for (long target : new long[] {last, last / 2 - 17}) {
          RestorePlan plan = planner.plan(tl, RestoreTarget.txid(target));
          double rawSeconds = rawGet(store, plan, work, parallelism, false);
          Path out = work.resolve("restored.db");
          Files.deleteIfExists(out);
          long start = System.nanoTime();
          StringBuilder phases = new StringBuilder();
          RestoreProgress timing = new RestoreProgress() {
            volatile long lastDownload;

            @Override
            public void downloaded(String key, long bytes) {
              lastDownload = System.nanoTime();
            }

            @Override
            public synchronized void applied(long txid) {
              phases.append(String.format(" applied %d at %.2f s (downloads done at %.2f s);", txid,
                  (System.nanoTime() - start) / 1e9, (lastDownload - start) / 1e9));
            }
          };
          Restorer.Result r = new Restorer(store, new Restorer.Options(parallelism, 512L << 20, 512),
              timing).restoreTo(plan, out, true, Restorer.JournalMode.DELETE);
          double restoreSeconds = (System.nanoTime() - start) / 1e9;
          System.out.println("  phases:" + phases);
          double applyOnly = applyOnly(store, plan, work, parallelism);
          double mib = plan.totalBytes() / 1048576.0;
          System.out.printf(
              "target TXID %d: %d objects, %.1f MiB; raw GET %.2f s (%.0f MiB/s); restore to file "
                  + "(download+verify+apply+integrity_check+fsync) %.2f s (%.0f MiB/s, %.2f x raw); "
                  + "download+verify+apply only %.2f s (%.2f x raw); db %.1f MiB, checksum %016x%n",
              target, plan.objects().size(), mib, rawSeconds, mib / rawSeconds, restoreSeconds,
              mib / restoreSeconds, rawSeconds / restoreSeconds, applyOnly, rawSeconds / applyOnly,
              Files.size(out) / 1048576.0, r.checksum());
          Files.deleteIfExists(out);
          if (round > 0) {
            measured.get(targetIndex).add(new double[] {rawSeconds, restoreSeconds});
          }
          targetIndex++;
        }
      }
      // The build machine is shared and loaded: the median over rounds is the number to quote.
      for (int t = 0; t < 2 && rounds > 1; t++) {
        double[] ratios = measured.get(t).stream().mapToDouble(x -> x[0] / x[1]).sorted().toArray();
        double[] raw = measured.get(t).stream().mapToDouble(x -> x[0]).sorted().toArray();
        double[] restore = measured.get(t).stream().mapToDouble(x -> x[1]).sorted().toArray();
        System.out.printf("%s: median over %d measured rounds: raw %.2f s, restore %.2f s, ratio %.2f x raw"
            + " (ratios %s)%n", t == 0 ? "latest" : "mid", ratios.length, raw[raw.length / 2],
            restore[restore.length / 2], ratios[ratios.length / 2], Arrays.toString(ratios));
      }
    }
  }

  /** GETs every object of the plan to files with the same parallelism, nothing else. */
  static double rawGet(ObjectStore store, RestorePlan plan, Path work, int parallelism, boolean ranged)
      throws Exception {
    Path tmp = Files.createTempDirectory(work, "raw-");
    ExecutorService pool = Executors.newFixedThreadPool(parallelism);
    ExecutorService parts = Executors.newFixedThreadPool(parallelism);
    long start = System.nanoTime();
    List<Future<Boolean>> fs = new ArrayList<>();
    int i = 0;
    for (RestorePlan.PlannedObject o : plan.objects()) {
      Path f = tmp.resolve((i++) + ".seg");
      fs.add(pool.submit(() -> {
        if (ranged) {
          OrderedDownloads.download(store, new OrderedDownloads.Item(o.key(), o.sizeBytes()), f, parts, 8L << 20);
          return true;
        }
        return store.getToFile(o.key(), f);
      }));
    }
    for (Future<Boolean> f : fs) {
      if (!f.get()) {
        throw new IllegalStateException("missing object");
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    parts.shutdown();
    try (Stream<Path> s = Files.list(tmp)) {
      for (Path p : s.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(tmp);
    return seconds;
  }

  static double applyOnly(ObjectStore store, RestorePlan plan, Path work, int parallelism) throws IOException {
    Path file = work.resolve("apply-only.db");
    Files.deleteIfExists(file);
    Files.deleteIfExists(ApplierState.pathFor(file));
    Path tmp = Files.createTempDirectory(work, "apply-");
    long start = System.nanoTime();
    try (PageApplier a = PageApplier.open(file, plan.lineageId(), SegmentSource.none())) {
      new Restorer(store, new Restorer.Options(parallelism, 512L << 20, 512), RestoreProgress.none())
          .applyPlan(plan, a, tmp);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Files.delete(tmp);
    Files.delete(file);
    Files.delete(ApplierState.pathFor(file));
    return seconds;
  }

  // ---------------------------------------------------------------------------------------------

  static void generate(ObjectStore store, Path work, int sizeMib, int commits, int perSegment)
      throws Exception {
    Path db = work.resolve("source.db");
    for (String s : List.of("", "-wal", "-shm")) {
      Files.deleteIfExists(work.resolve("source.db" + s));
    }
    Random random = new Random(1);
    int rowBytes = 3000;
    long rows = (long) sizeMib * 1024 * 1024 / (rowBytes + 100);
    Lineage lineage = new Lineage("db", UUID.randomUUID().toString(), PAGE_SIZE, T0, null);
    store.putIfAbsent(BucketLayout.lineageKey("db"), lineage.toJson());
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      st.execute("PRAGMA page_size=" + PAGE_SIZE);
      st.executeQuery("PRAGMA journal_mode=WAL").close();
      st.execute("PRAGMA synchronous=OFF");
      st.execute("PRAGMA wal_autocheckpoint=0");
      st.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      c.setAutoCommit(false);
      try (PreparedStatement ins = c.prepareStatement("INSERT INTO t(id, v) VALUES (?, ?)")) {
        byte[] blob = new byte[rowBytes];
        for (long id = 1; id <= rows; id++) {
          random.nextBytes(blob);
          ins.setLong(1, id);
          ins.setBytes(2, blob);
          ins.executeUpdate();
        }
      }
      c.commit();
      c.setAutoCommit(true);
      checkpoint(c);
      // TXID 1: the database as found.
      long[] hashes;
      long checksum;
      long sizePages;
      sizePages = Files.size(db) / PAGE_SIZE;
      hashes = new long[(int) sizePages + 1];
      checksum = uploadSnapshot(store, work, db, 1, hashes, true);
      long nextId = rows + 1;
      Path wal = work.resolve("source.db-wal");
      long txid = 1;
      SegmentWriter seg = null;
      long segFirst = 0;
      long walOffset = 32;
      byte[] frame = new byte[24 + PAGE_SIZE];
      byte[] blob = new byte[rowBytes];
      long mid = commits / 2;
      try (PreparedStatement upd = c.prepareStatement("UPDATE t SET v = ? WHERE id = ?");
          PreparedStatement ins = c.prepareStatement("INSERT INTO t(id, v) VALUES (?, ?)")) {
        for (int i = 0; i < commits; i++) {
          c.setAutoCommit(false);
          random.nextBytes(blob);
          upd.setBytes(1, Arrays.copyOf(blob, 200 + random.nextInt(rowBytes - 200)));
          upd.setLong(2, 1 + (long) (random.nextDouble() * (nextId - 1)));
          upd.executeUpdate();
          ins.setLong(1, nextId++);
          ins.setBytes(2, Arrays.copyOf(blob, 100));
          ins.executeUpdate();
          c.commit();
          c.setAutoCommit(true);
          txid++;
          if (seg == null) {
            seg = SegmentWriter.create(SegmentKind.INCREMENTAL, 0, PAGE_SIZE, txid, checksum,
                Compression.LZ4, work);
            segFirst = txid;
          }
          // Read this commit's frames from the WAL.
          long newSize = -1;
          java.util.LinkedHashMap<Long, byte[]> pages = new java.util.LinkedHashMap<>();
          try (FileChannel ch = FileChannel.open(wal, StandardOpenOption.READ)) {
            long end = ch.size();
            while (walOffset + frame.length <= end) {
              ByteBuffer b = ByteBuffer.wrap(frame);
              while (b.hasRemaining()) {
                ch.read(b, walOffset + b.position());
              }
              ByteBuffer h = ByteBuffer.wrap(frame).order(ByteOrder.BIG_ENDIAN);
              long pg = Integer.toUnsignedLong(h.getInt(0));
              long commitSize = Integer.toUnsignedLong(h.getInt(4));
              pages.put(pg, Arrays.copyOfRange(frame, 24, 24 + PAGE_SIZE));
              walOffset += frame.length;
              if (commitSize != 0) {
                newSize = commitSize;
                break;
              }
            }
          }
          if (newSize < 0) {
            throw new IllegalStateException("no commit frame found for TXID " + txid);
          }
          if (newSize + 1 > hashes.length) {
            hashes = Arrays.copyOf(hashes, (int) Math.max(newSize + 1, hashes.length * 3L / 2));
          }
          for (long pg = newSize + 1; pg <= sizePages; pg++) {
            checksum ^= hashes[(int) pg];
            hashes[(int) pg] = 0;
          }
          for (var e : pages.entrySet()) {
            int pg = (int) (long) e.getKey();
            if (pg > newSize) {
              continue;
            }
            long h = DatabaseChecksum.pageHash(pg, e.getValue());
            checksum ^= hashes[pg] ^ h;
            hashes[pg] = h;
            seg.addPage(pg, txid, e.getValue(), 0);
          }
          sizePages = newSize;
          seg.addCommit(new CommitRecord(txid, T0 + txid * 10, sizePages, checksum));
          if (seg.commitCount() >= perSegment || i == commits - 1 || txid == mid) {
            Path f = work.resolve("segment.tmp");
            seg.finishTo(f);
            seg.close();
            seg = null;
            store.putIfAbsent(BucketLayout.level0Key("db", segFirst), f);
            Files.delete(f);
          }
          if (txid == mid) {
            checkpoint(c);
            walOffset = 32;
            uploadSnapshot(store, work, db, txid, null, false);
          } else if (walOffset > (64L << 20)) {
            checkpoint(c);
            walOffset = 32;
          }
        }
      }
    }
  }

  static void checkpoint(Connection c) throws java.sql.SQLException {
    try (Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
      rs.next();
      if (rs.getInt(1) != 0) {
        throw new IllegalStateException("checkpoint was blocked");
      }
    }
  }

  /**
   * Uploads the checkpointed database file as a snapshot at {@code txid}, streaming it page by
   * page; fills {@code hashes} (if given) and returns the checksum.
   */
  static long uploadSnapshot(ObjectStore store, Path work, Path db, long txid, long[] hashes,
      boolean alsoLevel0) throws IOException {
    Path f = work.resolve("snapshot.tmp");
    long checksum = 0;
    try (SegmentWriter w = SegmentWriter.create(SegmentKind.SNAPSHOT, 0, PAGE_SIZE, txid, 0,
            Compression.LZ4, work);
        FileChannel ch = FileChannel.open(db, StandardOpenOption.READ)) {
      long size = ch.size() / PAGE_SIZE;
      byte[] page = new byte[PAGE_SIZE];
      for (int pg = 1; pg <= size; pg++) {
        ByteBuffer b = ByteBuffer.wrap(page);
        while (b.hasRemaining()) {
          ch.read(b, (pg - 1L) * PAGE_SIZE + b.position());
        }
        long h = DatabaseChecksum.pageHash(pg, page);
        if (hashes != null) {
          hashes[pg] = h;
        }
        checksum ^= h;
        w.addPage(pg, txid, page, 0);
      }
      w.addCommit(new CommitRecord(txid, T0 + txid * 10, size, checksum));
      w.finishTo(f);
    }
    store.putIfAbsent(BucketLayout.snapshotKey("db", txid), f);
    if (alsoLevel0) {
      store.putIfAbsent(BucketLayout.level0Key("db", txid), f);
    }
    Files.delete(f);
    return checksum;
  }

}
