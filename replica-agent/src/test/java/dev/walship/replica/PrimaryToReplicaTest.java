package dev.walship.replica;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.primary.DatabaseAgent;
import dev.walship.primary.DatabaseOptions;
import dev.walship.replica.hrana.HranaLimits;
import dev.walship.replica.testing.InvariantWriter;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.InstantSource;
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
 * End to end with the real primary agent (continuous mode) on a WAL database: the replica follows
 * every SQLite commit (one TXID each), readers never see a broken invariant or an older TXID, a
 * schema change arrives without reconnecting, and read-your-writes works with the primary's
 * durable TXID as {@code Walship-Min-Txid}.
 */
class PrimaryToReplicaTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  private static final int COMMITS = 1000;

  @TempDir Path tmp;

  @Test
  void followsTheRealPrimaryCommitByCommit() throws Exception {
    Path app = Files.createDirectories(tmp.resolve("app")).resolve("bank.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app)) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
      }
      InvariantWriter.createSchema(c);
    }
    ObjectStore store = S3.openFresh();
    String prefix = store.describe().replaceAll("^s3://[^/]+/", "").replaceAll("[ (?].*$", "");
    DatabaseOptions options =
        DatabaseOptions.of(app, S3.targetUrl(prefix))
            .withSyncInterval(Duration.ZERO)
            .withSpoolDir(Files.createDirectories(tmp.resolve("spool")));
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    ExecutorService http = Executors.newFixedThreadPool(6);
    ExecutorService side = Executors.newFixedThreadPool(3);
    DatabaseAgent primary = new DatabaseAgent(options, store, new SimpleMeterRegistry(), InstantSource.system());
    try {
      primary.start();
      long first = primary.syncNow(30_000);
      ReplicaConfig config =
          ReplicaConfig.of("unused", tmp.resolve("replica"))
              .withListen(new InetSocketAddress("127.0.0.1", 0))
              .withDatabases(List.of("bank"), "bank")
              .withPolling(Duration.ofMillis(20), Duration.ofSeconds(5), false)
              .withReads(Duration.ofSeconds(20), HranaLimits.defaults());
      try (ReplicaAgent replica =
          new ReplicaAgent(config, S3.open(prefix), Clock.systemUTC(), scheduler, http,
                  new SimpleMeterRegistry(), System::nanoTime)
              .start()) {
        String base = "http://127.0.0.1:" + replica.port();
        HranaJson client = new HranaJson(base);
        assertEquals(200, client.query("SELECT 1", ReplicaHttpServer.MIN_TXID_HEADER, Long.toString(first)).status());

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        Future<?> readers = side.submit(() -> {
          HranaJson c = new HranaJson(base);
          long last = 0;
          while (!stop.get()) {
            HranaJson.Answer a = c.query("SELECT (SELECT sum(bal) FROM acct), (SELECT n FROM counter), (SELECT count(*) FROM log)");
            if (a.status() != 200 || a.integer(0, 0) != 1000 || a.integer(0, 1) != a.integer(0, 2) || a.txid() < last) {
              violations.add(a.txid() + " " + a.body());
            }
            last = a.txid();
            reads.incrementAndGet();
            java.util.concurrent.locks.LockSupport.parkNanos(500_000);
          }
          return null;
        });
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app)) {
          try (Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout=10000");
          }
          c.setAutoCommit(false);
          try (PreparedStatement move = c.prepareStatement("UPDATE acct SET bal = bal + ? WHERE id = ?");
              Statement s = c.createStatement()) {
            for (int i = 0; i < COMMITS; i++) {
              move.setInt(1, -3);
              move.setInt(2, 1);
              move.executeUpdate();
              move.setInt(1, 3);
              move.setInt(2, 2);
              move.executeUpdate();
              s.execute("UPDATE counter SET n = n + 1");
              s.execute("INSERT INTO log (n) SELECT n FROM counter");
              c.commit();
              if (i == COMMITS / 2) {
                s.execute("CREATE TABLE audit (note TEXT)");
                s.execute("INSERT INTO audit VALUES ('added halfway')");
                c.commit();
              }
              java.util.concurrent.locks.LockSupport.parkNanos(300_000);
            }
          }
        }
        long durable = primary.syncNow(30_000);
        assertTrue(durable >= first + COMMITS, "one TXID per commit: " + first + " -> " + durable);
        HranaJson.Answer a = client.query("SELECT n, (SELECT note FROM audit) FROM counter",
            ReplicaHttpServer.MIN_TXID_HEADER, Long.toString(durable));
        assertEquals(200, a.status(), a.body().toString());
        assertEquals(COMMITS, a.integer(0, 0));
        assertEquals("added halfway", a.rows().path(0).path(1).path("value").asText());
        assertEquals(durable, a.txid());
        await().atMost(Duration.ofSeconds(10)).until(() -> reads.get() > 200);
        stop.set(true);
        readers.get(30, TimeUnit.SECONDS);
        assertTrue(violations.isEmpty(), "violations: " + violations);
        System.out.printf("primary to replica: %d commits, TXIDs %d..%d, %d reads, 0 violations%n",
            COMMITS, first, durable, reads.get());
      }
    } finally {
      primary.close();
      side.shutdownNow();
      scheduler.shutdownNow();
      http.shutdownNow();
      store.close();
    }
  }
}
