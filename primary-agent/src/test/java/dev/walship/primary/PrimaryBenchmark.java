package dev.walship.primary;

import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Prints the primary agent's numbers (not a test). Run with {@code primary-agent/bench}.
 *
 * <ol>
 *   <li>App commit throughput (separate process, 1-row transactions, synchronous=NORMAL) without
 *       and with the agent attached (continuous mode), alternating rounds, median of each.
 *   <li>Commit-to-durable lag p50/p99 at a paced 200 commits/s, continuous and 1 s interval.
 *   <li>S3 requests per 1,000 commits (same runs) and per idle minute (measured over 20 s idle).
 *   <li>The agent's CPU per commit in the throughput rounds (this JVM also hosts the S3 server
 *       unless {@code -Dbench.localStore=true}): the figure that decides the throughput ratio on
 *       a machine without a spare core.
 * </ol>
 *
 * The bucket is the embedded S3 server (S3Proxy, transient backend) on loopback, by default in a
 * child JVM at nice 19 (see {@link Bucket}).
 */
public final class PrimaryBenchmark {
  private static final long CHECKPOINT_PAGES = Long.getLong("bench.checkpointPages", 1000);

  private PrimaryBenchmark() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Path dir = Files.createTempDirectory("walship-bench");
    String where = System.getProperty("bench.s3", "process");
    try (Bucket s3 = Bucket.start(where)) {
      System.out.printf("bucket server: %s%n", s3.description);
      if (!Boolean.getBoolean("bench.lagOnly")) {
        throughputRounds(dir, seconds, s3);
        if (Boolean.getBoolean("bench.throughputOnly")) {
          return;
        }
      }
      // 2 + 3. lag and requests
      for (Duration interval : List.of(Duration.ZERO, Duration.ofSeconds(1))) {
        lag(dir.resolve("lag-" + interval.toMillis() + ".db"), interval,
            Integer.getInteger("bench.rate", 200), seconds * 2, s3);
      }
    } finally {
      deleteTree(dir); // hundreds of megabytes of databases, WALs and spools per run
    }
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Throughput with and without the agent: warm-up rounds, then 3 alternating rounds. */
  private static void throughputRounds(Path dir, int seconds, Bucket s3) throws Exception {
    List<Double> without = new ArrayList<>();
    List<Double> with = new ArrayList<>();
    Duration tpInterval = Duration.ofMillis(Long.getLong("bench.interval", 1000));
    // Warm-up (not counted): JIT-compiles the agent's and the S3 server's code in this JVM, which
    // otherwise lands on the first measured "with" round.
    throughput(dir.resolve("warmup-plain.db"), seconds, null, s3);
    throughput(dir.resolve("warmup-shipped.db"), seconds, tpInterval, s3);
    for (int round = 0; round < 3; round++) {
      without.add(throughput(dir.resolve("plain-" + round + ".db"), seconds, null, s3));
      with.add(throughput(dir.resolve("shipped-" + round + ".db"), seconds, tpInterval, s3));
    }
    double w0 = median(without);
    double w1 = median(with);
    System.out.printf("throughput without agent: %.0f commits/s (rounds %s)%n", w0, without);
    System.out.printf("throughput with agent:    %.0f commits/s (rounds %s; sync interval %d ms,"
        + " checkpoint every %d pages)%n", w1, with, tpInterval.toMillis(), CHECKPOINT_PAGES);
    System.out.printf("ratio with/without:       %.3f%n", w1 / w0);
  }

