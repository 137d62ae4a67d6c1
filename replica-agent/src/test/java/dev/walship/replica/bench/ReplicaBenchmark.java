package dev.walship.replica.bench;

import dev.walship.primary.DatabaseAgent;
import dev.walship.primary.DatabaseOptions;
import dev.walship.replica.ReplicaAgent;
import dev.walship.replica.ReplicaConfig;
import dev.walship.replica.ServedDatabase;
import dev.walship.replica.testing.ReferenceShipper;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * One-shot benchmark of the replica (not a test): {@code java -cp <test classpath>
 * dev.walship.replica.bench.ReplicaBenchmark [seconds] [lookups,lag,idle]}.
 *
 * <ol>
 *   <li>Point lookups on Chinook's Track table by primary key: Hrana over HTTP (JSON, 4 client
 *       threads, one pipeline per lookup) against in-process JDBC on the same file, same threads.
 *   <li>Commit-to-visible lag: an in-process app commits about 1,000 transactions per second to a
 *       WAL database, the real primary agent ships in continuous mode (one upload in flight), the
 *       replica polls every 20 ms; lag = time from the app's commit to the replica publishing its
 *       TXID.
 *   <li>Object-store requests of an idle, caught-up replica at the default 1 s poll interval,
 *       extrapolated to an hour.
 * </ol>
 */
public final class ReplicaBenchmark {
  private ReplicaBenchmark() {}

