package dev.walship.cli;

import dev.walship.primary.DatabaseAgent;
import dev.walship.primary.DatabaseOptions;
import dev.walship.primary.PrimaryAgent;
import dev.walship.replica.Follower;
import dev.walship.replica.ReplicaAgent;
import dev.walship.replica.ReplicaConfig;
import dev.walship.s3.BucketServer;
import dev.walship.s3.EmbeddedS3Server;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * walship on one machine, for {@code demo} and {@code bench}: the embedded S3 server, a primary
 * agent shipping one database, and replica agents in separate directories ("regions"), all in this
 * JVM, each reaching the bucket through its own {@link CountingObjectStore}. {@link #close()} stops
 * everything (idempotent, safe from a shutdown hook).
 */
final class LocalCluster implements AutoCloseable {
  /** One replica agent and what it owns. */
  record Region(String name, ReplicaAgent agent, CountingObjectStore store,
      ScheduledExecutorService scheduler, ExecutorService http) {
    /** The follower of the cluster's database. */
    Follower follower(String db) {
      return agent.follower(db).orElseThrow();
    }

    String url() {
      return "http://127.0.0.1:" + agent.port();
    }
  }

  private final BucketServer s3;
  private final boolean ownsS3;
  private final String db;
  private final String prefix;
  private final CountingObjectStore primaryStore;
  private final PrimaryAgent primary;
  private final List<Region> regions = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private boolean primaryClosed;

  private LocalCluster(BucketServer s3, boolean ownsS3, String prefix, String db,
      CountingObjectStore primaryStore, PrimaryAgent primary) {
    this.s3 = s3;
    this.ownsS3 = ownsS3;
    this.prefix = prefix;
    this.db = db;
    this.primaryStore = primaryStore;
    this.primary = primary;
  }

  /**
   * Starts S3 (if {@code s3} is null, a transient embedded server owned by the cluster) and the
   * primary agent on {@code dbFile} with {@code syncInterval} (0 = continuous), and waits until the
   * initial snapshot is durable.
   */
  static LocalCluster startPrimary(BucketServer s3, String prefix, Path dbFile,
      Duration syncInterval) throws InterruptedException {
    BucketServer server = s3 != null ? s3 : EmbeddedS3Server.builder().transientBackend().start();
    String url = server.targetUrl(prefix);
    DatabaseOptions options = DatabaseOptions.of(dbFile, url).withSyncInterval(syncInterval);
    CountingObjectStore store = new CountingObjectStore(ObjectStores.open(url, server.credentials()));
    PrimaryAgent agent = new PrimaryAgent(List.of(options), u -> store,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), InstantSource.system(), null);
    LocalCluster c = new LocalCluster(server, s3 == null, prefix, options.name(), store, agent);
    try {
      agent.start();
      if (!c.database().awaitDurable(1, 30_000)) {
        throw new IllegalStateException("the primary did not upload its first snapshot within 30 s: "
            + c.database().status());
      }
    } catch (RuntimeException | InterruptedException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** Starts a replica agent in {@code dir} polling every {@code poll}, serving on an ephemeral port. */
  Region addReplica(String name, Path dir, Duration poll) {
    ReplicaConfig config = ReplicaConfig.of(s3.targetUrl(prefix), dir)
        .withListen(new InetSocketAddress("127.0.0.1", 0))
        .withDatabases(List.of(db), db);
    config = config.withPolling(poll, config.gapCheckInterval(), false);
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, daemon("walship-" + name));
    ExecutorService http = Executors.newFixedThreadPool(4, daemon("walship-" + name + "-http"));
    CountingObjectStore store =
        new CountingObjectStore(ObjectStores.open(config.source(), s3.credentials()));
    ReplicaAgent agent = new ReplicaAgent(config, store, Clock.systemUTC(), scheduler, http,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), System::nanoTime);
    Region r = new Region(name, agent, store, scheduler, http);
    synchronized (this) {
      regions.add(r);
    }
    try {
      agent.start();
    } catch (IOException e) {
      throw new UncheckedIOException("replica " + name + " cannot start", e);
    }
    return r;
  }

  /** Opens a store on the cluster's prefix (the caller closes it). */
  ObjectStore openStore() {
    return ObjectStores.open(s3.targetUrl(prefix), s3.credentials());
  }

  BucketServer s3() {
    return s3;
  }

  String db() {
    return db;
  }

  DatabaseAgent database() {
    return primary.database(db).orElseThrow();
  }

  List<Region> regions() {
    return List.copyOf(regions);
  }

  CountingObjectStore.Counts primaryRequests() {
    return primaryStore.counts();
  }

  CountingObjectStore.Counts replicaRequests() {
    CountingObjectStore.Counts sum = CountingObjectStore.Counts.zero();
    for (Region r : regions()) {
      sum = sum.plus(r.store().counts());
    }
    return sum;
  }

  /** Stops the primary agent (drains what it captured first); the replicas keep running. */
  synchronized void closePrimary() {
    if (!primaryClosed) {
      primaryClosed = true;
      primary.close();
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (Region r : regions()) {
      try {
        r.agent().close();
      } finally {
        r.scheduler().shutdownNow();
        r.http().shutdownNow();
      }
    }
    closePrimary();
    if (ownsS3) {
      s3.close();
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return Thread.ofPlatform().name(name + "-", 0).daemon(true).factory();
  }
}
