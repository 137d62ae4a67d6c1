package dev.walship.replica;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.walship.format.BucketLayout;
import dev.walship.replica.hrana.HranaStreams;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStoreException;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running replica: one {@link Follower} per database (named, or discovered under the source
 * prefix), the read server in front of them, and a bounded Caffeine cache of the databases whose
 * read connections are open (opened on demand by a request, idle ones closed), so the memory of a
 * replica of thousands of databases stays flat.
 *
 * <p>The clock, executors and meter registry are passed in. {@link #start()} starts every
 * follower (repairing interrupted applies before anything is served), then the HTTP server.
 *
 * <p>Thread-safe.
 */
public final class ReplicaAgent implements DatabaseCatalog, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaAgent.class);

  private final ReplicaConfig config;
  private final ObjectStore store;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService httpExecutor;
  private final MeterRegistry registry;
  private final LongSupplier nanoTime;
  private final HranaStreams streams;
  private final Map<String, Follower> followers = new ConcurrentHashMap<>();
  private final Map<String, ScheduledFuture<?>> polls = new ConcurrentHashMap<>();
  private final Cache<String, Follower> openHandles;
  private ReplicaHttpServer server;
  private ScheduledFuture<?> discovery;
  private ScheduledFuture<?> sweeper;
  private volatile boolean closed;

  /**
   * @param store the bucket at the source prefix (closed by {@link #close()})
   * @param scheduler runs polls, discovery and the stream sweeper (a few threads suffice)
   * @param httpExecutor runs HTTP requests; its bound is the server's concurrency
   */
  public ReplicaAgent(
      ReplicaConfig config,
      ObjectStore store,
      Clock clock,
      ScheduledExecutorService scheduler,
      ExecutorService httpExecutor,
      MeterRegistry registry,
      LongSupplier nanoTime) {
    this.config = config;
    this.store = store;
    this.clock = clock;
    this.scheduler = scheduler;
    this.httpExecutor = httpExecutor;
    this.registry = registry;
    this.nanoTime = nanoTime;
    this.streams = new HranaStreams(config.limits(), nanoTime, new SecureRandom());
    this.openHandles =
        Caffeine.newBuilder()
            .maximumSize(config.maxOpenDatabases())
            .expireAfterAccess(Duration.ofMinutes(1).plus(config.limits().streamIdleTimeout()))
            .executor(scheduler)
            .removalListener(
                (String name, Follower f, RemovalCause cause) -> {
                  if (f != null && cause.wasEvicted()) {
                    release(f);
                  }
                })
            .build();
  }

  /** Starts following and serving; returns once the HTTP server listens. */
  public ReplicaAgent start() throws IOException {
    List<String> names = config.databases().isEmpty() ? discover() : config.databases();
    for (String db : names) {
      follow(db);
    }
    server =
        ReplicaHttpServer.start(
            config.listen(), this, streams, httpExecutor, config.minTxidTimeout(), registry);
    if (config.databases().isEmpty()) {
      long every = config.discoveryInterval().toMillis();
      discovery =
          scheduler.scheduleWithFixedDelay(this::discoverNew, every, every, TimeUnit.MILLISECONDS);
    }
    sweeper = scheduler.scheduleWithFixedDelay(streams::sweep, 1, 1, TimeUnit.SECONDS);
    return this;
  }

  public int port() {
    return server.port();
  }

  public HranaStreams streams() {
    return streams;
  }

  /** The follower of {@code db}, if followed. */
  public Optional<Follower> follower(String db) {
    return Optional.ofNullable(followers.get(db));
  }

  private synchronized void follow(String db) {
    if (followers.containsKey(db)) {
      return;
    }
    Follower f =
        new Follower(
            db,
            store,
            config.dir(),
            new Follower.Settings(
                config.pollInterval(),
                config.gapCheckInterval(),
                config.autoRebootstrap(),
                config.readConnections(),
                Duration.ofSeconds(30),
                16),
            clock,
            streams,
            registry,
            nanoTime);
    followers.put(db, f);
    f.start();
    openHandles.put(db, f);
    schedulePoll(f, Math.max(1, config.pollInterval().toMillis()));
    LOG.info("following {} (TXID {}, {})", db, f.served().txid(), f.served().health().state());
  }

  /** Closes an evicted database's applier and read connections; in use: keep it for later. */
  private void release(Follower f) {
    boolean released;
    synchronized (f) {
      released = f.releaseHandles();
    }
    if (!released && followers.get(f.name()) == f) {
      openHandles.put(f.name(), f);
    }
  }

  /** Followers whose files are open now (the cache's bound applies, give or take evictions in flight). */
  public long openDatabases() {
    openHandles.cleanUp();
    return followers.values().stream().filter(Follower::handlesOpen).count();
  }

  /**
   * Polls {@code f} after {@code delayMillis}, then again after the delay the follower asks for
   * ({@link Follower#nextPollDelay()}: shorter for a while after a segment arrived).
   */
  private void schedulePoll(Follower f, long delayMillis) {
    synchronized (polls) {
      if (closed || followers.get(f.name()) != f) {
        return;
      }
      try {
        polls.put(
            f.name(),
            scheduler.schedule(
                () -> {
                  if (!closed) {
                    pollSafely(f);
                    schedulePoll(f, f.nextPollDelay().toMillis());
                  }
                },
                delayMillis,
                TimeUnit.MILLISECONDS));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        LOG.debug("{}: not polled any more: the scheduler is shut down", f.name());
      }
    }
  }

  private void pollSafely(Follower f) {
    try {
      Follower.PollResult r;
      synchronized (f) {
        if (closed) {
          return;
        }
        r = f.poll();
      }
      if (r == Follower.PollResult.APPLIED) {
        openHandles.put(f.name(), f);
      }
    } catch (RuntimeException e) {
      // A bug or an unexpected store failure must not cancel the schedule: say what stopped.
      LOG.error("{}: poll failed unexpectedly; will retry", f.name(), e);
    }
  }

  /**
   * Databases under the prefix: one LIST per database, skipping past each one's keys with {@code
   * start-after} {@code db + "0"} ('0' is the character right after '/', so every {@code db/...}
   * key sorts before it), keeping those with a {@code lineage.json}.
   */
  List<String> discover() {
    List<String> found = new ArrayList<>();
    String after = null;
    while (true) {
      List<ObjectInfo> page = store.list("", after, 1);
      if (page.isEmpty()) {
        break;
      }
      String key = page.get(0).key();
      int slash = key.indexOf('/');
      if (slash <= 0) {
        after = key;
        continue;
      }
      String db = key.substring(0, slash);
      if (store.head(BucketLayout.lineageKey(db)).isPresent()) {
        found.add(db);
      }
      after = db + "0";
    }
    LOG.info("discovered {} database(s) under {}", found.size(), store.describe());
    return found;
  }

  private void discoverNew() {
    try {
      for (String db : discover()) {
        follow(db);
      }
    } catch (ObjectStoreException e) {
      LOG.warn("database discovery failed, will retry: {}", e.getMessage());
    }
  }

  @Override
  public Optional<ServedDatabase> find(String name) {
    Follower f = followers.get(name);
    if (f == null) {
      return Optional.empty();
    }
    openHandles.get(name, n -> f);
    return Optional.of(f.served());
  }

  @Override
  public Optional<String> defaultDatabase() {
    if (config.defaultDatabase() != null) {
      return Optional.of(config.defaultDatabase());
    }
    if (followers.size() == 1) {
      return Optional.of(followers.keySet().iterator().next());
    }
    return Optional.empty();
  }

  @Override
  public List<DatabaseStatus> status() {
    return followers.values().stream()
        .map(Follower::status)
        .sorted(Comparator.comparing(DatabaseStatus::name))
        .toList();
  }

  /** Object store requests made by every follower so far. */
  public double storeRequests() {
    return followers.values().stream().mapToDouble(Follower::storeRequests).sum();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    if (discovery != null) {
      discovery.cancel(false);
    }
    if (sweeper != null) {
      sweeper.cancel(false);
    }
    synchronized (polls) {
      closed = true;
      polls.values().forEach(p -> p.cancel(false));
    }
    streams.close();
    for (Follower f : followers.values()) {
      synchronized (f) {
        f.close();
      }
    }
    store.close();
  }

  /** The directory replica files live in. */
  public Path dir() {
    return config.dir();
  }
}
