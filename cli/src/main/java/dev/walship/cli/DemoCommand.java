package dev.walship.cli;

import dev.walship.config.YamlConfig;
import dev.walship.demo.AppLog;
import dev.walship.format.DatabaseChecksum;
import dev.walship.restore.Brancher;
import dev.walship.restore.RestorePlan;
import dev.walship.restore.RestorePlanner;
import dev.walship.restore.RestoreProgress;
import dev.walship.restore.RestoreTarget;
import dev.walship.restore.Restorer;
import dev.walship.store.ObjectStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code walship demo}: the whole system on one machine with no S3 account and no Docker. An
 * embedded S3 server, a primary agent on a copy of the Chinook database, two replica agents in
 * separate directories (two "regions"), and a separate application process selling music; a
 * reader queries both replicas over Hrana HTTP. One live line per second, then proofs: the
 * replicas equal the primary at the same TXID, a point-in-time restore from the middle of the run
 * holds exactly what the app had committed by then, and a branch from that point restores too.
 * Exit code 0 only if every check passed; 1 if one failed; 130 when interrupted.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run walship end to end here and prove it (no S3 account, no Docker).",
      "Embedded S3, a primary agent, two replicas and a separate app process selling music on the",
      "bundled Chinook database; then proofs that the replicas, a point-in-time restore and a",
      "branch are exact. Exit code 0 only if every check passed."
    })
