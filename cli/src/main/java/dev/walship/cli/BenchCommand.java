package dev.walship.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.walship.demo.AppLog;
import dev.walship.restore.RestorePlan;
import dev.walship.restore.RestorePlanner;
import dev.walship.restore.RestoreProgress;
import dev.walship.restore.RestoreTarget;
import dev.walship.restore.Restorer;
import dev.walship.s3.EmbeddedS3Process;
import dev.walship.s3.EmbeddedS3Server;
import dev.walship.store.ObjectStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code walship bench}: every headline figure next to its raw limit, measured in one run on this
 * machine (embedded S3 on loopback, the app as a separate process). JSON to {@code --out}, a table
 * to the terminal. See the README section "Reading the bench output".
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure every headline figure beside its raw limit, in one run.",
      "App commit throughput with and without the primary agent, commit-to-durable and",
      "commit-to-visible lag, S3",
      "requests per 1,000 commits and per idle minute, restore vs raw GET, Hrana reads vs JDBC,",
      "agent RSS with 1 and N databases. JSON to --out, a table to the terminal."
    })
public final class BenchCommand implements Callable<Integer> {
  /**
   * The replicas' poll interval in the lag phases: the low-lag setting issue #4 asks for ("tens of
   * milliseconds"). A caught-up replica GETs the next segment's key (a 404) once per interval.
   */
  private static final Duration REPLICA_POLL = Duration.ofMillis(20);

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--duration", defaultValue = "10s", paramLabel = "DURATION",
      description = "Length of each load phase (default: ${DEFAULT-VALUE}; 60s for steadier figures).")
  String duration;

  @Option(names = "--idle", defaultValue = "20s", paramLabel = "DURATION",
      description = "Length of the idle phase counting requests (default: ${DEFAULT-VALUE}).")
  String idle;

  @Option(names = "--rate", defaultValue = "1000", paramLabel = "TX_PER_SECOND",
      description = "Fixed commit rate of the lag and default-settings phases (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--databases", defaultValue = "100", paramLabel = "N",
      description = "Databases in the many-database RSS measurement (default: ${DEFAULT-VALUE}).")
  int databases;

  @Option(names = "--out", defaultValue = "bench.json", paramLabel = "FILE",
      description = "Where the JSON goes (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--dir", paramLabel = "PATH", description = "Work directory (default: a temporary one, deleted).")
  Path dir;

  @Option(names = "--skip", split = ",", paramLabel = "PHASE",
      description = "Phases to leave out: throughput, lag, requests, restore, reads, rss.")
  List<String> skip = new ArrayList<>();

  private PrintWriter term;

  @Override
  public Integer call() throws Exception {
    term = spec.commandLine().getOut();
    Duration phase = DemoCommand.parseDuration(duration);
    Duration idleFor = DemoCommand.parseDuration(idle);
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    boolean temporary = dir == null;
    Path work = temporary ? Files.createTempDirectory("walship-bench") : dir.toAbsolutePath();
    Files.createDirectories(work);
    ObjectNode result = JSON.createObjectNode();
    ObjectNode machine = result.putObject("machine");
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("java", Runtime.version().toString());
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    machine.put("s3", "embedded S3Proxy 4.1.0 on loopback, transient (memory) backend; in this"
        + " JVM, except for the throughput phase: a child JVM at nice 19");
    machine.put("phase_seconds", phase.toMillis() / 1000.0);
    machine.put("idle_seconds", idleFor.toMillis() / 1000.0);
    machine.put("fixed_rate_per_s", rate);
    List<AutoCloseable> open = new ArrayList<>();
    Thread hook = new Thread(() -> closeAll(open), "walship-bench-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try (EmbeddedS3Server s3 = EmbeddedS3Server.builder().transientBackend().start()) {
      log("embedded S3 at %s; each load phase %d s", s3.endpoint(), phase.toSeconds());
      ObjectNode throughput = skip.contains("throughput") ? null : result.putObject("throughput");
      LocalCluster max = null;
      try {
        if (!skip.contains("throughput") || !skip.contains("lag")) {
          max = LocalCluster.startPrimary(s3, "bench-max", prepareDb(work.resolve("max/bench.db")),
              Duration.ZERO);
          open.add(max);
          max.addReplica("replica", work.resolve("max/replica"), REPLICA_POLL);
          ObjectNode lag = result.putObject("lag");
          lag.put("replica_poll_ms", REPLICA_POLL.toMillis());
          rawPutLatency(s3, lag);
          load(max, work.resolve("max"), 0, phase, lag.putObject("max_rate"));
          if (throughput != null) {
            throughputRounds(work, phase, throughput); // after max rate: the agent is JIT-compiled
          }
          try (LocalCluster fixed = LocalCluster.startPrimary(s3, "bench-fixed",
              prepareDb(work.resolve("fixed/bench.db")), Duration.ZERO)) {
            fixed.addReplica("replica", work.resolve("fixed/replica"), REPLICA_POLL);
            load(fixed, work.resolve("fixed"), rate, phase, lag.putObject("fixed_rate"));
          }
          ObjectNode req = result.putObject("requests");
          req.set("max_rate", perThousand(lag.get("max_rate")));
          req.set("fixed_rate", perThousand(lag.get("fixed_rate")));
        }
        if (!skip.contains("requests")) {
          defaultSettings(s3, work, phase, idleFor, result.withObjectProperty("requests").putObject("defaults"));
        }
        if (!skip.contains("restore") && max != null) {
          restore(max, work, result.putObject("restore"));
        }
        if (!skip.contains("reads") && max != null) {
          reads(max, work, result.putObject("reads"));
        }
      } finally {
        if (max != null) {
          max.close();
        }
      }
      if (!skip.contains("rss")) {
        rss(s3, work, result.putObject("rss"));
      }
    } finally {
      closeAll(open);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs
      }
      if (temporary) {
        DemoCommand.deleteTree(work);
      }
    }
    Files.writeString(out, JSON.writeValueAsString(result) + "\n");
    printTable(result);
    term.printf("JSON written to %s%n", out.toAbsolutePath());
    term.flush();
    return 0;
  }

  private static void closeAll(List<AutoCloseable> open) {
    for (AutoCloseable c : List.copyOf(open)) {
      try {
        c.close();
      } catch (Exception e) {
        System.err.println("walship bench: while stopping: " + e);
      }
    }
  }

  private void log(String format, Object... args) {
    term.printf("bench: " + format + "%n", args);
    term.flush();
  }

  /** A fresh WAL database holding the bench table (so the app's first commit is a data commit). */
  private static Path prepareDb(Path db) throws Exception {
    Files.createDirectories(db.getParent());
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("CREATE TABLE IF NOT EXISTS bench_rows(id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    }
    return db;
  }

  private static List<String> appArgs(double rate, Duration phase) {
    return List.of("--workload", "rows", "--rate", Double.toString(rate), "--duration",
        Double.toString(phase.toMillis() / 1000.0), "--synchronous", "NORMAL");
  }

  /**
   * App throughput without the agent, with it at the default sync interval (1 s), and with it in
   * continuous mode: three rounds of half a phase each, alternating, a fresh database each time;
   * the medians go in the table. Alternating, because this machine's speed drifts by several
   * percent within minutes. The primary runs alone, so the ratio is the agent's cost; its bucket
   * server runs in a child JVM at nice 19: S3 runs on other machines in production, and on this
   * one its CPU would otherwise be charged to the agent.
   */
  private void throughputRounds(Path work, Duration phase, ObjectNode t) throws Exception {
    Duration round = phase.dividedBy(2).compareTo(Duration.ofSeconds(1)) < 0
        ? Duration.ofSeconds(1) : phase.dividedBy(2);
    List<Double> without = new ArrayList<>();
    List<Double> withAgent = new ArrayList<>();
    List<Double> continuous = new ArrayList<>();
    try (EmbeddedS3Process remote = EmbeddedS3Process.start(19)) {
      for (int r = 0; r < 3; r++) {
        without.add(throughputWithoutAgent(work.resolve("raw-" + r), round));
        for (Duration interval : List.of(Duration.ofSeconds(1), Duration.ZERO)) {
          String mode = interval.isZero() ? "_continuous" : "";
          Path dir = work.resolve("throughput" + mode + "-" + r);
          try (LocalCluster alone = LocalCluster.startPrimary(remote,
              "bench-throughput" + mode + "-" + r, prepareDb(dir.resolve("bench.db")), interval)) {
            Load m = load(alone, dir, 0, round, t.putObject("with_agent" + mode + "_run"));
            (interval.isZero() ? continuous : withAgent).add(m.commitsPerSecond());
          }
        }
      }
    }
    double raw = median(without);
    t.put("workload", "1-row (100-byte) transactions, synchronous=NORMAL, WAL, separate app process,"
        + " as fast as it can; 3 alternating rounds of " + round.toMillis() / 1000.0 + " s, medians");
    t.put("without_agent_commits_per_s", raw);
    t.set("without_agent_rounds", JSON.valueToTree(without));
    t.put("with_agent_commits_per_s", median(withAgent));
    t.set("with_agent_rounds", JSON.valueToTree(withAgent));
    t.put("ratio", median(withAgent) / raw);
    t.put("with_agent_continuous_commits_per_s", median(continuous));
    t.set("with_agent_continuous_rounds", JSON.valueToTree(continuous));
    t.put("ratio_continuous", median(continuous) / raw);
    log("throughput without agent %s, with %s, continuous %s commits/s", without, withAgent,
        continuous);
  }

  private static double median(List<Double> xs) {
    List<Double> sorted = new ArrayList<>(xs);
    java.util.Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }

  private double throughputWithoutAgent(Path dir, Duration phase) throws Exception {
    Path db = prepareDb(dir.resolve("bench.db"));
    AppProcess.Outcome o;
    try (AppProcess app = AppProcess.start(db, dir.resolve("app.tsv"), appArgs(0, phase))) {
      o = app.await(phase.toSeconds() + 60);
    }
    return o.commits() / o.seconds();
  }

  private void rawPutLatency(EmbeddedS3Server s3, ObjectNode lag) {
    try (ObjectStore store =
        dev.walship.store.ObjectStores.open(s3.targetUrl("bench-raw"), s3.credentials())) {
      byte[] body = new byte[16 * 1024];
      ThreadLocalRandom.current().nextBytes(body);
      long[] micros = new long[200];
      for (int i = 0; i < micros.length; i++) {
        long t0 = System.nanoTime();
        store.putIfAbsent(String.format("put/%016x", i), body);
        micros[i] = (System.nanoTime() - t0) / 1000;
      }
      lag.set("raw_s3_put_16kib_ms", stats(ClusterSampler.Stats.of(micros)));
    }
  }

  /** Measured load phase: what the app did, and when each commit became durable and visible. */
  record Load(double commitsPerSecond, long commits) {}

  /** Waits up to 60 s until the cluster's first replica (if any) serves {@code txid}. */
  private static void awaitReplicaServes(LocalCluster c, long txid) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!c.regions().isEmpty()
        && c.regions().get(0).follower(c.db()).served().txid() < txid
        && System.nanoTime() < deadline) {
      Thread.sleep(5); // polling the replica's served TXID, bounded by the deadline
    }
  }

  private Load load(LocalCluster c, Path dir, double rate, Duration phase, ObjectNode node)
      throws Exception {
    CountingObjectStore.Counts p0 = c.primaryRequests();
    CountingObjectStore.Counts r0 = c.replicaRequests();
    long base = c.database().capturedTxid();
    AppProcess.Outcome o;
    try (ClusterSampler sampler = new ClusterSampler(c, 1_000)) {
      try (AppProcess app = AppProcess.start(c.database().options().path(), dir.resolve("app.tsv"),
          appArgs(rate, phase))) {
        o = app.await(phase.toSeconds() + 60);
      }
      long last = c.database().syncNow(60_000);
      awaitReplicaServes(c, last);
      sampler.awaitSampled(last, 5_000);
      List<AppLog.Entry> log = o.log();
      node.put("target_rate_per_s", rate == 0 ? "max" : Double.toString(rate));
      node.put("commits", o.commits());
      node.put("commits_per_s", o.commits() / o.seconds());
      node.put("txids_match_commits", last - base == o.commits());
      node.set("commit_to_captured_ms", stats(ClusterSampler.Stats.of(
          ClusterSampler.latenciesMicros(log, base, sampler.captured))));
      node.set("commit_to_durable_ms", stats(ClusterSampler.Stats.of(
          ClusterSampler.latenciesMicros(log, base, sampler.durable))));
      if (!sampler.replicas.isEmpty()) {
        node.set("commit_to_visible_ms", stats(ClusterSampler.Stats.of(
            ClusterSampler.latenciesMicros(log, base, sampler.replicas.get(0)))));
      }
    }
    CountingObjectStore.Counts p = c.primaryRequests().minus(p0);
    CountingObjectStore.Counts r = c.replicaRequests().minus(r0);
    node.put("primary_requests", p.total());
    node.put("primary_puts", p.puts());
    node.put("replica_requests", r.total());
    log("%s%s: %.0f commits/s, commit->durable %s, commit->visible %s",
        rate == 0 ? "max rate" : "fixed rate " + (int) rate + "/s",
        c.regions().isEmpty() ? " (primary only)" : "", o.commits() / o.seconds(),
        node.get("commit_to_durable_ms"), node.get("commit_to_visible_ms"));
    return new Load(o.commits() / o.seconds(), o.commits());
  }

  private static ObjectNode perThousand(JsonNode load) {
    ObjectNode n = JSON.createObjectNode();
    double commits = Math.max(1, load.get("commits").asDouble());
    n.put("primary_per_1000_commits", load.get("primary_requests").asDouble() * 1000 / commits);
    n.put("primary_puts_per_1000_commits", load.get("primary_puts").asDouble() * 1000 / commits);
    n.put("replica_per_1000_commits", load.get("replica_requests").asDouble() * 1000 / commits);
    return n;
  }

  private static ObjectNode stats(ClusterSampler.Stats s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("count", s.count());
    n.put("p50", round(s.p50()));
    n.put("p99", round(s.p99()));
    n.put("max", round(s.max()));
    return n;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** Default settings (sync interval 1 s, replica poll 1 s): requests busy, then idle. */
  private void defaultSettings(EmbeddedS3Server s3, Path work, Duration phase, Duration idleFor,
      ObjectNode n) throws Exception {
    try (LocalCluster c = LocalCluster.startPrimary(s3, "bench-defaults",
        prepareDb(work.resolve("defaults/bench.db")), Duration.ofSeconds(1))) {
      c.addReplica("replica", work.resolve("defaults/replica"), Duration.ofSeconds(1));
      awaitReplicaServes(c, c.database().durableTxid()); // bootstrapped before counting
      CountingObjectStore.Counts p0 = c.primaryRequests();
      CountingObjectStore.Counts r0 = c.replicaRequests();
      long t0 = System.nanoTime();
      try (AppProcess app = AppProcess.start(c.database().options().path(),
          work.resolve("defaults/app.tsv"), appArgs(rate, phase))) {
        app.await(phase.toSeconds() + 60);
      }
      long last = c.database().syncNow(30_000);
      double busySeconds = (System.nanoTime() - t0) / 1e9;
      CountingObjectStore.Counts p1 = c.primaryRequests();
      CountingObjectStore.Counts r1 = c.replicaRequests();
      awaitReplicaServes(c, last); // caught up before the idle window
      CountingObjectStore.Counts p2 = c.primaryRequests();
      CountingObjectStore.Counts r2 = c.replicaRequests();
      Thread.sleep(idleFor.toMillis());
      CountingObjectStore.Counts p3 = c.primaryRequests().minus(p2);
      CountingObjectStore.Counts r3 = c.replicaRequests().minus(r2);
      double idleMinutes = idleFor.toMillis() / 60_000.0;
      n.put("settings", "primary sync-interval 1s, replica poll-interval 1s (the defaults)");
      n.put("busy_rate_per_s", rate);
      n.put("busy_primary_per_hour", p1.minus(p0).total() * 3600 / busySeconds);
      n.put("busy_primary_puts_per_hour", p1.minus(p0).puts() * 3600 / busySeconds);
      n.put("busy_replica_per_hour", r1.minus(r0).total() * 3600 / busySeconds);
      n.put("idle_primary_per_minute", p3.total() / idleMinutes);
      n.put("idle_replica_per_minute", r3.total() / idleMinutes);
      n.put("idle_primary_per_hour", p3.total() * 60 / idleMinutes);
      n.put("idle_replica_per_hour", r3.total() * 60 / idleMinutes);
      n.put("idle_replica_detail", r3.toString());
      n.put("litestream_idle_per_hour", 480);
      log("defaults: busy primary %.0f/h, replica %.0f/h; idle primary %.1f/min, replica %.1f/min (%s)",
          n.get("busy_primary_per_hour").asDouble(), n.get("busy_replica_per_hour").asDouble(),
          n.get("idle_primary_per_minute").asDouble(), n.get("idle_replica_per_minute").asDouble(), r3);
    }
  }

  private void restore(LocalCluster c, Path work, ObjectNode n) throws Exception {
    try (ObjectStore store = c.openStore()) {
      RestorePlan plan = new RestorePlanner(store).plan(c.db(), RestoreTarget.latest());
      Path file = work.resolve("restore/bench.db");
      Files.createDirectories(file.getParent());
      long t0 = System.nanoTime();
      Restorer.Result r = new Restorer(store, Restorer.Options.defaults(), RestoreProgress.none())
          .restoreTo(plan, file, true, Restorer.JournalMode.DELETE);
      double restoreSeconds = (System.nanoTime() - t0) / 1e9;
      ExecutorService pool = Executors.newFixedThreadPool(Restorer.Options.defaults().parallelism());
      long t1 = System.nanoTime();
      long bytes = 0;
      try {
        // As fast as the store serves the bytes: small objects with one GET, large ones as
        // parallel 8 MiB ranged GETs, all on the restore's parallelism.
        long part = 8L << 20;
        List<Future<Integer>> gets = new ArrayList<>();
        for (RestorePlan.PlannedObject o : plan.objects()) {
          if (o.sizeBytes() <= part) {
            gets.add(pool.submit(() -> store.get(o.key()).orElseThrow().data().length));
          } else {
            for (long off = 0; off < o.sizeBytes(); off += part) {
              long from = off;
              gets.add(pool.submit(() -> store.getRange(o.key(), from, part).orElseThrow().length));
            }
          }
        }
        for (Future<Integer> f : gets) {
          bytes += f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      double getSeconds = (System.nanoTime() - t1) / 1e9;
      double mib = r.bytesDownloaded() / 1048576.0;
      n.put("objects", r.objects());
      n.put("txid", r.txid());
      n.put("bytes", r.bytesDownloaded());
      n.put("database_bytes", Files.size(file));
      n.put("restore_seconds", restoreSeconds);
      n.put("restore_mib_per_s", mib / restoreSeconds);
      n.put("restore_txids_per_s", r.txid() / restoreSeconds);
      n.put("raw_get_seconds", getSeconds);
      n.put("raw_get_mib_per_s", bytes / 1048576.0 / getSeconds);
      n.put("ratio", (mib / restoreSeconds) / (bytes / 1048576.0 / getSeconds));
      n.put("parallelism", Restorer.Options.defaults().parallelism());
      log("restore: %d objects, %.1f MiB in %.2f s (%.1f MiB/s); raw GET of the same objects %.2f s",
          r.objects(), mib, restoreSeconds, mib / restoreSeconds, getSeconds);
    }
  }

  private void reads(LocalCluster c, Path work, ObjectNode n) throws Exception {
    long rows;
    Path copy = work.resolve("restore/bench.db");
    try (Connection conn = DriverManager.getConnection("jdbc:sqlite:file:" + copy + "?mode=ro");
        Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT MAX(id) FROM bench_rows")) {
      rs.next();
      rows = rs.getLong(1);
    } catch (java.sql.SQLException e) {
      rows = 0;
    }
    if (rows == 0) {
      n.put("skipped", "no restored copy to compare against (run the restore phase)");
      return;
    }
    int threads = 4;
    long millis = 4000;
    String url = c.regions().get(0).url();
    HranaClient client = new HranaClient();
    final long maxId = rows;
    long[] hrana = runReaders(threads, millis, () -> {
      long id = 1 + ThreadLocalRandom.current().nextLong(maxId);
      client.execute(url, "SELECT id, length(v) FROM bench_rows WHERE id = " + id);
    });
    ThreadLocal<PreparedStatement> stmts = ThreadLocal.withInitial(() -> {
      try {
        return DriverManager.getConnection("jdbc:sqlite:file:" + copy + "?mode=ro")
            .prepareStatement("SELECT id, length(v) FROM bench_rows WHERE id = ?");
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException(e);
      }
    });
    long[] jdbc = runReaders(threads, millis, () -> {
      PreparedStatement ps = stmts.get();
      ps.setLong(1, 1 + ThreadLocalRandom.current().nextLong(maxId));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
      }
    });
    n.put("query", "SELECT id, length(v) FROM bench_rows WHERE id = ? (random id of " + rows + ")");
    n.put("threads", threads);
    n.put("hrana_reads_per_s", hrana.length * 1000.0 / millis);
    n.set("hrana_ms", stats(ClusterSampler.Stats.of(hrana)));
    n.put("jdbc_reads_per_s", jdbc.length * 1000.0 / millis);
    n.set("jdbc_ms", stats(ClusterSampler.Stats.of(jdbc)));
    n.put("jdbc_note", "in-process sqlite-jdbc on an identical restored copy of the database");
    log("reads: Hrana %.0f/s (p99 %s ms), JDBC %.0f/s (p99 %s ms)", hrana.length * 1000.0 / millis,
        n.get("hrana_ms").get("p99"), jdbc.length * 1000.0 / millis, n.get("jdbc_ms").get("p99"));
  }

  interface Query {
    void run() throws Exception;
  }

  /** Runs {@code q} on {@code threads} threads for {@code millis}; returns every latency in µs. */
  private static long[] runReaders(int threads, long millis, Query q) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    List<Future<long[]>> parts = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      parts.add(pool.submit(() -> {
        long[] lat = new long[1 << 16];
        int k = 0;
        while (System.nanoTime() < end) {
          long t0 = System.nanoTime();
          q.run();
          if (k == lat.length) {
            lat = java.util.Arrays.copyOf(lat, k * 2);
          }
          lat[k++] = (System.nanoTime() - t0) / 1000;
        }
        return java.util.Arrays.copyOf(lat, k);
      }));
    }
    List<long[]> all = new ArrayList<>();
    try {
      for (Future<long[]> f : parts) {
        all.add(f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    return all.stream().flatMapToLong(java.util.Arrays::stream).toArray();
  }

  private void rss(EmbeddedS3Server s3, Path work, ObjectNode n) throws Exception {
    // Baseline: a JVM with sqlite-jdbc doing one commit a second (the app process itself).
    Path appDb = prepareDb(work.resolve("rss/app.db"));
    try (AppProcess app = AppProcess.start(appDb, work.resolve("rss/app.tsv"),
        List.of("--workload", "rows", "--rate", "1"))) {
      Thread.sleep(3000);
      n.put("baseline_jvm_sqlite_mib", rssMiB(app.pid()));
    }
    n.put("agent_1_db_mib", agentRss(s3, work.resolve("rss/one"), 1));
    n.put("agent_" + databases + "_db_mib", agentRss(s3, work.resolve("rss/many"), databases));
    n.put("databases", databases);
    n.put("jvm_flags", "JVM defaults (no -Xmx); RSS = VmRSS of /proc/PID/status after every database is durable and 3 s idle");
    log("RSS: baseline JVM %.0f MiB, agent with 1 database %.0f MiB, with %d databases %.0f MiB",
        n.get("baseline_jvm_sqlite_mib").asDouble(), n.get("agent_1_db_mib").asDouble(), databases,
        n.get("agent_" + databases + "_db_mib").asDouble());
  }

  private double agentRss(EmbeddedS3Server s3, Path dir, int count) throws Exception {
    Files.createDirectories(dir);
    for (int i = 0; i < count; i++) {
      Path db = prepareDb(dir.resolve(String.format("tenant-%04d.db", i)));
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
          Statement s = c.createStatement()) {
        s.execute("INSERT INTO bench_rows(v) VALUES (randomblob(100)), (randomblob(100))");
      }
    }
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Path config = dir.resolve("walship.yml");
    Files.writeString(config, "target: " + s3.targetUrl("bench-rss-" + count) + "\n"
        + "admin: 127.0.0.1:" + port + "\n"
        + "directories:\n  - glob: " + dir + "/*.db\n");
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        Walship.class.getName(), "primary", "--config", config.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve("agent.log").toFile());
    var creds = s3.credentials().resolveCredentials();
    Map<String, String> env = pb.environment();
    env.put("AWS_ACCESS_KEY_ID", creds.accessKeyId());
    env.put("AWS_SECRET_ACCESS_KEY", creds.secretAccessKey());
    env.put("AWS_REGION", "us-east-1");
    Process p = pb.start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      boolean ready = false;
      while (!ready && System.nanoTime() < deadline && p.isAlive()) {
        Thread.sleep(250);
        try {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/v1/status")).build(),
              HttpResponse.BodyHandlers.ofString());
          JsonNode dbs = JSON.readTree(r.body()).path("databases");
          int durable = 0;
          for (JsonNode d : dbs) {
            if (d.path("durable_txid").asLong() >= 1) {
              durable++;
            }
          }
          ready = dbs.size() == count && durable == count;
        } catch (IOException e) {
          // not listening yet
        }
      }
      if (!ready) {
        throw new IllegalStateException("the agent with " + count + " databases did not get every"
            + " database durable in time; see " + dir.resolve("agent.log"));
      }
      Thread.sleep(3000);
      return rssMiB(p.pid());
    } finally {
      p.destroy();
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  /** VmRSS of a process from /proc, in MiB. */
  static double rssMiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    throw new IOException("no VmRSS in /proc/" + pid + "/status");
  }

  private void printTable(JsonNode r) {
    term.println();
    term.println("walship bench (" + r.path("machine").path("cores").asInt() + " cores, "
        + r.path("machine").path("java").asText() + ", embedded S3 on loopback)");
    String fmt = "  %-58s %-30s %s%n";
    term.printf(fmt, "figure", "walship", "raw limit (same run)");
    JsonNode t = r.path("throughput");
    if (!t.isMissingNode()) {
      term.printf(fmt, "app commits/s, 1-row txns, sync=NORMAL (agent: sync 1 s)",
          String.format(Locale.ROOT, "%.0f with agent", t.path("with_agent_commits_per_s").asDouble()),
          String.format(Locale.ROOT, "%.0f without (ratio %.2f)", t.path("without_agent_commits_per_s").asDouble(),
              t.path("ratio").asDouble()));
      term.printf(fmt, "app commits/s, same, agent in continuous mode",
          String.format(Locale.ROOT, "%.0f with agent", t.path("with_agent_continuous_commits_per_s").asDouble()),
          String.format(Locale.ROOT, "ratio %.2f", t.path("ratio_continuous").asDouble()));
    }
    JsonNode lag = r.path("lag");
    if (!lag.isMissingNode()) {
      for (String k : List.of("fixed_rate", "max_rate")) {
        JsonNode l = lag.path(k);
        String label = k.equals("max_rate")
            ? String.format(Locale.ROOT, "at max rate (%.0f/s)", l.path("commits_per_s").asDouble())
            : String.format(Locale.ROOT, "at %.0f/s", l.path("commits_per_s").asDouble());
        term.printf(fmt, "commit->durable ms p50/p99/max " + label, triple(l.path("commit_to_durable_ms")),
            "S3 PUT 16 KiB " + triple(lag.path("raw_s3_put_16kib_ms")));
        term.printf(fmt, "commit->visible ms p50/p99/max " + label, triple(l.path("commit_to_visible_ms")),
            "+ poll " + lag.path("replica_poll_ms").asInt() + " ms");
      }
    }
    JsonNode req = r.path("requests");
    if (!req.isMissingNode()) {
      for (String k : List.of("fixed_rate", "max_rate")) {
        JsonNode q = req.path(k);
        if (!q.isMissingNode()) {
          term.printf(fmt, "S3 requests per 1,000 commits (" + k.replace('_', ' ') + ")",
              String.format(Locale.ROOT, "primary %.1f, replica %.1f", q.path("primary_per_1000_commits").asDouble(),
                  q.path("replica_per_1000_commits").asDouble()),
              "1,000 (one PUT per commit)");
        }
      }
      JsonNode d = req.path("defaults");
      if (!d.isMissingNode()) {
        term.printf(fmt, "S3 requests per idle minute (defaults)",
            String.format(Locale.ROOT, "primary %.1f, replica %.1f", d.path("idle_primary_per_minute").asDouble(),
                d.path("idle_replica_per_minute").asDouble()),
            "Litestream idle: 8/min (480/h)");
        term.printf(fmt, "S3 requests per busy hour (defaults)",
            String.format(Locale.ROOT, "primary %.0f, replica %.0f", d.path("busy_primary_per_hour").asDouble(),
                d.path("busy_replica_per_hour").asDouble()),
            "3,600 (one PUT per sync interval)");
      }
    }
    JsonNode rs = r.path("restore");
    if (!rs.isMissingNode()) {
      term.printf(fmt, "restore MiB/s (" + rs.path("objects").asInt() + " objects)",
          String.format(Locale.ROOT, "%.1f", rs.path("restore_mib_per_s").asDouble()),
          String.format(Locale.ROOT, "raw GET %.1f (ratio %.2f)", rs.path("raw_get_mib_per_s").asDouble(),
              rs.path("ratio").asDouble()));
    }
    JsonNode rd = r.path("reads");
    if (!rd.isMissingNode() && rd.has("hrana_reads_per_s")) {
      term.printf(fmt, "point reads/s, 4 threads (p99 ms)",
          String.format(Locale.ROOT, "Hrana HTTP %.0f (%.2f)", rd.path("hrana_reads_per_s").asDouble(),
              rd.path("hrana_ms").path("p99").asDouble()),
          String.format(Locale.ROOT, "JDBC %.0f (%.2f)", rd.path("jdbc_reads_per_s").asDouble(),
              rd.path("jdbc_ms").path("p99").asDouble()));
    }
    JsonNode m = r.path("rss");
    if (!m.isMissingNode()) {
      term.printf(fmt, "agent RSS MiB, 1 / " + m.path("databases").asInt() + " databases",
          String.format(Locale.ROOT, "%.0f / %.0f", m.path("agent_1_db_mib").asDouble(),
              m.path("agent_" + m.path("databases").asInt() + "_db_mib").asDouble()),
          String.format(Locale.ROOT, "JVM + sqlite-jdbc app %.0f", m.path("baseline_jvm_sqlite_mib").asDouble()));
    }
    term.flush();
  }

  private static String triple(JsonNode s) {
    return String.format(Locale.ROOT, "%.1f / %.1f / %.1f", s.path("p50").asDouble(),
        s.path("p99").asDouble(), s.path("max").asDouble());
  }
}
