package dev.walship.replica;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.replica.hrana.HranaLimits;
import dev.walship.replica.testing.ReferenceShipper;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica of every database under a prefix (discovered, none named): each is routed at {@code
 * /db/NAME/}, and the Caffeine bound on open databases closes the files and connections of idle
 * ones, reopening them on demand (a reader or a new segment).
 */
class ManyDatabasesTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  private static final int DATABASES = 6;
  private static final int MAX_OPEN = 2;

  @TempDir Path tmp;

  @Test
  void discoversEveryDatabaseAndKeepsOnlyABoundedNumberOpen() throws Exception {
    ObjectStore store = S3.openFresh();
    String prefix = store.describe().replaceAll("^s3://[^/]+/", "").replaceAll("[ (?].*$", "");
    List<ReferenceShipper> shippers = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < DATABASES; i++) {
      Path file = Files.createDirectories(tmp.resolve("app")).resolve("tenant" + i + ".db");
      sql(file, "PRAGMA journal_mode=DELETE", "CREATE TABLE t (tenant INTEGER, v INTEGER)",
          "INSERT INTO t VALUES (" + i + ", 0)");
      ReferenceShipper s = new ReferenceShipper(store, "tenant" + i, file, Files.createDirectories(tmp.resolve("spool")));
      s.init();
      shippers.add(s);
      files.add(file);
    }
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    ExecutorService http = Executors.newFixedThreadPool(4);
    ReplicaConfig config =
        ReplicaConfig.of("unused", tmp.resolve("replica"))
            .withListen(new InetSocketAddress("127.0.0.1", 0))
            .withPolling(Duration.ofMillis(20), Duration.ofSeconds(5), false)
            .withReads(Duration.ofSeconds(10), HranaLimits.defaults())
            .withCapacity(2, MAX_OPEN);
    try (ReplicaAgent agent =
        new ReplicaAgent(config, S3.open(prefix), Clock.systemUTC(), scheduler, http,
                new SimpleMeterRegistry(), System::nanoTime)
            .start()) {
      assertEquals(DATABASES, agent.status().size(), agent.status().toString());
      String base = "http://127.0.0.1:" + agent.port();
      for (int round = 1; round <= 2; round++) {
        for (int i = 0; i < DATABASES; i++) {
          sql(files.get(i), "UPDATE t SET v = " + round);
          long txid = shippers.get(i).ship();
          HranaJson.Answer a =
              new HranaJson(base + "/db/tenant" + i)
                  .query("SELECT tenant, v FROM t", ReplicaHttpServer.MIN_TXID_HEADER, Long.toString(txid));
          assertEquals(200, a.status(), a.body().toString());
          assertEquals(i, a.integer(0, 0));
          assertEquals(round, a.integer(0, 1));
        }
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> agent.openDatabases() <= MAX_OPEN);
      long open = agent.openDatabases();
      assertTrue(open <= MAX_OPEN, "open databases " + open);
      // An evicted database reopens on demand and still follows.
      sql(files.get(0), "UPDATE t SET v = 99");
      long txid = shippers.get(0).ship();
      HranaJson.Answer a = new HranaJson(base + "/db/tenant0")
          .query("SELECT v FROM t", ReplicaHttpServer.MIN_TXID_HEADER, Long.toString(txid));
      assertEquals(99, a.integer(0, 0));
    } finally {
      shippers.forEach(ReferenceShipper::close);
      scheduler.shutdownNow();
      http.shutdownNow();
      store.close();
    }
  }

  private static void sql(Path file, String... statements) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      for (String q : statements) {
        try (Statement s = c.createStatement()) {
          s.execute(q);
        }
      }
    }
  }
}