  private static double throughput(Path db, int seconds, Duration interval, Bucket s3)
      throws Exception {
    Files.deleteIfExists(db);
    init(db);
    DatabaseAgent agent = null;
    FlakyStore store = null;
    if (interval != null) {
      store = new FlakyStore(Boolean.getBoolean("bench.localStore")
          ? dev.walship.store.ObjectStores.open(db.resolveSibling(db.getFileName() + ".bucket").toUri().toString())
          : s3.open("bench-" + db.getFileName()));
      agent = agent(db, interval, store);
    }
    long cpuBefore = processCpuNanos();
    Process p = writer(db, "max", Integer.toString(seconds));
    String line = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      for (String l = r.readLine(); l != null; l = r.readLine()) {
        if (l.startsWith("commits ")) {
          line = l; // other lines: logging of the child's libraries
        }
      }
    }
    p.waitFor();
    String[] w = line.split(" ");
    long commits = Long.parseLong(w[1]);
    System.out.printf("  round %s agent: app CPU per commit %.1f us (app process, start-up included)%n",
        agent == null ? "without" : "with", Long.parseLong(w[5]) / 1000.0 / commits);
    if (agent != null) {
      agent.syncNow(120_000);
      long agentCpu = processCpuNanos() - cpuBefore;
      long agentThreadsCpu = agentThreadsCpuNanos();
      agent.close();
      store.delegate.close();
      Checkpointer c = agent.checkpointer();
      System.out.printf("  round with agent: %d commits, CPU per commit: %.1f us this JVM (agent, and"
          + " the bucket server if in process), %.1f us the agent's capture and upload threads; %d write"
          + " barriers, %.1f ms held in all (max %.1f ms: %s), %d PUTs, %d read-mark moves%n",
          commits, agentCpu / 1000.0 / commits, agentThreadsCpu / 1000.0 / commits, c.barriers(),
          c.barrierNanos() / 1e6, c.maxBarrierNanos() / 1e6, c.maxBarrierPhases(), store.puts.get(),
          c.pinMoves());
    }
    return commits / Double.parseDouble(w[3]);
  }

  private static void lag(Path db, Duration interval, int rate, int seconds, Bucket s3)
      throws Exception {
    init(db);
    FlakyStore store = new FlakyStore(s3.open("bench-" + db.getFileName()));
    DatabaseAgent agent = agent(db, interval, store);
    long base = agent.capturedTxid();
    long requestsBefore = store.requests();
    ConcurrentHashMap<Long, Long> durableAtMicros = new ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicLong until = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
    Thread watcher = Thread.ofPlatform().daemon().start(() -> {
      long seen = agent.durableTxid();
      try {
        while (seen < until.get()) {
          if (agent.awaitDurable(seen + 1, 1000)) {
            Instant now = Instant.now();
            long d = agent.durableTxid();
            for (long t = seen + 1; t <= d; t++) {
              durableAtMicros.put(t, now.getEpochSecond() * 1_000_000L + now.getNano() / 1000);
            }
            seen = d;
          }
        }
      } catch (InterruptedException e) {
        // done
      }
    });
    Process p = writer(db, "paced", Integer.toString(rate), Integer.toString(seconds));
    List<Long> commitMicros = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("commit ")) {
          commitMicros.add(Long.parseLong(line.substring(7)));
        }
      }
    }
    p.waitFor();
    until.set(agent.syncNow(120_000));
    watcher.join();
    long requestsBusy = store.requests() - requestsBefore;
    double[] lags = new double[commitMicros.size()];
    for (int i = 0; i < lags.length; i++) {
      Long d = durableAtMicros.get(base + 1 + i);
      lags[i] = d == null ? Double.NaN : (d - commitMicros.get(i)) / 1000.0;
    }
    Arrays.sort(lags);
    String mode = interval.isZero() ? "continuous" : "interval " + interval.toMillis() + " ms";
    System.out.printf("lag %s at %d commits/s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d commits)%n",
        mode, rate, lags[lags.length / 2], lags[(int) (lags.length * 0.99)], lags[lags.length - 1],
        lags.length);
    Checkpointer cp = agent.checkpointer();
    System.out.printf("checkpoints %s: %d barriers, %.1f ms held in all (max %.1f ms: %s)%n", mode,
        cp.barriers(), cp.barrierNanos() / 1e6, cp.maxBarrierNanos() / 1e6, cp.maxBarrierPhases());
    System.out.printf("S3 requests %s: %.1f per 1,000 commits (%d requests, %d PUT, %d GET, %d LIST)%n",
        mode, requestsBusy * 1000.0 / lags.length, requestsBusy, store.puts.get(), store.gets.get(),
        store.lists.get());
    long idleBefore = store.requests();
    long idleCpuBefore = agentThreadsCpuNanos();
    long idleMillis = 20_000;
    long end = System.nanoTime() + idleMillis * 1_000_000L;
    while (System.nanoTime() < end) {
      agent.awaitDurable(Long.MAX_VALUE, 1000); // idle: just let time pass
    }
    System.out.printf("S3 requests idle (%s): %.1f per minute (measured over %d s)%n", mode,
        (store.requests() - idleBefore) * 60_000.0 / idleMillis, idleMillis / 1000);
    System.out.printf("agent CPU while idle (%s): %.2f%% of one core (capture polls every 40 ms after 2 s idle)%n",
        mode, (agentThreadsCpuNanos() - idleCpuBefore) / 1e6 / idleMillis * 100);
    agent.close();
    store.delegate.close();
  }

  /**
   * Where the benchmark's bucket lives ({@code -Dbench.s3}): {@code process} (default) the
   * embedded S3 server in a child JVM at nice 19, standing in for S3 on other machines: its CPU
   * is not charged to the agent's JVM and it runs on CPU the app and agent leave idle; {@code
   * process-normal} the same at normal priority; {@code inprocess} in this JVM, beside the agent.
   */
  private static final class Bucket implements AutoCloseable {
    final String description;
    private final InProcessS3 inProcess;
    private final dev.walship.s3.EmbeddedS3Process child;

    private Bucket(String description, InProcessS3 inProcess,
        dev.walship.s3.EmbeddedS3Process child) {
      this.description = description;
      this.inProcess = inProcess;
      this.child = child;
    }

    static Bucket start(String where) throws IOException {
      return switch (where) {
        case "inprocess" -> new Bucket("embedded S3 in the agent's JVM",
            InProcessS3.transientBackend().start(), null);
        case "process" -> new Bucket("embedded S3 in a child JVM at nice 19", null,
            dev.walship.s3.EmbeddedS3Process.start(19));
        case "process-normal" -> new Bucket("embedded S3 in a child JVM", null,
            dev.walship.s3.EmbeddedS3Process.start(0));
        default -> throw new IllegalArgumentException(
            "bench.s3 must be process, process-normal or inprocess, got " + where);
      };
    }

    dev.walship.store.ObjectStore open(String prefix) {
      return inProcess != null
          ? inProcess.open(prefix)
          : dev.walship.store.ObjectStores.open(child.targetUrl(prefix), child.credentials());
    }

    @Override
    public void close() {
      if (inProcess != null) {
        inProcess.close();
      } else {
        child.close();
      }
    }
  }

  private static void init(Path db) throws Exception {
    Process p = writer(db, "max", "0");
    p.getInputStream().readAllBytes();
    p.waitFor(60, TimeUnit.SECONDS);
  }

  private static DatabaseAgent agent(Path db, Duration interval, FlakyStore store) {
    DatabaseOptions o =
        DatabaseOptions.of(db, "bench").withSyncInterval(interval)
            .withSpoolDir(Path.of(db + ".spool"))
            .withCheckpointPages(CHECKPOINT_PAGES,
                Math.max(CHECKPOINT_PAGES, DatabaseOptions.DEFAULT_TRUNCATE_PAGES))
            .withCompression(dev.walship.format.Compression.valueOf(
                System.getProperty("bench.compression", "LZ4")));
    DatabaseAgent a = new DatabaseAgent(o, store, new SimpleMeterRegistry(), InstantSource.system());
    a.start();
    return a;
  }

  private static Process writer(Path db, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BenchWriter.class.getName());
    cmd.add(db.toString());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  /** CPU time of the agent's own threads (capture, upload; the S3 client runs on the latter). */
  private static long agentThreadsCpuNanos() {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("walship-capture-") || t.getName().startsWith("walship-upload-")) {
        sum += Math.max(0, mx.getThreadCpuTime(t.threadId()));
      }
    }
    return sum;
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    return s.get(s.size() / 2);
  }
}
