package dev.walship.cli;

import dev.walship.demo.AppLog;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches a {@link LocalCluster} every {@code periodMicros}: when the primary captured and made
 * durable each TXID, and when each replica served it. Afterwards, with the app's commit log, gives
 * commit-to-durable and commit-to-visible latencies (sampling adds up to one period).
 */
final class ClusterSampler implements AutoCloseable {
  final TxidTimes captured = new TxidTimes();
  final TxidTimes durable = new TxidTimes();
  final List<TxidTimes> replicas = new ArrayList<>();
  private final LocalCluster cluster;
  private final long periodNanos;
  private final Thread thread;
  private volatile boolean running = true;

  ClusterSampler(LocalCluster cluster, long periodMicros) {
    this.cluster = cluster;
    this.periodNanos = TimeUnit.MICROSECONDS.toNanos(periodMicros);
    for (int i = 0; i < cluster.regions().size(); i++) {
      replicas.add(new TxidTimes());
    }
    thread = Thread.ofPlatform().name("walship-sampler").daemon(true).start(this::run);
  }

  private void run() {
    List<LocalCluster.Region> regions = cluster.regions();
    while (running) {
      long now = TxidTimes.nowMicros();
      try {
        captured.observe(cluster.database().capturedTxid(), now);
        durable.observe(cluster.database().durableTxid(), now);
      } catch (RuntimeException e) {
        // the primary is stopping; replicas are still sampled
      }
      for (int i = 0; i < regions.size(); i++) {
        replicas.get(i).observe(regions.get(i).follower(cluster.db()).served().txid(), now);
      }
      LockSupport.parkNanos(periodNanos);
    }
  }

  /**
   * Milliseconds from each app commit (its {@code afterMicros}) to the moment {@code times} reached
   * its TXID ({@code base + seq}); commits never reached are left out.
   */
  static long[] latenciesMicros(List<AppLog.Entry> log, long base, TxidTimes times) {
    long[] out = new long[log.size()];
    int n = 0;
    for (AppLog.Entry e : log) {
      long at = times.micros(base + e.seq());
      if (at >= 0) {
        out[n++] = Math.max(0, at - e.afterMicros());
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** p50, p99 and max of latencies, in milliseconds. */
  record Stats(int count, double p50, double p99, double max) {
    static Stats of(long[] micros) {
      if (micros.length == 0) {
        return new Stats(0, Double.NaN, Double.NaN, Double.NaN);
      }
      long[] s = micros.clone();
      Arrays.sort(s);
      return new Stats(s.length, pct(s, 0.50) / 1000.0, pct(s, 0.99) / 1000.0, s[s.length - 1] / 1000.0);
    }

    private static long pct(long[] sorted, double p) {
      int i = (int) Math.ceil(p * sorted.length) - 1;
      return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    @Override
    public String toString() {
      return count == 0 ? "n/a"
          : String.format(Locale.ROOT, "p50 %.1f ms, p99 %.1f ms, max %.1f ms", p50, p99, max);
    }
  }

  /**
   * Waits until the sampler has recorded {@code txid} as durable and as served by every replica
   * that serves it by now, at most {@code timeoutMillis}; polls at the sampling period.
   */
  void awaitSampled(long txid, long timeoutMillis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    List<LocalCluster.Region> regions = cluster.regions();
    while (System.nanoTime() < deadline && !sampled(txid, regions)) {
      LockSupport.parkNanos(periodNanos);
    }
  }

  private boolean sampled(long txid, List<LocalCluster.Region> regions) {
    if (durable.last() < txid) {
      return false;
    }
    for (int i = 0; i < regions.size(); i++) {
      long served = regions.get(i).follower(cluster.db()).served().txid();
      if (replicas.get(i).last() < Math.min(txid, served)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    running = false;
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