public final class DemoCommand implements Callable<Integer> {
  static final int FIRST_NEW_INVOICE = 413;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--duration", defaultValue = "30s", paramLabel = "DURATION",
      description = "How long the app sells music: 30s, 2m, ... (default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(names = "--rate", defaultValue = "20", paramLabel = "TX_PER_SECOND",
      description = "App transactions per second (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--dir", paramLabel = "PATH",
      description = "Keep the files here (databases, replicas, restores, app log); default: a"
          + " temporary directory deleted at the end.")
  Path dir;

  @Option(names = "--poll-interval", defaultValue = "50ms", paramLabel = "DURATION",
      description = "Replica poll interval when caught up (default: ${DEFAULT-VALUE}).")
  String pollInterval;

  /** Breaks one thing on purpose, to see a check fail: {@code replica} or {@code restore}. */
  @Option(names = "--fault", hidden = true)
  String fault;

  /** One proof and its outcome. */
  record Check(String name, boolean passed, String detail) {}

  private final List<Check> checks = new ArrayList<>();
  private final AtomicBoolean interrupted = new AtomicBoolean();
  private volatile AppProcess app;
  private volatile LocalCluster cluster;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Duration runFor = parseDuration(duration);
    if (rate <= 0 || rate > 10_000) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--rate must be in (0, 10000]");
    }
    if (fault != null && !List.of("replica", "restore").contains(fault)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--fault must be replica or restore");
    }
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    boolean temporary = dir == null;
    Path work = temporary ? Files.createTempDirectory("walship-demo") : dir.toAbsolutePath();
    Files.createDirectories(work);
    Thread hook = new Thread(() -> {
      if (interrupted.compareAndSet(false, true)) {
        stopEverything();
        if (temporary) {
          deleteTree(work);
        }
        System.err.println("walship demo: interrupted; app process, agents and S3 server stopped");
      }
    }, "walship-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      run(out, work, runFor);
    } finally {
      stopEverything();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
      if (temporary && !interrupted.get()) {
        deleteTree(work);
      }
    }
    if (interrupted.get()) {
      return 130;
    }
    long failed = checks.stream().filter(c -> !c.passed()).count();
    out.println();
    out.println("walship demo: summary");
    for (Check c : checks) {
      out.printf(Locale.ROOT, "  %-4s %-18s %s%n", c.passed() ? "PASS" : "FAIL", c.name(), c.detail());
    }
    if (failed == 0) {
      out.printf("walship demo: all %d checks passed%n", checks.size());
    } else {
      out.printf("walship demo: %d of %d checks FAILED%n", failed, checks.size());
    }
    if (!temporary) {
      out.println("walship demo: files kept in " + work);
    }
    out.flush();
    return failed == 0 && !checks.isEmpty() ? 0 : 1;
  }

  private void stopEverything() {
    AppProcess a = app;
    if (a != null) {
      a.close();
    }
    LocalCluster c = cluster;
    if (c != null) {
      c.close();
    }
  }

  private void run(PrintWriter out, Path work, Duration runFor) throws Exception {
    Path primaryDb = work.resolve("primary").resolve("chinook.db");
    Files.createDirectories(primaryDb.getParent());
    AppLog.copyChinook(primaryDb);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + primaryDb);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
    }
    long t0 = System.nanoTime();
    LocalCluster c = LocalCluster.startPrimary(null, "demo", primaryDb, Duration.ZERO);
    cluster = c;
    out.printf("S3        embedded S3Proxy at %s, bucket %s (objects in memory)%n", c.s3().endpoint(),
        c.s3().bucket());
    out.printf("primary   %s -> %s (continuous upload), snapshot at TXID 1 durable%n", primaryDb,
        "s3://" + c.s3().bucket() + "/demo/" + c.db());
    Duration poll = parseDuration(pollInterval);
    for (String region : List.of("eu", "us")) {
      LocalCluster.Region r = c.addReplica(region, work.resolve("region-" + region), poll);
      out.printf("replica   %s: %s, serving %s/v2/pipeline (poll %d ms)%n", region,
          r.follower(c.db()).served().file(), r.url(), poll.toMillis());
    }
    awaitReplicas(c, c.database().capturedTxid(), Duration.ofSeconds(30));
    long base = c.database().capturedTxid();
    Path appLog = work.resolve("app-commits.tsv");
    app = AppProcess.start(primaryDb, appLog,
        List.of("--workload", "sell", "--rate", Double.toString(rate)));
    out.printf("app       pid %d sells music at %.0f tx/s for %d s (base TXID %d); started in %.1f s%n",
        app.pid(), rate, runFor.toSeconds(), base, (System.nanoTime() - t0) / 1e9);
    out.flush();

    ClusterSampler sampler = new ClusterSampler(c, 2_000);
    Reader reader = new Reader(c);
    long deadline = System.nanoTime() + runFor.toNanos();
    long lastTxid = c.database().capturedTxid();
    int second = 0;
    while (System.nanoTime() < deadline && !interrupted.get()) {
      Thread.sleep(Math.min(1000, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      second++;
      long captured = c.database().capturedTxid();
      out.println(liveLine(second, c, sampler, captured, captured - lastTxid, reader));
      out.flush();
      lastTxid = captured;
      if (!app.isAlive()) {
        break;
      }
    }
    if (interrupted.get()) {
      return;
    }
    AppProcess.Outcome outcome = app.stop(20);
    out.printf("app       stopped: %d commits, %d errors in %.1f s%n", outcome.commits(),
        outcome.errors(), outcome.seconds());
    long finalTxid = c.database().syncNow(30_000);
    boolean caughtUp = awaitReplicas(c, finalTxid, Duration.ofSeconds(30));
    reader.close();
    sampler.close();
    out.printf("drained   primary durable at TXID %d; replicas %s%n", finalTxid,
        caughtUp ? "caught up" : "NOT caught up within 30 s");
    out.flush();

    List<AppLog.Entry> log = outcome.log();
    checkApp(outcome);
    check("TXID per commit", finalTxid - base == log.size(),
        String.format("app commits 1..%d are TXIDs %d..%d (base %d)", log.size(), base + 1, finalTxid, base));
    checkReads(reader, log, base);
    checkReplicas(c, finalTxid, primaryDb);
    long mid = base + Math.max(1, log.size() / 2);
    if (finalTxid > base) {
      checkRestoreAndBranch(c, work, log, base, mid);
    } else {
      check("point-in-time", false, "the app committed nothing, no restore point to test");
    }
    CountingObjectStore.Counts p = c.primaryRequests();
    CountingObjectStore.Counts r = c.replicaRequests();
    out.printf("lag       commit->durable %s%n", ClusterSampler.Stats.of(
        ClusterSampler.latenciesMicros(log, base, sampler.durable)));
    for (int i = 0; i < c.regions().size(); i++) {
      out.printf("lag       commit->visible on %s %s%n", c.regions().get(i).name(), ClusterSampler.Stats.of(
          ClusterSampler.latenciesMicros(log, base, sampler.replicas.get(i))));
    }
    out.printf("S3        primary %s%n", p);
    out.printf("S3        replicas %s%n", r);
    out.printf(Locale.ROOT, "S3        %.1f primary PUTs per 1,000 commits (continuous mode coalesces"
        + " commits arriving during an upload)%n", log.isEmpty() ? 0.0 : p.puts() * 1000.0 / log.size());
    out.flush();
  }

  private String liveLine(int second, LocalCluster c, ClusterSampler sampler, long captured,
      long perSecond, Reader reader) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%4ds  primary TXID %5d  durable %5d", second, captured,
        c.database().durableTxid()));
    long now = TxidTimes.nowMicros();
    for (LocalCluster.Region r : c.regions()) {
      long t = r.follower(c.db()).served().txid();
      long lagMs = 0;
      if (t < captured) {
        long since = sampler.captured.micros(t + 1);
        lagMs = since < 0 ? 0 : (now - since) / 1000;
      }
      sb.append(String.format(Locale.ROOT, " | %s %5d lag %4d ms", r.name(), t, lagMs));
    }
    sb.append(String.format(Locale.ROOT, " | %3d commits/s | S3 requests %d | reads %d",
        perSecond, c.primaryRequests().total() + c.replicaRequests().total(), reader.reads.get()));
    return sb.toString();
  }

  private static boolean awaitReplicas(LocalCluster c, long txid, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (c.regions().stream().allMatch(r -> r.follower(c.db()).served().txid() >= txid)) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  private void check(String name, boolean passed, String detail) {
    checks.add(new Check(name, passed, detail));
  }

  private void checkApp(AppProcess.Outcome o) {
    long invoices = o.log().stream().filter(e -> e.kind().equals("invoice")).count();
    check("app process", o.exitCode() == 0 && o.errors() == 0 && o.commits() == o.log().size()
            && o.commits() > 0,
        String.format(Locale.ROOT, "exit %d, %d transactions (%d invoices, %d customer updates),"
                + " %d errors, busy_timeout 5000 ms", o.exitCode(), o.commits(), invoices,
            o.log().size() - invoices, o.errors()));
  }

  /** Every read answered, TXIDs monotonic per replica, and the newest invoice matches the TXID. */
  private void checkReads(Reader reader, List<AppLog.Entry> log, long base) {
    long[] newestAt = newestInvoiceAfterEachCommit(log);
    int wrong = 0;
    String firstWrong = null;
    for (Reader.Sample s : reader.samples()) {
      long seq = s.txid() - base;
      long expected = seq <= 0 ? FIRST_NEW_INVOICE - 1 : newestAt[(int) Math.min(seq, log.size())];
      if (seq > log.size() || s.newestInvoice() != expected) {
        wrong++;
        if (firstWrong == null) {
          firstWrong = s.region() + " at TXID " + s.txid() + " showed invoice " + s.newestInvoice()
              + ", expected " + expected;
        }
      }
    }
    int n = reader.samples().size();
    boolean ok = n > 0 && reader.errors.get() == 0 && reader.nonMonotonic.get() == 0 && wrong == 0;
    check("Hrana reads", ok, String.format("%d reads over HTTP on %s, %d errors, %d TXID regressions,"
            + " %d answers not equal to the app's state at their TXID%s", n,
        String.join(" and ", reader.regionNames()), reader.errors.get(), reader.nonMonotonic.get(),
        wrong, firstWrong == null ? (reader.firstError == null ? "" : "; " + reader.firstError)
            : "; " + firstWrong));
  }

  /** newest[k] = the highest InvoiceId committed by the app's commits 1..k (412 before any). */
  private static long[] newestInvoiceAfterEachCommit(List<AppLog.Entry> log) {
    long[] newest = new long[log.size() + 1];
    newest[0] = FIRST_NEW_INVOICE - 1;
    for (AppLog.Entry e : log) {
      int k = (int) e.seq();
      newest[k] = Math.max(newest[k - 1], e.invoiceId());
    }
    return newest;
  }

  private void checkReplicas(LocalCluster c, long finalTxid, Path primaryDb) throws Exception {
    Map<String, Long> txids = new HashMap<>();
    Map<String, Path> files = new HashMap<>();
    for (LocalCluster.Region r : c.regions()) {
      txids.put(r.name(), r.follower(c.db()).served().txid());
      files.put(r.name(), r.follower(c.db()).served().file());
    }
    long bucket;
    try (ObjectStore store = c.openStore()) {
      bucket = new RestorePlanner(store).plan(c.db(), RestoreTarget.txid(finalTxid)).targetChecksum();
    }
    // Checksums read the files directly: close the agents first, since closing any descriptor of a
    // SQLite file drops the process's locks on it.
    for (LocalCluster.Region r : c.regions()) {
      r.agent().close();
    }
    c.closePrimary();
    try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + primaryDb);
        Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
      rs.next();
      if (rs.getInt(1) != 0) {
        throw new IllegalStateException("could not checkpoint the primary database (busy)");
      }
    }
    long primary = DatabaseChecksum.ofFile(primaryDb, 4096);
    if ("replica".equals(fault)) {
      Path victim = files.get(c.regions().get(c.regions().size() - 1).name());
      try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
        f.seek(4096L * 2 + 100);
        int b = f.read();
        f.seek(4096L * 2 + 100);
        f.write(b ^ 0xFF);
      }
    }
    StringBuilder detail = new StringBuilder(String.format(
        "primary file %s, bucket at TXID %d %s", hex(primary), finalTxid, hex(bucket)));
    boolean ok = primary == bucket;
    for (LocalCluster.Region r : c.regions()) {
      long sum = DatabaseChecksum.ofFile(files.get(r.name()), 4096);
      long txid = txids.get(r.name());
      ok &= txid == finalTxid && sum == primary;
      detail.append(String.format("; %s at TXID %d %s", r.name(), txid, hex(sum)));
    }
    check("replicas = primary", ok, detail.toString());
  }

  private void checkRestoreAndBranch(LocalCluster c, Path work, List<AppLog.Entry> log, long base,
      long mid) throws Exception {
    Path restoreDir = work.resolve("restores");
    Files.createDirectories(restoreDir);
    List<AppLog.Entry> prefix = log.subList(0, (int) (mid - base));
    try (ObjectStore store = c.openStore()) {
      RestorePlan plan = new RestorePlanner(store).plan(c.db(), RestoreTarget.txid(mid));
      Path file = restoreDir.resolve(c.db() + "-at-" + mid + ".db");
      long started = System.nanoTime();
      Restorer.Result r = new Restorer(store, Restorer.Options.defaults(), RestoreProgress.none())
          .restoreTo(plan, file, true, Restorer.JournalMode.DELETE);
      double ms = (System.nanoTime() - started) / 1e6;
      if ("restore".equals(fault)) {
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + file);
            Statement s = conn.createStatement()) {
          s.execute("DELETE FROM InvoiceLine WHERE InvoiceId = (SELECT MAX(InvoiceId) FROM Invoice)");
          s.execute("DELETE FROM Invoice WHERE InvoiceId = (SELECT MAX(InvoiceId) FROM Invoice)");
        }
      }
      String problem = compareWithApp(file, prefix);
      // The commit time of TXID mid is the primary's capture time: never before the app began to commit.
      AppLog.Entry last = prefix.get(prefix.size() - 1);
      if (problem == null && plan.targetCommitTimeMillis() * 1000 + 1000 < last.beforeMicros()) {
        problem = "TXID " + mid + " is stamped " + plan.targetCommitTimeMillis()
            + " ms, before the app began commit " + last.seq();
      }
      long invoices = prefix.stream().filter(e -> e.kind().equals("invoice")).count();
      check("point-in-time", problem == null, String.format(Locale.ROOT,
          "restore to TXID %d (%d objects, %.0f ms): integrity_check ok, %d new invoices and %d"
              + " customer updates = the app's first %d commits%s", mid, r.objects(), ms, invoices,
          prefix.size() - invoices, prefix.size(), problem == null ? "" : "; " + problem));

      String branch = c.db() + "-at-" + mid;
      new Brancher(store, Clock.systemUTC()).branch(c.db(), branch, RestoreTarget.txid(mid));
      RestorePlan bplan = new RestorePlanner(store).plan(branch, RestoreTarget.latest());
      Path bfile = restoreDir.resolve(branch + "-branch.db");
      Restorer.Result br = new Restorer(store, Restorer.Options.defaults(), RestoreProgress.none())
          .restoreTo(bplan, bfile, true, Restorer.JournalMode.DELETE);
      String bproblem = compareWithApp(bfile, prefix);
      boolean same = br.txid() == mid && br.checksum() == r.checksum();
      check("branch", same && bproblem == null, String.format(
          "%s (O(1): lineage.json only) restores at TXID %d, checksum %s %s the PITR restore's%s",
          branch, br.txid(), hex(br.checksum()), same ? "=" : "!=", bproblem == null ? "" : "; " + bproblem));
    }
  }

  /**
   * Null if {@code file} passes integrity_check and holds exactly the invoices and customer
   * updates of {@code prefix} (and none of the later commits); otherwise what differs.
   */
  static String compareWithApp(Path file, List<AppLog.Entry> prefix)
      throws SQLException {
    try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = conn.createStatement()) {
      try (ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
        rs.next();
        if (!"ok".equals(rs.getString(1))) {
          return "integrity_check: " + rs.getString(1);
        }
      }
      List<String> found = new ArrayList<>();
      try (ResultSet rs = s.executeQuery(
          "SELECT i.InvoiceId, i.CustomerId, COUNT(l.InvoiceLineId),"
              + " CAST(ROUND(i.Total * 100) AS INTEGER), CAST(ROUND(SUM(l.UnitPrice * l.Quantity) * 100) AS INTEGER)"
              + " FROM Invoice i LEFT JOIN InvoiceLine l ON l.InvoiceId = i.InvoiceId"
              + " WHERE i.InvoiceId >= " + FIRST_NEW_INVOICE
              + " GROUP BY i.InvoiceId ORDER BY i.InvoiceId")) {
        while (rs.next()) {
          found.add(rs.getLong(1) + "/" + rs.getInt(2) + "/" + rs.getInt(3) + "/" + rs.getLong(4)
              + "/" + rs.getLong(5));
        }
      }
      List<String> expected = new ArrayList<>();
      for (AppLog.Entry e : prefix) {
        if (e.kind().equals("invoice")) {
          expected.add(e.invoiceId() + "/" + e.customerId() + "/" + e.lines() + "/" + e.totalCents()
              + "/" + e.totalCents());
        }
      }
      if (!found.equals(expected)) {
        return String.format("invoices differ: found %d (newest %s), the app had committed %d (newest %s)",
            found.size(), found.isEmpty() ? "-" : found.get(found.size() - 1).split("/")[0],
            expected.size(), expected.isEmpty() ? "-" : expected.get(expected.size() - 1).split("/")[0]);
      }
      Map<Integer, String> companies = new HashMap<>();
      for (AppLog.Entry e : prefix) {
        if (e.kind().equals("customer")) {
          companies.put(e.customerId(), e.company());
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT CustomerId, Company FROM Customer")) {
        while (rs.next()) {
          int id = rs.getInt(1);
          String company = rs.getString(2);
          if (companies.containsKey(id) && !companies.get(id).equals(company)) {
            return "customer " + id + " has Company '" + company + "', expected '" + companies.get(id) + "'";
          }
          if (company != null && company.startsWith("walship demo #") && !companies.containsKey(id)) {
            return "customer " + id + " holds a later update '" + company + "'";
          }
        }
      }
      return null;
    }
  }

  /** The one duration syntax of walship (see {@link YamlConfig#parseDuration}). */
  static Duration parseDuration(String s) {
    return YamlConfig.parseDuration(s);
  }

  static String hex(long checksum) {
    return DatabaseChecksum.toHex(checksum);
  }

  static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("walship: could not delete " + root + ": " + e.getMessage());
    }
  }

  /** Queries both replicas over Hrana HTTP every 250 ms, as an app in each region would. */
  static final class Reader implements AutoCloseable {
    record Sample(String region, long txid, long newestInvoice) {}

    final AtomicLong reads = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong nonMonotonic = new AtomicLong();
    volatile String firstError;
    private final List<Sample> samples = new ArrayList<>();
    private final LocalCluster cluster;
    private final HranaClient client = new HranaClient();
    private final Thread thread;
    private volatile boolean running = true;

    Reader(LocalCluster cluster) {
      this.cluster = cluster;
      this.thread = Thread.ofPlatform().name("walship-demo-reader").daemon(true).start(this::run);
    }

    List<String> regionNames() {
      return cluster.regions().stream().map(LocalCluster.Region::name).toList();
    }

    synchronized List<Sample> samples() {
      return List.copyOf(samples);
    }

    private void run() {
      Map<String, Long> last = new HashMap<>();
      while (running) {
        for (LocalCluster.Region r : cluster.regions()) {
          try {
            HranaClient.Result res = client.execute(r.url(),
                "SELECT MAX(InvoiceId), COUNT(*) FROM Invoice");
            reads.incrementAndGet();
            long newest = Long.parseLong(res.rows().get(0).get(0));
            if (res.txid() < last.getOrDefault(r.name(), 0L)) {
              nonMonotonic.incrementAndGet();
            }
            last.put(r.name(), res.txid());
            synchronized (this) {
              samples.add(new Sample(r.name(), res.txid(), newest));
            }
          } catch (IOException | RuntimeException e) {
            if (!running) {
              return;
            }
            errors.incrementAndGet();
            if (firstError == null) {
              firstError = r.name() + ": " + e.getMessage();
            }
          } catch (InterruptedException e) {
            return;
          }
        }
        try {
          Thread.sleep(250);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    @Override
    public void close() {
      running = false;
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
