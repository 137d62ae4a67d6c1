package dev.walship.primary;

import dev.walship.format.BucketLayout;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStoreException;
import dev.walship.store.PreconditionFailedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploads finished segments of one database, strictly in TXID order, one at a time, each key with
 * putIfAbsent (a key is written once, ever).
 *
 * <ul>
 *   <li>Transient failures (and any other store failure) are retried forever with capped
 *       exponential backoff; the segment file stays in the spool directory meanwhile, so nothing
 *       captured is lost and memory stays bounded.
 *   <li>A {@link PreconditionFailedException} is "fenced" unless the existing object holds exactly
 *       our bytes (an earlier attempt landed but its answer was lost): the uploader stops, {@link
 *       #fenced()} says why, and nothing more is written for this database.
 *   <li>Before each segment the lease is renewed if due ({@link LeaseKeeper#ensureFresh()}).
 * </ul>
 *
 * <p>Thread-safe: {@link #submit} from the capture thread, {@link #run} on its own thread, {@link
 * #awaitDurable} from any thread.
 */
final class Uploader implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Uploader.class);

  /** Callbacks for metrics. */
  interface Listener {
    void uploaded(PendingSegment segment, String key, long bytes);

    void failed(PendingSegment segment, String key, RuntimeException error);
  }

  private final String db;
  private final ObjectStore store;
  private final LeaseKeeper lease;
  private final Listener listener;
  private final long maxBackoffMillis;

  private final Deque<PendingSegment> queue = new ArrayDeque<>();
  private PendingSegment inFlight;
  private long durableTxid;
  private long durableCommitMillis;
  private FencedException fenced;
  private boolean stopping;

  Uploader(String db, ObjectStore store, LeaseKeeper lease, Listener listener, long maxBackoffMillis) {
    this.db = db;
    this.store = store;
    this.lease = lease;
    this.listener = listener;
    this.maxBackoffMillis = maxBackoffMillis;
  }

  /** Sets the durable TXID at start-up (what the bucket already holds). */
  synchronized void startAt(long durableTxid) {
    this.durableTxid = durableTxid;
  }

  synchronized void submit(PendingSegment s) {
    if (fenced != null) {
      throw fenced;
    }
    queue.addLast(s);
    notifyAll();
  }

  /** True if nothing is queued or in flight. */
  synchronized boolean idle() {
    return queue.isEmpty() && inFlight == null;
  }

  synchronized long durableTxid() {
    return durableTxid;
  }

  /** Capture time of the oldest commit not yet durable, or -1 if all are durable. */
  synchronized long oldestPendingCommitMillis() {
    if (inFlight != null) {
      return inFlight.firstCommitMillis();
    }
    return queue.isEmpty() ? -1 : queue.peekFirst().firstCommitMillis();
  }

  /** Files of the segments queued or in flight. */
  synchronized java.util.List<Path> pendingFiles() {
    java.util.List<Path> out = new java.util.ArrayList<>();
    if (inFlight != null) {
      out.add(inFlight.file());
    }
    for (PendingSegment s : queue) {
      if (s != inFlight) {
        out.add(s.file());
      }
    }
    return out;
  }

  /** Bytes waiting in the spool. */
  synchronized long pendingBytes() {
    long b = inFlight == null ? 0 : inFlight.bytes();
    for (PendingSegment s : queue) {
      b += s.bytes();
    }
    return b;
  }

  synchronized FencedException fenced() {
    return fenced;
  }

  /**
   * Blocks until TXID {@code txid} is durable, the uploader is fenced or stopped, or {@code
   * timeoutMillis} passed.
   *
   * @return true if durable
   */
  synchronized boolean awaitDurable(long txid, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    while (durableTxid < txid && fenced == null && !stopping) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000L));
    }
    return durableTxid >= txid;
  }

  /** Stops after the segment in flight (queued segments stay in the spool directory). */
  synchronized void stop() {
    stopping = true;
    notifyAll();
  }

  @Override
  public void run() {
    while (true) {
      PendingSegment s;
      synchronized (this) {
        while (queue.isEmpty() && !stopping) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (stopping) {
          return;
        }
        s = queue.peekFirst();
        inFlight = s;
      }
      try {
        upload(s);
      } catch (FencedException e) {
        log.error("{}: FENCED, stopping all writes for this database: {}", db, e.getMessage());
        synchronized (this) {
          fenced = e;
          inFlight = null;
          notifyAll();
        }
        return;
      } catch (InterruptedException e) {
        return;
      }
      synchronized (this) {
        queue.pollFirst();
        inFlight = null;
        durableTxid = s.lastTxid();
        durableCommitMillis = s.lastCommitMillis();
        notifyAll();
      }
      try {
        Files.deleteIfExists(s.file());
      } catch (IOException e) {
        log.warn("{}: cannot delete uploaded spool file {}: {}", db, s.file(), e.toString());
      }
    }
  }

  synchronized long durableCommitMillis() {
    return durableCommitMillis;
  }

  private void upload(PendingSegment s) throws InterruptedException {
    long backoff = 50;
    for (String key : s.keys()) {
      while (true) {
        try {
          attempt(s, key);
          break;
        } catch (FencedException e) {
          throw e;
        } catch (RuntimeException e) { // ObjectStoreException, I/O, or an SDK error it let through
          listener.failed(s, key, e);
          log.warn("{}: upload of {} failed ({}); retrying in {} ms, segment kept in {}",
              db, key, e.getMessage(), backoff, s.file());
          synchronized (this) {
            if (stopping) {
              throw new InterruptedException("stopping");
            }
            wait(backoff);
            if (stopping) {
              throw new InterruptedException("stopping");
            }
          }
          backoff = Math.min(maxBackoffMillis, backoff * 2);
        }
      }
    }
  }

  /** One try at creating {@code key}; a lost conditional write is fenced unless it was ours. */
  private void attempt(PendingSegment s, String key) {
    lease.ensureFresh();
    try {
      store.putIfAbsent(key, s.file());
      listener.uploaded(s, key, s.bytes());
    } catch (PreconditionFailedException e) {
      if (key.startsWith(BucketLayout.snapshotPrefix(db))) {
        // a snapshot of this lineage at this TXID exists already (same database state; level 0
        // keys, not snapshot keys, are what fences writers)
        log.info("{}: {} already exists; keeping it", db, key);
        return;
      }
      if (!sameBytes(key, s.file())) {
        throw new FencedException(
            "segment " + key + " (TXIDs " + s.firstTxid() + ".." + s.lastTxid()
                + ") already exists with other content: another primary writes this database");
      }
      listener.uploaded(s, key, 0); // an earlier attempt landed but its answer was lost
    }
  }

  private boolean sameBytes(String key, Path file) {
    Path tmp = null;
    try {
      tmp = Files.createTempFile(file.getParent(), "verify-", ".seg");
      return store.getToFile(key, tmp) && Files.mismatch(tmp, file) == -1;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // leftover temp file in the spool directory is harmless
        }
      }
    }
  }
}
