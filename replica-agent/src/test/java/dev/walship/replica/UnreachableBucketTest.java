package dev.walship.replica;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.replica.hrana.HranaLimits;
import dev.walship.replica.testing.ReferenceShipper;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStoreException;
import dev.walship.store.StoredObject;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bucket is unreachable while the replica bootstraps and later while it follows: the database
 * is unavailable (503 naming the cause), then stalled at its last good TXID, and it recovers by
 * itself when the bucket answers again.
 */
class UnreachableBucketTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();

  @TempDir Path tmp;

  /** A store that fails every request while {@code down} is set (like a network partition). */
  static final class SwitchableStore implements ObjectStore {
    final ObjectStore delegate;
    volatile boolean down;

    SwitchableStore(ObjectStore delegate) {
      this.delegate = delegate;
    }

    private void check() {
      if (down) {
        throw new ObjectStoreException("bucket unreachable (test)", true, null);
      }
    }

    @Override public String put(String key, byte[] data) { check(); return delegate.put(key, data); }
    @Override public String put(String key, Path file) { check(); return delegate.put(key, file); }
    @Override public String putIfAbsent(String key, byte[] data) { check(); return delegate.putIfAbsent(key, data); }
    @Override public String putIfAbsent(String key, Path file) { check(); return delegate.putIfAbsent(key, file); }
    @Override public String putIfMatch(String key, byte[] data, String etag) { check(); return delegate.putIfMatch(key, data, etag); }
    @Override public Optional<StoredObject> get(String key) { check(); return delegate.get(key); }
    @Override public Optional<byte[]> getRange(String key, long offset, long length) { check(); return delegate.getRange(key, offset, length); }
    @Override public Optional<java.io.InputStream> getStream(String key) { check(); return delegate.getStream(key); }
    @Override public boolean getToFile(String key, Path destination) { check(); return delegate.getToFile(key, destination); }
    @Override public Optional<ObjectInfo> head(String key) { check(); return delegate.head(key); }
    @Override public List<ObjectInfo> list(String prefix, String startAfter, int maxKeys) { check(); return delegate.list(prefix, startAfter, maxKeys); }
    @Override public void delete(String key) { check(); delegate.delete(key); }
    @Override public void deleteAll(Collection<String> keys) { check(); delegate.deleteAll(keys); }
    @Override public String describe() { return delegate.describe(); }
    @Override public void close() { delegate.close(); }
  }

  @Test
  void recoversByItselfWhenTheBucketAnswersAgain() throws Exception {
    ObjectStore store = S3.openFresh();
    String prefix = store.describe().replaceAll("^s3://[^/]+/", "").replaceAll("[ (?].*$", "");
    Path app = ServerFixture.chinookCopy(Files.createDirectories(tmp.resolve("app")));
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    ExecutorService http = Executors.newFixedThreadPool(4);
    SwitchableStore replicaStore = new SwitchableStore(S3.open(prefix));
    replicaStore.down = true;
    try (ReferenceShipper shipper = new ReferenceShipper(store, "chinook", app, Files.createDirectories(tmp.resolve("spool")))) {
      shipper.init();
      ReplicaConfig config =
          ReplicaConfig.of("unused", tmp.resolve("replica"))
              .withListen(new InetSocketAddress("127.0.0.1", 0))
              .withDatabases(List.of("chinook"), "chinook")
              .withPolling(Duration.ofMillis(20), Duration.ofSeconds(5), false)
              .withReads(Duration.ofMillis(200), HranaLimits.defaults());
      try (ReplicaAgent agent =
          new ReplicaAgent(config, replicaStore, Clock.systemUTC(), scheduler, http,
                  new SimpleMeterRegistry(), System::nanoTime)
              .start()) {
        HranaJson client = new HranaJson("http://127.0.0.1:" + agent.port());
        HranaJson.Answer a = client.query("SELECT 1");
        assertEquals(503, a.status());
        assertEquals("REPLICA_UNAVAILABLE", a.body().path("code").asText());
        assertTrue(a.body().path("message").asText().contains("unreachable"), a.body().toString());

        replicaStore.down = false;
        Follower f = agent.follower("chinook").orElseThrow();
        await().atMost(Duration.ofSeconds(30)).until(() -> f.served().txid() == 1);
        assertEquals(200, client.query("SELECT count(*) FROM Track").status());

        replicaStore.down = true;
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + app); var s = c.createStatement()) {
          s.execute("INSERT INTO Genre (Name) VALUES ('while down')");
        }
        shipper.ship();
        await().atMost(Duration.ofSeconds(20)).until(() -> f.status().lastError() != null);
        a = client.query("SELECT count(*) FROM Genre WHERE Name = 'while down'");
        assertEquals(200, a.status(), "still served at its last good TXID");
        assertEquals(0, a.integer(0, 0));
        assertEquals(1, a.txid());

        replicaStore.down = false;
        await().atMost(Duration.ofSeconds(20)).until(() -> f.served().txid() == 2);
        assertEquals(1, client.query("SELECT count(*) FROM Genre WHERE Name = 'while down'").integer(0, 0));
        assertEquals("SERVING", f.status().state());
      }
    } finally {
      scheduler.shutdownNow();
      http.shutdownNow();
      store.close();
    }
  }
}
