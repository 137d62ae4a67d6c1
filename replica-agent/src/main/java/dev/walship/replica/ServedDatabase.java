package dev.walship.replica;

import dev.walship.replica.hrana.ReadConnection;
import dev.walship.replica.hrana.ReadTarget;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;

/**
 * One replica database as the read server sees it: its file, the TXID its data is at, whether it
 * may be served, and a small pool of read-only connections.
 *
 * <p>The follower changes the file only inside {@link #applyLock()} (exclusive side) and publishes
 * the new TXID with {@link #published} before releasing it; readers hold the shared side while a
 * statement runs, so the TXID a reader reports is exactly the TXID of the data it read. The lock is
 * fair, so a waiting apply is not starved by a stream of readers.
 *
 * <p>Health: {@link Health.State#SERVING} (at the primary's state of {@link #txid()}), {@link
 * Health.State#STALLED} (still exactly the primary at {@link #txid()}, but not advancing: a gap, a
 * corrupt object, a checksum mismatch refused before any page was written; answers carry the
 * reason), {@link Health.State#UNAVAILABLE} (never served: bootstrapping, repairing after a crash,
 * or a file that may differ from the primary).
 *
 * <p>Thread-safe.
 */
public final class ServedDatabase implements ReadTarget, AutoCloseable {

  /** Whether and how the database is served. */
  public record Health(State state, String reason) {
    public enum State {
      SERVING,
      STALLED,
      UNAVAILABLE
    }

    static Health serving() {
      return new Health(State.SERVING, null);
    }
  }

  private final String name;
  private final Path file;
  private final int busyTimeoutMillis;
  private final LongSupplier nanoTime;
  private final BlockingQueue<ReadConnection> idle;
  private final AtomicInteger open = new AtomicInteger();
  private final int maxConnections;
  private final ReentrantReadWriteLock applyLock = new ReentrantReadWriteLock(true);
  private final ReentrantLock txidLock = new ReentrantLock();
  private final Condition txidAdvanced = txidLock.newCondition();
  private volatile long txid;
  private volatile long commitTimeMillis;
  private volatile Health health = new Health(Health.State.UNAVAILABLE, "starting");
  private volatile boolean closed;