  /** How often the lag phase samples the primary's and the replica's TXIDs (50 us). */
  private static final long SAMPLE_NANOS = 50_000;

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    List<String> parts = args.length > 1 ? List.of(args[1].split(",")) : List.of("lookups", "lag", "idle");
    Path tmp = Files.createTempDirectory("walship-bench");
    try (InProcessS3 s3 = InProcessS3.transientBackend().start()) {
      if (parts.contains("lookups")) {
        pointLookups(s3, tmp.resolve("lookups"), seconds);
      }
      if (parts.contains("lag")) {
        lag(s3, tmp.resolve("lag"), seconds);
      }
      if (parts.contains("idle")) {
        idle(s3, tmp.resolve("idle"), seconds);
      }
    }
  }

  private static Path chinook(Path dir) throws Exception {
    Files.createDirectories(dir);
    Path file = dir.resolve("chinook.db");
    try (InputStream in = ReplicaBenchmark.class.getResourceAsStream("/chinook.sqlite")) {
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  private static ReplicaAgent agent(InProcessS3 s3, String prefix, Path dir, Duration poll, String db,
      ScheduledExecutorService scheduler, ExecutorService http, SimpleMeterRegistry registry) throws Exception {
    ReplicaConfig config =
        ReplicaConfig.of("unused", dir)
            .withListen(new InetSocketAddress("127.0.0.1", 0))
            .withDatabases(List.of(db), db)
            .withPolling(poll, Duration.ofMinutes(5), false);
    return new ReplicaAgent(config, s3.open(prefix), Clock.systemUTC(), scheduler, http, registry,
            System::nanoTime)
        .start();
  }

  private static String prefixOf(ObjectStore store) {
    return store.describe().replaceAll("^s3://[^/]+/", "").replaceAll("[ (?].*$", "");
  }

  private static void pointLookups(InProcessS3 s3, Path dir, int seconds) throws Exception {
    Path app = chinook(dir.resolve("app"));
    ObjectStore store = s3.openFresh();
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    ExecutorService http = Executors.newFixedThreadPool(8, Thread.ofPlatform().name("replica-http-", 0).factory());
    try (ReferenceShipper shipper = new ReferenceShipper(store, "chinook", app, Files.createDirectories(dir.resolve("spool")));
        ReplicaAgent agent = (shipper.init() > 0)
            ? agent(s3, prefixOf(store), dir.resolve("replica"), Duration.ofSeconds(1), "chinook", scheduler, http, new SimpleMeterRegistry())
            : null) {
      Path replicaFile = dir.resolve("replica").resolve("chinook.db");
      String url = "http://127.0.0.1:" + agent.port() + "/v2/pipeline";
      int threads = 4;
      OpFactory hranaLookup = () -> {
        HttpClient client = HttpClient.newHttpClient();
        return () -> {
          int id = 1 + ThreadLocalRandom.current().nextInt(3503);
          String body = "{\"baton\":null,\"requests\":[{\"type\":\"execute\",\"stmt\":{\"sql\":"
              + "\"SELECT Name, Milliseconds FROM Track WHERE TrackId = ?\",\"args\":[{\"type\":\"integer\",\"value\":\""
              + id + "\"}]}},{\"type\":\"close\"}]}";
          HttpResponse<String> r = client.send(
              HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 200 || !r.body().contains("\"rows\":[[")) {
            throw new IllegalStateException(r.body());
          }
        };
      };
      run(threads, Math.min(3, seconds), hranaLookup); // warm-up: JIT compilation is not the cost
      Measured hrana = run(threads, seconds, hranaLookup);
      Measured jdbc = run(threads, seconds, () -> {
        Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + replicaFile + "?mode=ro");
        PreparedStatement ps = c.prepareStatement("SELECT Name, Milliseconds FROM Track WHERE TrackId = ?");
        return () -> {
          ps.setInt(1, 1 + ThreadLocalRandom.current().nextInt(3503));
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              throw new IllegalStateException("no row");
            }
            rs.getString(1);
          }
        };
      });
      String health = "http://127.0.0.1:" + agent.port() + "/health";
      Measured floor = run(threads, seconds, () -> {
        HttpClient client = HttpClient.newHttpClient();
        return () -> {
          HttpResponse<String> r = client.send(
              HttpRequest.newBuilder(URI.create(health)).GET().build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 200) {
            throw new IllegalStateException(r.body());
          }
        };
      });
      report("point lookup, Hrana/HTTP (4 threads)", hrana, seconds);
      report("point lookup, in-process JDBC (4 threads)", jdbc, seconds);
      report("HTTP floor: GET /health, same client and server (4 threads)", floor, seconds);
    } finally {
      scheduler.shutdownNow();
      http.shutdownNow();
      store.close();
    }
  }

  private static void lag(InProcessS3 s3, Path dir, int seconds) throws Exception {
    Files.createDirectories(dir.resolve("app"));
    Path app = dir.resolve("app").resolve("lag.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app); Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
    }
    ObjectStore store = s3.openFresh();
    String prefix = prefixOf(store);
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    ExecutorService http = Executors.newFixedThreadPool(4);
    ExecutorService side = Executors.newFixedThreadPool(1);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DatabaseAgent primary = new DatabaseAgent(
        DatabaseOptions.of(app, s3.targetUrl(prefix)).withSyncInterval(Duration.ZERO)
            .withSpoolDir(Files.createDirectories(dir.resolve("spool"))),
        store, new SimpleMeterRegistry(), InstantSource.system());
    try {
      primary.start();
      long first = primary.syncNow(30_000);
      try (ReplicaAgent agent = agent(s3, prefix, dir.resolve("replica"), Duration.ofMillis(20), "lag", scheduler, http, registry)) {
        ServedDatabase served = agent.follower("lag").orElseThrow().served();
        while (served.txid() < first) {
          LockSupport.parkNanos(SAMPLE_NANOS);
        }
        int commits = seconds * 1000;
        long[] commitAt = new long[commits + 1];
        long[] visibleAt = new long[commits + 1];
        java.util.concurrent.atomic.AtomicInteger committed = new java.util.concurrent.atomic.AtomicInteger();
        Future<?> writer = side.submit(() -> {
          try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app)) {
            try (Statement s = c.createStatement()) {
              s.execute("PRAGMA busy_timeout=10000");
              s.execute("PRAGMA synchronous=NORMAL");
            }
            PreparedStatement ins = c.prepareStatement("INSERT INTO t (v) VALUES (randomblob(100))");
            long start = System.nanoTime();
            for (int i = 1; i <= commits; i++) {
              long due = start + i * 1_000_000L;
              while (System.nanoTime() < due) {
                LockSupport.parkNanos(100_000);
              }
              ins.executeUpdate();
              commitAt[i] = System.nanoTime();
              committed.set(i);
            }
          }
          return null;
        });
        long[] durableAt = new long[commits + 1];
        int visibleUpTo = 0;
        int durableUpTo = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds + 60L).toNanos();
        while (visibleUpTo < commits && System.nanoTime() < deadline) {
          int c = committed.get();
          int dUpto = (int) Math.min(c, primary.durableTxid() - first);
          int upto = (int) Math.min(c, served.txid() - first);
          boolean moved = false;
          if (dUpto > durableUpTo) {
            long now = System.nanoTime();
            for (int i = durableUpTo + 1; i <= dUpto; i++) {
              durableAt[i] = now;
            }
            durableUpTo = dUpto;
            moved = true;
          }
          if (upto > visibleUpTo) {
            long now = System.nanoTime();
            for (int i = visibleUpTo + 1; i <= upto; i++) {
              visibleAt[i] = now;
            }
            visibleUpTo = upto;
            moved = true;
          }
          if (!moved) {
            // Not a busy spin: on 2 cores it took a whole core from the primary and the replica.
            LockSupport.parkNanos(SAMPLE_NANOS);
          }
        }
        writer.get();
        long[] lags = new long[visibleUpTo];
        for (int i = 1; i <= visibleUpTo; i++) {
          lags[i - 1] = visibleAt[i] - commitAt[i];
        }
        Arrays.sort(lags);
        System.out.printf("commit-to-visible lag, real primary in continuous mode (%d commits at ~1,000/s,"
                + " TXIDs %d..%d, replica poll 20 ms): p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
            lags.length, first, served.txid(), pct(lags, 50) / 1e6, pct(lags, 99) / 1e6,
            lags.length == 0 ? 0 : lags[lags.length - 1] / 1e6);
        long[] durable = new long[durableUpTo];
        long[] afterDurable = new long[Math.min(durableUpTo, visibleUpTo)];
        for (int i = 1; i <= durableUpTo; i++) {
          durable[i - 1] = durableAt[i] - commitAt[i];
          if (i <= afterDurable.length) {
            afterDurable[i - 1] = visibleAt[i] - durableAt[i];
          }
        }
        Arrays.sort(durable);
        Arrays.sort(afterDurable);
        System.out.printf("  of which commit-to-durable (primary): p50 %.1f ms, p99 %.1f ms;"
                + " durable-to-visible (replica): p50 %.1f ms, p99 %.1f ms%n",
            pct(durable, 50) / 1e6, pct(durable, 99) / 1e6, pct(afterDurable, 50) / 1e6,
            pct(afterDurable, 99) / 1e6);
        List<dev.walship.store.ObjectInfo> l0 =
            store.listAll(dev.walship.format.BucketLayout.levelPrefix("lag", 0), null);
        rawLimits(store, l0.get(l0.size() - 1).key(), dir.resolve("replica"));
        registry.getMeters().stream()
            .filter(m -> m.getId().getName().startsWith("walship_replica_apply") || m.getId().getName().startsWith("walship_replica_fetch"))
            .forEach(m -> System.out.println("  " + m.getId() + " " + m.measure()));
      }
    } finally {
      primary.close();
      side.shutdownNow();
      scheduler.shutdownNow();
      http.shutdownNow();
      store.close();
    }
  }

  /**
   * The raw limits of the lag, measured right after it on the same machine: one GET of a segment
   * that exists (what the replica waits for per new segment), one GET of a key that does not (a
   * caught-up poll), and one 4 KiB write + fdatasync in the replica's directory (an apply's fsync).
   */
  private static void rawLimits(ObjectStore store, String key, Path dir) throws Exception {
    long[] get = new long[200];
    long[] miss = new long[200];
    for (int i = 0; i < get.length; i++) {
      long s = System.nanoTime();
      store.getRange(key, 0, 8L << 20).orElseThrow();
      get[i] = System.nanoTime() - s;
      s = System.nanoTime();
      store.getRange(key + ".absent", 0, 8L << 20);
      miss[i] = System.nanoTime() - s;
    }
    long[] sync = new long[100];
    Path f = dir.resolve("fsync-probe");
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
      for (int i = 0; i < sync.length; i++) {
        long s = System.nanoTime();
        ch.write(java.nio.ByteBuffer.allocate(4096), (long) (i % 16) * 4096);
        ch.force(false);
        sync[i] = System.nanoTime() - s;
      }
    }
    Files.delete(f);
    Arrays.sort(get);
    Arrays.sort(miss);
    Arrays.sort(sync);
    System.out.printf("  raw limits (same run): GET of a segment p50 %.1f ms, p99 %.1f ms; GET 404 p50 %.1f ms,"
            + " p99 %.1f ms; 4 KiB write + fdatasync p50 %.1f ms, p99 %.1f ms%n",
        pct(get, 50) / 1e6, pct(get, 99) / 1e6, pct(miss, 50) / 1e6, pct(miss, 99) / 1e6,
        pct(sync, 50) / 1e6, pct(sync, 99) / 1e6);
  }

  private static void idle(InProcessS3 s3, Path dir, int seconds) throws Exception {
    Path app = chinook(dir.resolve("app"));
    ObjectStore store = s3.openFresh();
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    ExecutorService http = Executors.newFixedThreadPool(2);
    try (ReferenceShipper shipper = new ReferenceShipper(store, "idle", app, Files.createDirectories(dir.resolve("spool")));
        ReplicaAgent agent = (shipper.init() > 0)
            ? agent(s3, prefixOf(store), dir.resolve("replica"), Duration.ofSeconds(1), "idle", scheduler, http, new SimpleMeterRegistry())
            : null) {
      double before = agent.storeRequests();
      long start = System.nanoTime();
      LockSupport.parkNanos(Duration.ofSeconds(seconds).toNanos());
      double requests = agent.storeRequests() - before;
      double hours = (System.nanoTime() - start) / 3.6e12;
      System.out.printf("idle replica, poll 1 s: %.0f store requests in %d s = %.0f per hour"
              + " (GETs of the next L0 key, 404; plus 12 LISTs/h at the 5 min gap check)%n",
          requests, seconds, requests / hours);
    } finally {
      scheduler.shutdownNow();
      http.shutdownNow();
      store.close();
    }
  }

  interface Op {
    void run() throws Exception;
  }

  interface OpFactory {
    Op create() throws Exception;
  }

  /** Runs {@code threads} loops for {@code seconds}; returns every latency in ns and the CPU used. */
  private static Measured run(int threads, int seconds, OpFactory factory) throws Exception {
    com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long cpuBefore = os.getProcessCpuTime();
    long serverBefore = serverCpuNanos();
    ExecutorService pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().name("bench-client-", 0).factory());
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    List<Future<long[]>> futures = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      futures.add(pool.submit(() -> {
        Op op = factory.create();
        long[] buf = new long[1 << 16];
        int n = 0;
        while (System.nanoTime() < end) {
          long s = System.nanoTime();
          op.run();
          if (n == buf.length) {
            buf = Arrays.copyOf(buf, n * 2);
          }
          buf[n++] = System.nanoTime() - s;
        }
        return Arrays.copyOf(buf, n);
      }));
    }
    long[] all = new long[0];
    for (Future<long[]> f : futures) {
      long[] part = f.get();
      long[] merged = Arrays.copyOf(all, all.length + part.length);
      System.arraycopy(part, 0, merged, all.length, part.length);
      all = merged;
    }
    pool.shutdown();
    long cpu = os.getProcessCpuTime() - cpuBefore;
    Arrays.sort(all);
    return new Measured(all, cpu, serverCpuNanos() - serverBefore);
  }

  /** Latencies of a {@link #run}, sorted, in ns, and the process CPU time it used. */
  record Measured(long[] sorted, long cpuNanos, long serverCpuNanos) {}

  /** CPU time of the replica's HTTP server threads (the executor and the JDK's dispatcher), ns. */
  private static long serverCpuNanos() {
    java.lang.management.ThreadMXBean tmx = java.lang.management.ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (java.lang.management.ThreadInfo info : tmx.getThreadInfo(tmx.getAllThreadIds())) {
      if (info != null && (info.getThreadName().startsWith("replica-http-")
          || info.getThreadName().startsWith("HTTP-Dispatcher"))) {
        sum += Math.max(0, tmx.getThreadCpuTime(info.getThreadId()));
      }
    }
    return sum;
  }

  private static void report(String what, Measured m, int seconds) {
    long[] sorted = m.sorted();
    // CPU per operation (this process: client and server) reads steadier than ops/s on a shared
    // machine: other processes slow the clock time of a request, not the CPU it needs.
    System.out.printf("%s: %.0f ops/s, p50 %.3f ms, p99 %.3f ms, process CPU %.1f us/op%s%n",
        what, sorted.length / (double) seconds, pct(sorted, 50) / 1e6, pct(sorted, 99) / 1e6,
        m.cpuNanos() / 1e3 / Math.max(1, sorted.length),
        m.serverCpuNanos() == 0 ? ""
            : " (HTTP server threads %.1f us/op)".formatted(m.serverCpuNanos() / 1e3 / sorted.length));
  }

  private static long pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * p / 100.0) - 1)];
  }
}
