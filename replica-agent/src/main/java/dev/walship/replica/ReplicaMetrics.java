package dev.walship.replica;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The meters of one followed database, registered on the registry passed in (never a static
 * one). Names: {@code walship_replica_txid}, {@code walship_replication_lag_seconds}, {@code
 * walship_replica_apply_seconds}, {@code walship_replica_objects_fetched_total}, {@code
 * walship_replica_store_requests_total{op}}, {@code walship_replica_errors_total{kind}}, all tagged
 * {@code db}.
 *
 * <p>Thread-safe.
 */
final class ReplicaMetrics {
  private final MeterRegistry registry;
  private final String db;
  private final Timer apply;
  private final Timer fetch;
  private final Counter objectsFetched;
  private final Counter gets;
  private final Counter lists;
  private final Counter misses;

  <T> ReplicaMetrics(
      MeterRegistry registry,
      String db,
      T state,
      ToDoubleFunction<T> txid,
      ToDoubleFunction<T> lagSeconds) {
    this.registry = registry;
    this.db = db;
    Gauge.builder("walship_replica_txid", state, txid)
        .description("TXID the replica serves")
        .tag("db", db)
        .register(registry);
    Gauge.builder("walship_replication_lag_seconds", state, lagSeconds)
        .description("seconds the served data may be behind the primary (0 when caught up)")
        .tag("db", db)
        .register(registry);
    this.apply =
        Timer.builder("walship_replica_apply")
            .description("time to verify and apply one fetched segment")
            .tag("db", db)
            .register(registry);
    this.fetch =
        Timer.builder("walship_replica_fetch")
            .description("time of one GET of a segment (found or 404)")
            .tag("db", db)
            .register(registry);
    this.objectsFetched =
        Counter.builder("walship_replica_objects_fetched")
            .description("segments and snapshots downloaded")
            .tag("db", db)
            .register(registry);
    this.gets = store("get");
    this.lists = store("list");
    this.misses = store("get_404");
  }

  private Counter store(String op) {
    return Counter.builder("walship_replica_store_requests")
        .description("object store requests made by the follower")
        .tag("db", db)
        .tag("op", op)
        .register(registry);
  }

  void applied(long nanos) {
    apply.record(nanos, TimeUnit.NANOSECONDS);
  }

  void fetchTime(long nanos) {
    fetch.record(nanos, TimeUnit.NANOSECONDS);
  }

  void fetched() {
    objectsFetched.increment();
  }

  void get(boolean found) {
    gets.increment();
    if (!found) {
      misses.increment();
    }
  }

  void list() {
    lists.increment();
  }

  void error(String kind) {
    Counter.builder("walship_replica_errors")
        .description("apply and fetch failures, by kind")
        .tag("db", db)
        .tag("kind", kind)
        .register(registry)
        .increment();
  }

  double getCount() {
    return gets.count();
  }

  double listCount() {
    return lists.count();
  }
}
