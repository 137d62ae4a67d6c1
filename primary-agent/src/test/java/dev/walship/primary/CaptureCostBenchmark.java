package dev.walship.primary;

import dev.walship.format.Compression;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import dev.walship.store.testing.InProcessS3;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.InstantSource;
import java.util.List;
import java.util.Random;

/**
 * Prints the primary agent's CPU cost per captured commit, stage by stage (not a test; run with
 * {@code primary-agent/bench-capture}). The machine has two cores and the app needs one, so this
 * figure, not wall time, decides how much the agent slows an app that commits as fast as it can.
 *
 * <p>Setup: N one-row commits (100-byte blob, 4 KiB pages, synchronous=NORMAL) are written while
 * a read transaction pins the WAL, so all of them stay in one WAL generation. Then, on this thread
 * only, measured with thread CPU time:
 *
 * <ol>
 *   <li>capture: {@link Capturer#poll()} (WAL read, checksum validation, page hashes, page images
 *       handed to the segment writer's spool); and the WAL side alone: a second capturer of the
 *       same WAL whose sink discards what it gets;
 *   <li>cut: finishing the segment files (index, compression, file CRC), one per {@code batch}
 *       commits, as the continuous mode does under load;
 *   <li>upload: {@code putIfAbsent} of those files to a local-directory bucket and to the
 *       in-process S3 server (signing, HTTP; the server's own CPU runs on other threads and is
 *       not counted).
 * </ol>
 *
 * Beside them, the raw limits measured in the same run: reading the WAL file sequentially and
 * copying its page bytes.
 */
public final class CaptureCostBenchmark {
  private CaptureCostBenchmark() {}

  public static void main(String[] args) throws Exception {
    int commits = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    Compression compression = Compression.valueOf(System.getProperty("bench.compression", "LZ4"));
    Path dir = Files.createTempDirectory("walship-capture-bench");
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long walBytes = 0;
    long rawNanos = 0;
    for (int round = 0; round < 3; round++) {
      Path db = dir.resolve("app-" + round + ".db");
      Path spool = Files.createDirectories(dir.resolve("spool-" + round));
      SegmentBuilder builder = new SegmentBuilder("app", spool, compression);
      Capturer capturer = new Capturer(db, builder, InstantSource.system(), 1000);
      Capturer walSide = new Capturer(db, new DiscardingSink(), InstantSource.system(), 1000);
      try (Connection app = DriverManager.getConnection("jdbc:sqlite:" + db);
          Capturer open = capturer;
          Capturer open2 = walSide) {
        try (Statement s = app.createStatement()) {
          s.execute("PRAGMA journal_mode=WAL");
          s.execute("PRAGMA synchronous=NORMAL");
          s.execute("PRAGMA wal_autocheckpoint=0"); // setup speed only
          s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
        }
        capturer.open();
        capturer.resync(BucketPosition.nothing()); // initial snapshot; its read transaction pins
        builder.cut();
        walSide.open();
        walSide.resync(BucketPosition.nothing());
        Random rnd = new Random(round);
        byte[] row = new byte[100];
        try (PreparedStatement ins = app.prepareStatement("INSERT INTO t(v) VALUES (?)")) {
          for (int i = 0; i < commits; i++) {
            rnd.nextBytes(row);
            ins.setBytes(1, row);
            ins.executeUpdate();
          }
        }
        walBytes = Files.size(Path.of(db + "-wal"));
        long t0 = mx.getCurrentThreadCpuTime();
        rawRead(Path.of(db + "-wal"));
        rawNanos = mx.getCurrentThreadCpuTime() - t0;
        long captureNanos = 0;
        long cutNanos = 0;
        long captured = 0;
        List<PendingSegment> segments = new java.util.ArrayList<>();
        // Capture in slices of `batch` commits: the WAL is re-polled as the live loop would.
        while (captured < commits) {
          long a = mx.getCurrentThreadCpuTime();
          int n = capturer.pollAtMost(batch);
          long b = mx.getCurrentThreadCpuTime();
          segments.addAll(builder.cut());
          long c = mx.getCurrentThreadCpuTime();
          captureNanos += b - a;
          cutNanos += c - b;
          captured += n;
          if (n == 0) {
            throw new IllegalStateException("capture stalled at " + captured + " of " + commits);
          }
        }
        long walSideNanos = 0;
        for (long done = 0; done < commits; ) {
          long a = mx.getCurrentThreadCpuTime();
          int n = walSide.pollAtMost(batch);
          walSideNanos += mx.getCurrentThreadCpuTime() - a;
          done += n;
          if (n == 0) {
            throw new IllegalStateException("WAL-side capture stalled at " + done + " of " + commits);
          }
        }
        long segBytes = segments.stream().mapToLong(PendingSegment::bytes).sum();
        long localNanos;
        long s3Nanos;
        try (ObjectStore local = ObjectStores.open(dir.resolve("bucket-" + round).toUri().toString());
            InProcessS3 s3 = InProcessS3.transientBackend().start();
            ObjectStore remote = s3.open("bench")) {
          localNanos = upload(local, segments, mx);
          upload(remote, segments.subList(0, Math.min(5, segments.size())), mx); // warm-up
          s3Nanos = upload(remote, segments.subList(Math.min(5, segments.size()), segments.size()), mx)
              * segments.size() / Math.max(1, segments.size() - Math.min(5, segments.size()));
        }
        System.out.printf(
            "round %d: %d commits, %d segments (%.1f MiB, %s): CPU per commit: capture %.2f us"
                + " (WAL side alone %.2f us), cut %.2f us, upload local %.2f us,"
                + " upload S3 (client side) %.2f us%n",
            round, captured, segments.size(), segBytes / 1048576.0, compression,
            captureNanos / 1000.0 / captured, walSideNanos / 1000.0 / commits,
            cutNanos / 1000.0 / captured,
            localNanos / 1000.0 / captured, s3Nanos / 1000.0 / captured);
      }
    }
    System.out.printf("raw limit: reading the %.1f MiB WAL sequentially costs %.2f us per commit%n",
        walBytes / 1048576.0, rawNanos / 1000.0 / commits);
  }

  /** Takes what a capturer emits and keeps nothing: the WAL side's cost alone. */
  private static final class DiscardingSink implements CaptureSink {
    @Override
    public void resume(int pageSize, long lastTxid, long checksum) {}

    @Override
    public void beginSnapshot(long txid, int pageSize) {}

    @Override
    public void page(long pageNumber, long txid, byte[] data, int offset) {}

    @Override
    public void commit(dev.walship.format.CommitRecord record) {}
  }

  private static long upload(ObjectStore store, List<PendingSegment> segments, ThreadMXBean mx) {
    long a = mx.getCurrentThreadCpuTime();
    for (PendingSegment s : segments) {
      store.putIfAbsent(s.keys().get(0), s.file());
    }
    return mx.getCurrentThreadCpuTime() - a;
  }

  private static long rawRead(Path file) throws java.io.IOException {
    long total = 0;
    byte[] buf = new byte[1 << 20];
    try (var in = Files.newInputStream(file)) {
      for (int n = in.read(buf); n > 0; n = in.read(buf)) {
        total += n;
      }
    }
    return total;
  }
}
