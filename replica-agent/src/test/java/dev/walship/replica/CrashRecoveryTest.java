package dev.walship.replica;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.DatabaseChecksum;
import dev.walship.replica.hrana.HranaLimits;
import dev.walship.replica.testing.InvariantWriter;
import dev.walship.replica.testing.ReferenceShipper;
import dev.walship.replica.testing.ReplicaMain;
import dev.walship.restore.PageApplier;
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
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica process killed with SIGKILL while an apply is in flight (its sidecar holds a pending
 * intent) and restarted, several times: the restarted replica repairs before serving and ends
 * byte-for-byte (by database checksum) equal to the primary's database at its TXID.
 */
class CrashRecoveryTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  private static final int SEGMENTS = 60;

  @TempDir Path tmp;

  @Test
  void killedMidApplyAndRestartedServesTheCorrectDatabase() throws Exception {
    Path app = Files.createDirectories(tmp.resolve("app")).resolve("big.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app);
        Statement s = c.createStatement()) {
      try (Statement pragma = c.createStatement()) {
        pragma.execute("PRAGMA journal_mode=DELETE");
      }
      InvariantWriter.createSchema(c);
      s.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, data BLOB)");
      s.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 300)"
          + " INSERT INTO big SELECT i, randomblob(3000) FROM r");
    }
    ObjectStore store = S3.openFresh();
    String prefix = store.describe().replaceAll("^s3://[^/]+/", "").replaceAll("[ (?].*$", "");
    long finalTxid;
    long finalChecksum;
    try (ReferenceShipper shipper =
        new ReferenceShipper(store, "big", app, Files.createDirectories(tmp.resolve("spool")))) {
      shipper.init();
      Random random = new Random(11);
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app)) {
        c.setAutoCommit(false);
        try (PreparedStatement upd = c.prepareStatement("UPDATE big SET data = randomblob(3000) WHERE id = ?");
            Statement s = c.createStatement()) {
          for (int seg = 0; seg < SEGMENTS; seg++) {
            for (int k = 0; k < 80; k++) {
              upd.setInt(1, 1 + random.nextInt(300));
              upd.executeUpdate();
            }
            s.execute("UPDATE acct SET bal = bal - 7 WHERE id = 1");
            s.execute("UPDATE acct SET bal = bal + 7 WHERE id = 2");
            s.execute("UPDATE counter SET n = n + 1");
            s.execute("INSERT INTO log (n) SELECT n FROM counter");
            c.commit();
            shipper.ship();
          }
        }
      }
      finalTxid = shipper.txid();
      finalChecksum = shipper.checksum();
    }
    assertEquals(SEGMENTS + 1, finalTxid);

    Path dir = tmp.resolve("replica");
    Path sidecar = dir.resolve("big.db"); // its state is read through PageApplier.recordedState
    int killedMidApply = 0;
    for (int round = 0; round < 12 && killedMidApply < 3; round++) {
      Process replica = startReplicaProcess(S3.targetUrl(prefix), dir);
      try {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1)).pollDelay(Duration.ZERO)
            .until(() -> pendingIntent(sidecar) || applied(sidecar) == finalTxid || !replica.isAlive());
        replica.destroyForcibly(); // SIGKILL
        replica.waitFor(30, TimeUnit.SECONDS);
      } finally {
        replica.destroyForcibly();
      }
      if (pendingIntent(sidecar)) {
        killedMidApply++;
      } else if (applied(sidecar) == finalTxid) {
        break;
      }
    }
    assertTrue(killedMidApply >= 1, "no kill landed while an apply was in flight");

    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    ExecutorService http = Executors.newFixedThreadPool(4);
    ReplicaConfig config =
        ReplicaConfig.of("unused", dir)
            .withListen(new InetSocketAddress("127.0.0.1", 0))
            .withDatabases(List.of("big"), "big")
            .withPolling(Duration.ofMillis(10), Duration.ofSeconds(5), false)
            .withReads(Duration.ofSeconds(30), HranaLimits.defaults());
    try (ReplicaAgent agent =
        new ReplicaAgent(config, S3.open(prefix), Clock.systemUTC(), scheduler, http,
                new SimpleMeterRegistry(), System::nanoTime)
            .start()) {
      HranaJson client = new HranaJson("http://127.0.0.1:" + agent.port());
      // The first answer after the restart is already a repaired, consistent database.
      HranaJson.Answer first = client.query("SELECT (SELECT sum(bal) FROM acct), (SELECT n FROM counter), (SELECT count(*) FROM log)");
      assertEquals(200, first.status(), first.body().toString());
      assertEquals(1000, first.integer(0, 0));
      assertEquals(first.integer(0, 1), first.integer(0, 2));
      HranaJson.Answer last = client.query("SELECT n FROM counter", ReplicaHttpServer.MIN_TXID_HEADER, Long.toString(finalTxid));
      assertEquals(200, last.status(), last.body().toString());
      assertEquals(SEGMENTS, last.integer(0, 0));
      assertEquals(finalTxid, last.txid());
      assertEquals("ok", client.query("PRAGMA integrity_check").rows().path(0).path(0).path("value").asText());
    } finally {
      scheduler.shutdownNow();
      http.shutdownNow();
      store.close();
    }
    assertEquals(finalChecksum, fileChecksum(dir.resolve("big.db")),
        "replica checksum equals the primary's at the same TXID");
    System.out.printf("crash recovery: %d kills landed mid-apply, final TXID %d%n", killedMidApply, finalTxid);
  }

  private static Process startReplicaProcess(String url, Path dir) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                ReplicaMain.class.getName(), url, dir.toString(), "big")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("AWS_ACCESS_KEY_ID", InProcessS3.ACCESS_KEY);
    pb.environment().put("AWS_SECRET_ACCESS_KEY", InProcessS3.SECRET_KEY);
    pb.environment().put("AWS_REGION", "us-east-1");
    return pb.start();
  }

  private static boolean pendingIntent(Path db) {
    try {
      return PageApplier.recordedState(db).map(r -> r.pendingUptoTxid() >= 0).orElse(false);
    } catch (RuntimeException e) {
      return false; // created while being read
    }
  }

  private static long applied(Path db) {
    try {
      return PageApplier.recordedState(db).map(PageApplier.RecordedState::txid).orElse(0L);
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private static long fileChecksum(Path file) throws Exception {
    byte[] all = Files.readAllBytes(file);
    int pageSize = 4096;
    long sum = 0;
    for (int p = 0; p < all.length / pageSize; p++) {
      sum ^= DatabaseChecksum.pageHash(p + 1, all, p * pageSize, pageSize);
    }
    return sum;
  }
}
