package dev.walship.replica;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.BucketLayout;
import dev.walship.replica.testing.ReferenceShipper;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica following a bucket fed by the reference shipper, over the in-process S3 server: it
 * bootstraps, follows commits and schema changes, answers min_txid, refuses a bit-flipped segment
 * and stays at the last good TXID.
 */
class ReplicaFollowTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();

  @TempDir Path tmp;
  private ObjectStore store;
  private Path appFile;
  private ReferenceShipper shipper;
  private ReplicaAgent agent;
  private ScheduledExecutorService scheduler;
  private ExecutorService http;
  private PrometheusMeterRegistry registry;
  private HranaJson client;

  @BeforeEach
  void setUp() throws Exception {
    store = S3.openFresh();
    appFile = ServerFixture.chinookCopy(Files.createDirectories(tmp.resolve("app")));
    shipper = new ReferenceShipper(store, "chinook", appFile, Files.createDirectories(tmp.resolve("spool")));
    shipper.init();
    scheduler = Executors.newScheduledThreadPool(2);
    http = Executors.newFixedThreadPool(4);
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  private void startReplica(String storeUrlPrefixOwner) throws Exception {
    startReplica(storeUrlPrefixOwner, false);
  }

  private void startReplica(String storeUrlPrefixOwner, boolean autoRebootstrap) throws Exception {
    ReplicaConfig config =
        ReplicaConfig.of("unused", tmp.resolve("replica"))
            .withListen(new InetSocketAddress("127.0.0.1", 0))
            .withDatabases(List.of("chinook"), null)
            .withPolling(Duration.ofMillis(20), Duration.ofMillis(200), autoRebootstrap)
            .withReads(Duration.ofMillis(500), dev.walship.replica.hrana.HranaLimits.defaults());
    agent =
        new ReplicaAgent(
                config, S3.open(storeUrlPrefixOwner), Clock.systemUTC(), scheduler, http, registry,
                System::nanoTime)
            .start();
    client = new HranaJson("http://127.0.0.1:" + agent.port());
  }

  @AfterEach
  void tearDown() {
    if (agent != null) {
      agent.close();
    }
    scheduler.shutdownNow();
    http.shutdownNow();
    shipper.close();
    store.close();
  }

  private String prefix() {
    return store.describe().replaceAll("^s3://[^/]+/", "").replaceAll("[ (].*$", "");
  }

  private void app(String... sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + appFile);
        Statement s = c.createStatement()) {
      for (String q : sql) {
        s.execute(q);
      }
    }
  }

  private void awaitTxid(long txid) {
    await().atMost(Duration.ofSeconds(20)).until(() -> agent.follower("chinook").orElseThrow().served().txid() >= txid);
  }

  @Test
  void bootstrapsFollowsCommitsAndSchemaChanges() throws Exception {
    startReplica(prefix());
    awaitTxid(1);
    HranaJson.Answer a = client.query("SELECT count(*) FROM Track");
    assertEquals(200, a.status());
    assertEquals(3503, a.integer(0, 0));
    assertEquals(1, a.txid());

    app("INSERT INTO Artist (Name) VALUES ('walship one')", "INSERT INTO Artist (Name) VALUES ('walship two')");
    long t2 = shipper.ship();
    assertEquals(2, t2);
    awaitTxid(t2);
    a = client.query("SELECT count(*) FROM Artist WHERE Name LIKE 'walship%'");
    assertEquals(2, a.integer(0, 0));
    assertEquals(2, a.txid());
    assertEquals("2", a.result().path("replication_index").asText());

    app("CREATE TABLE added_later (id INTEGER PRIMARY KEY, note TEXT)", "INSERT INTO added_later (note) VALUES ('schema change')");
    long t3 = shipper.ship();
    awaitTxid(t3);
    a = client.query("SELECT note FROM added_later");
    assertEquals(200, a.status());
    assertEquals("schema change", a.rows().path(0).path(0).path("value").asText(), a.body().toString());

    app("DELETE FROM InvoiceLine", "VACUUM");
    long t4 = shipper.ship();
    awaitTxid(t4);
    a = client.query("SELECT count(*) FROM InvoiceLine");
    assertEquals(0, a.integer(0, 0));
    a = client.query("PRAGMA integrity_check");
    assertEquals("ok", a.rows().path(0).path(0).path("value").asText());

    String metrics = new String(
        java.net.http.HttpClient.newHttpClient()
            .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + agent.port() + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray())
            .body());
    assertTrue(metrics.contains("walship_replica_txid{db=\"chinook\"} " + t4 + ".0"), metrics);
    assertTrue(metrics.contains("walship_replication_lag_seconds"), metrics);
  }

  @Test
  void minTxidWaitsThenAnswers503NamingTheCurrentTxid() throws Exception {
    startReplica(prefix());
    awaitTxid(1);
    HranaJson.Answer a = client.query("SELECT 1", ReplicaHttpServer.MIN_TXID_HEADER, "5");
    assertEquals(503, a.status());
    assertEquals(1, a.txid());
    assertEquals(1, a.body().path("txid").asLong());
    assertEquals("MIN_TXID_NOT_REACHED", a.body().path("code").asText());

    app("INSERT INTO Genre (Name) VALUES ('walship')");
    Thread shipLater = new Thread(() -> shipper.ship());
    shipLater.start();
    a = client.query("SELECT count(*) FROM Genre WHERE Name = 'walship'", ReplicaHttpServer.MIN_TXID_HEADER, "2");
    shipLater.join();
    assertEquals(200, a.status(), a.body().toString());
    assertEquals(1, a.integer(0, 0), "read-your-writes: the row committed at TXID 2 is visible");
    assertTrue(a.txid() >= 2);
  }

  @Test
  void bitFlippedSegmentIsRefusedAndDataStaysAtLastGoodTxid() throws Exception {
    startReplica(prefix());
    awaitTxid(1);
    app("INSERT INTO Artist (Name) VALUES ('never served')");
    byte[] good = shipper.nextSegment();
    byte[] bad = good.clone();
    bad[bad.length / 2] ^= 0x10;
    store.putIfAbsent(BucketLayout.level0Key("chinook", 2), bad);

    Follower f = agent.follower("chinook").orElseThrow();
    await().atMost(Duration.ofSeconds(20))
        .until(() -> f.status().state().equals("STALLED"));
    DatabaseCatalog.DatabaseStatus st = f.status();
    assertEquals(1, st.txid());
    assertNotNull(st.lastError());
    assertTrue(st.lastError().contains("L0/0000000000000002.seg"), st.lastError());

    HranaJson.Answer a = client.query("SELECT count(*) FROM Artist WHERE Name = 'never served'");
    assertEquals(200, a.status());
    assertEquals(0, a.integer(0, 0));
    assertEquals(1, a.txid());
    assertNotNull(a.stalled(), "answers say why the database stopped advancing");

    var status = HranaJson.JSON.readTree(
        java.net.http.HttpClient.newHttpClient()
            .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + agent.port() + "/v1/status")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body());
    assertEquals("STALLED", status.path("databases").path(0).path("state").asText());
    assertEquals(1, status.path("databases").path(0).path("txid").asLong());

    // The operator replaces the object with the good bytes: the replica moves on by itself.
    store.delete(BucketLayout.level0Key("chinook", 2));
    store.putIfAbsent(BucketLayout.level0Key("chinook", 2), good);
    awaitTxid(2);
    a = client.query("SELECT count(*) FROM Artist WHERE Name = 'never served'");
    assertEquals(1, a.integer(0, 0));
    assertEquals("SERVING", f.status().state());
  }

  @Test
  void aGapStallsTheReplicaAndAutoRebootstrapJumpsOverItFromTheLatestSnapshot() throws Exception {
    startReplica(prefix(), true);
    awaitTxid(1);
    app("INSERT INTO Artist (Name) VALUES ('lost in the gap')");
    shipper.nextSegment(); // TXID 2 never reaches the bucket (deleted by retention, say)
    app("INSERT INTO Artist (Name) VALUES ('after the gap')");
    long t3 = shipper.ship(true); // TXID 3 as a segment and a snapshot
    assertEquals(3, t3);
    awaitTxid(3);
    HranaJson.Answer a = client.query("SELECT count(*) FROM Artist WHERE Name IN ('lost in the gap', 'after the gap')");
    assertEquals(2, a.integer(0, 0), "the snapshot at TXID 3 holds both rows");
    assertEquals(3, a.txid());
    assertEquals("SERVING", agent.follower("chinook").orElseThrow().status().state());

    app("INSERT INTO Artist (Name) VALUES ('and on')");
    long t4 = shipper.ship();
    awaitTxid(t4);
    assertEquals(1, client.query("SELECT count(*) FROM Artist WHERE Name = 'and on'").integer(0, 0));
  }

  @Test
  void aGapWithoutAutoRebootstrapStallsAndSaysWhy() throws Exception {
    startReplica(prefix(), false);
    awaitTxid(1);
    app("INSERT INTO Artist (Name) VALUES ('lost in the gap')");
    shipper.nextSegment();
    app("INSERT INTO Artist (Name) VALUES ('after the gap')");
    shipper.ship();
    Follower f = agent.follower("chinook").orElseThrow();
    await().atMost(Duration.ofSeconds(20)).until(() -> f.status().state().equals("STALLED"));
    assertTrue(f.status().lastError().contains("gap"), f.status().lastError());
    assertEquals(1, f.status().txid());
    HranaJson.Answer a = client.query("SELECT count(*) FROM Artist WHERE Name = 'after the gap'");
    assertEquals(0, a.integer(0, 0));
    assertTrue(a.stalled().contains("gap"), a.stalled());
  }

  @Test
  void aDatabaseReplacedUnderTheSameNameIsFollowedAfterAutoRebootstrap() throws Exception {
    startReplica(prefix(), true);
    awaitTxid(1);
    app("INSERT INTO Artist (Name) VALUES ('old lineage')");
    shipper.ship();
    app("INSERT INTO Artist (Name) VALUES ('old lineage 2')");
    shipper.ship();
    awaitTxid(3);
    // The operator deletes the database from the bucket and ships a different file under its name.
    for (var o : store.listAll("chinook/", null)) {
      store.delete(o.key());
    }
    Path other = ServerFixture.chinookCopy(Files.createDirectories(tmp.resolve("other")));
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + other); Statement s = c.createStatement()) {
      s.execute("INSERT INTO Artist (Name) VALUES ('new lineage')");
    }
    try (ReferenceShipper replacement =
        new ReferenceShipper(store, "chinook", other, Files.createDirectories(tmp.resolve("spool2")))) {
      replacement.init();
    }
    Follower f = agent.follower("chinook").orElseThrow();
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      HranaJson.Answer a = client.query("SELECT count(*) FROM Artist WHERE Name = 'new lineage'");
      return a.status() == 200 && a.integer(0, 0) == 1;
    });
    HranaJson.Answer a = client.query("SELECT count(*) FROM Artist WHERE Name LIKE 'old lineage%'");
    assertEquals(0, a.integer(0, 0));
    assertEquals(1, a.txid(), "TXIDs start again with the new lineage");
    assertEquals("SERVING", f.status().state());
  }
}
