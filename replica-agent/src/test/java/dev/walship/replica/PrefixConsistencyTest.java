package dev.walship.replica;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.walship.replica.hrana.HranaLimits;
import dev.walship.replica.testing.InvariantWriter;
import dev.walship.replica.testing.ReferenceShipper;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Named invariants under load: "prefix consistency" (every read sees a state the application
 * committed: {@code sum(bal) = 1000} and {@code counter = count(log)}), "replica TXID only grows"
 * (per reader, {@code Walship-Txid} never goes backwards) and "a transaction reads one snapshot"
 * (two requests of one read transaction agree while the replica keeps applying). The application
 * is a separate process; the reference shipper ships while it writes; the replica polls every 10
 * ms.
 */
class PrefixConsistencyTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  private static final int COMMITS = 2000;
  private static final int MIN_READS = 2000;

  @TempDir Path tmp;

  @Test
  void readersNeverSeeATornTransactionNorAnOlderTxid() throws Exception {
    Path app = Files.createDirectories(tmp.resolve("app")).resolve("bank.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app)) {
      try (var s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=DELETE");
      }
      InvariantWriter.createSchema(c);
    }
    ObjectStore store = S3.openFresh();
    String prefix = store.describe().replaceAll("^s3://[^/]+/", "").replaceAll("[ (?].*$", "");
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ExecutorService http = Executors.newFixedThreadPool(8);
    ExecutorService readers = Executors.newFixedThreadPool(5);
    try (ReferenceShipper shipper = new ReferenceShipper(store, "bank", app, Files.createDirectories(tmp.resolve("spool")))) {
      shipper.init();
      ReplicaConfig config =
          ReplicaConfig.of("unused", tmp.resolve("replica"))
              .withListen(new InetSocketAddress("127.0.0.1", 0))
              .withDatabases(List.of("bank"), "bank")
              .withPolling(Duration.ofMillis(10), Duration.ofSeconds(5), false)
              .withReads(Duration.ofSeconds(5), HranaLimits.defaults());
      try (ReplicaAgent agent =
          new ReplicaAgent(config, S3.open(prefix), Clock.systemUTC(), scheduler, http,
                  registry, System::nanoTime)
              .start()) {
        ServedDatabase served = agent.follower("bank").orElseThrow().served();
        await().atMost(Duration.ofSeconds(20)).until(() -> served.txid() >= 1);
        String base = "http://127.0.0.1:" + agent.port();
        Process writer =
            new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"),
                    InvariantWriter.class.getName(), app.toString(), Integer.toString(COMMITS), "7", "1000")
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("writer.log").toFile())
                .start();
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicLong reads = new AtomicLong();
        AtomicLong txReads = new AtomicLong();
        List<Future<?>> running = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          running.add(readers.submit(() -> autocommitReader(base, stop, violations, reads)));
        }
        running.add(readers.submit(() -> transactionReader(base, stop, violations, txReads)));

        long shipped = 1;
        long started = System.nanoTime();
        while (writer.isAlive()) {
          shipped = shipper.ship();
          // The primary's sync interval, not a wait for a condition.
          java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
        }
        long writerMillis = (System.nanoTime() - started) / 1_000_000;
        assertEquals(0, writer.waitFor(), Files.readString(tmp.resolve("writer.log")));
        shipped = shipper.ship();
        long last = shipped;
        await().atMost(Duration.ofSeconds(30)).until(() -> served.txid() >= last);
        await().atMost(Duration.ofSeconds(60)).until(() -> reads.get() >= MIN_READS);
        stop.set(true);
        for (Future<?> f : running) {
          f.get(30, TimeUnit.SECONDS);
        }
        System.out.printf(
            "prefix consistency: %d commits in %d ms shipped as %d TXIDs; %d autocommit reads, %d"
                + " two-request transactions, %d violations%n",
            COMMITS, writerMillis, shipped, reads.get(), txReads.get(), violations.size());
        assertTrue(violations.isEmpty(), "violations: " + List.copyOf(violations).subList(0, Math.min(10, violations.size())));
        assertTrue(shipped > 20, "the replica followed many TXIDs while being read, got " + shipped);
        assertTrue(txReads.get() > 10, "transactions read: " + txReads.get());
        HranaJson.Answer end = new HranaJson(base).query("SELECT n, (SELECT count(*) FROM log) FROM counter");
        assertEquals(COMMITS, end.integer(0, 0));
        assertEquals(COMMITS, end.integer(0, 1));
        assertEquals(shipped, end.txid());
      }
    } finally {
      readers.shutdownNow();
      scheduler.shutdownNow();
      http.shutdownNow();
      store.close();
    }
  }

  private static Void autocommitReader(
      String base, AtomicBoolean stop, ConcurrentLinkedQueue<String> violations, AtomicLong reads)
      throws Exception {
    HranaJson client = new HranaJson(base);
    long lastTxid = 0;
    while (!stop.get()) {
      HranaJson.Answer a =
          client.query("SELECT (SELECT sum(bal) FROM acct), (SELECT n FROM counter), (SELECT count(*) FROM log)");
      if (a.status() != 200) {
        violations.add("HTTP " + a.status() + " " + a.body());
        continue;
      }
      long sum = a.integer(0, 0);
      long n = a.integer(0, 1);
      long logRows = a.integer(0, 2);
      if (sum != 1000 || n != logRows) {
        violations.add("torn read at TXID " + a.txid() + ": sum=" + sum + " n=" + n + " log=" + logRows);
      }
      if (a.txid() < lastTxid) {
        violations.add("Walship-Txid went backwards: " + lastTxid + " -> " + a.txid());
      }
      if (!a.result().path("replication_index").asText().equals(Long.toString(a.txid()))) {
        violations.add("replication_index " + a.result().path("replication_index") + " != header " + a.txid());
      }
      lastTxid = a.txid();
      reads.incrementAndGet();
      // Leave CPU to the writer and the follower on a 2-core machine (pacing, not a wait).
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    return null;
  }

  /** BEGIN + read in one request, a second read + COMMIT in the next: both see one snapshot. */
  private static Void transactionReader(
      String base, AtomicBoolean stop, ConcurrentLinkedQueue<String> violations, AtomicLong txReads)
      throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    while (!stop.get()) {
      JsonNode first = pipeline(http, base, null, "BEGIN TRANSACTION READONLY", "SELECT n FROM counter");
      String baton = first.path("baton").asText(null);
      long n = Long.parseLong(first.path("results").path(1).path("response").path("result").path("rows").path(0).path(0).path("value").asText("-1"));
      JsonNode second = pipeline(http, base, baton, "SELECT count(*) FROM log", "COMMIT");
      long logRows = Long.parseLong(second.path("results").path(0).path("response").path("result").path("rows").path(0).path(0).path("value").asText("-2"));
      if (n != logRows) {
        violations.add("transaction saw two snapshots: n=" + n + " then log=" + logRows + " " + second);
      }
      txReads.incrementAndGet();
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
    }
    return null;
  }

  private static JsonNode pipeline(HttpClient http, String base, String baton, String... sqls) throws Exception {
    ObjectNode req = HranaJson.JSON.createObjectNode();
    req.put("baton", baton);
    ArrayNode requests = req.putArray("requests");
    for (String sql : sqls) {
      requests.addObject().put("type", "execute").putObject("stmt").put("sql", sql);
    }
    if (baton != null) {
      requests.addObject().put("type", "close");
    }
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/v2/pipeline"))
                .POST(HttpRequest.BodyPublishers.ofString(HranaJson.JSON.writeValueAsString(req)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return HranaJson.JSON.readTree(r.body());
  }
}