  /**
   * @param name database name (bucket prefix)
   * @param file replica file
   * @param maxConnections read connections kept at most (idle ones are reused)
   * @param busyTimeout how long a read waits for SQLite's lock while an apply runs
   * @param nanoTime monotonic clock for statement deadlines
   */
  public ServedDatabase(
      String name, Path file, int maxConnections, Duration busyTimeout, LongSupplier nanoTime) {
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be >= 1, got " + maxConnections);
    }
    this.name = Objects.requireNonNull(name);
    this.file = Objects.requireNonNull(file);
    this.maxConnections = maxConnections;
    this.busyTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, busyTimeout.toMillis());
    this.nanoTime = nanoTime;
    this.idle = new ArrayBlockingQueue<>(maxConnections);
  }

  @Override
  public String name() {
    return name;
  }

  public Path file() {
    return file;
  }

  @Override
  public long txid() {
    return txid;
  }

  /** Commit time on the primary of {@link #txid()}, ms since the epoch (0 if unknown). */
  public long commitTimeMillis() {
    return commitTimeMillis;
  }

  public Health health() {
    return health;
  }

  /** Sets the health; {@link Health.State#UNAVAILABLE} also closes idle connections. */
  public void health(Health.State state, String reason) {
    this.health = new Health(state, reason);
    if (state == Health.State.UNAVAILABLE) {
      drainIdle();
    }
  }

  /**
   * The follower's lock: hold {@code applyLock().writeLock()} while changing the file and
   * publishing its TXID.
   */
  public ReentrantReadWriteLock applyLock() {
    return applyLock;
  }

  /**
   * Records that the file now holds the primary's data at {@code newTxid}; wakes {@link
   * #awaitTxid} callers. Call while holding the write side of {@link #applyLock()}.
   *
   * @throws IllegalArgumentException if {@code newTxid} is lower than the current TXID (TXIDs only
   *     grow on one replica)
   */
  public void published(long newTxid, long newCommitTimeMillis) {
    txidLock.lock();
    try {
      if (newTxid < txid) {
        throw new IllegalArgumentException(
            "database " + name + ": TXID may not go backwards, " + txid + " -> " + newTxid);
      }
      txid = newTxid;
      commitTimeMillis = newCommitTimeMillis;
      health = Health.serving();
      txidAdvanced.signalAll();
    } finally {
      txidLock.unlock();
    }
  }

  /**
   * Forgets the TXID: the database was replaced by a new lineage whose TXIDs start again at 1
   * (monotonic TXIDs hold within one lineage). Call while holding the write side of {@link
   * #applyLock()}, with the database UNAVAILABLE.
   */
  public void newLineage() {
    txidLock.lock();
    try {
      txid = 0;
      commitTimeMillis = 0;
    } finally {
      txidLock.unlock();
    }
  }

  /**
   * Waits until {@link #txid()} reaches {@code minTxid}.
   *
   * @return true if it did within {@code timeout}
   */
  public boolean awaitTxid(long minTxid, Duration timeout) throws InterruptedException {
    if (txid >= minTxid) {
      return true;
    }
    long remaining = timeout.toNanos();
    txidLock.lock();
    try {
      while (txid < minTxid) {
        if (remaining <= 0) {
          return false;
        }
        remaining = txidAdvanced.awaitNanos(remaining);
      }
      return true;
    } finally {
      txidLock.unlock();
    }
  }

  @Override
  public Lock readLock() {
    return applyLock.readLock();
  }

  @Override
  public ReadConnection borrow() throws SQLException {
    if (closed) {
      throw new SQLException("database " + name + " is closed");
    }
    ReadConnection c = idle.poll();
    if (c != null) {
      return c;
    }
    synchronized (this) {
      if (open.incrementAndGet() <= maxConnections) {
        try {
          return ReadConnection.open(file, busyTimeoutMillis, nanoTime);
        } catch (SQLException | RuntimeException e) {
          open.decrementAndGet();
          throw e;
        }
      }
      open.decrementAndGet();
    }
    try {
      c = idle.poll(busyTimeoutMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for a connection to " + name, e);
    }
    if (c == null) {
      throw new SQLException(
          "all " + maxConnections + " read connections of " + name + " are busy");
    }
    return c;
  }

  @Override
  public void release(ReadConnection connection, boolean reusable) {
    if (reusable && !closed && health.state() != Health.State.UNAVAILABLE && idle.offer(connection)) {
      return;
    }
    connection.close();
    closedOne();
  }

  private void closedOne() {
    if (open.decrementAndGet() == 0) {
      txidLock.lock();
      try {
        txidAdvanced.signalAll();
      } finally {
        txidLock.unlock();
      }
    }
  }

  /**
   * After {@link #close()}: waits until every borrowed connection has been returned and closed, so
   * the file may be replaced.
   *
   * @return true if none is open any more
   */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    drainIdle();
    long remaining = timeout.toNanos();
    txidLock.lock();
    try {
      while (open.get() > 0) {
        if (remaining <= 0) {
          return false;
        }
        remaining = txidAdvanced.awaitNanos(remaining);
      }
      return true;
    } finally {
      txidLock.unlock();
    }
  }

  /** Serves connections again after {@link #close()} (the file was replaced). */
  public void reopen() {
    closed = false;
  }

  /** Read connections currently open (idle or in use). */
  public int openConnections() {
    return open.get();
  }

  /**
   * Closes the idle connections and, if none is in use, runs {@code action} while no new one can
   * be opened (e.g. closing the applier, whose file descriptor must not close under a reader).
   *
   * @return whether {@code action} ran
   */
  public synchronized boolean whenNoConnections(Runnable action) {
    drainIdle();
    if (open.get() > 0) {
      return false;
    }
    action.run();
    return true;
  }

  /** Closes the idle read connections (the database has not been read for a while). */
  public void closeIdleConnections() {
    drainIdle();
  }

  private void drainIdle() {
    ReadConnection c;
    while ((c = idle.poll()) != null) {
      c.close();
      closedOne();
    }
  }

  @Override
  public void close() {
    closed = true;
    drainIdle();
  }
}
