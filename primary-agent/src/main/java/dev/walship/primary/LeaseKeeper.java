package dev.walship.primary;

import dev.walship.format.BucketLayout;
import dev.walship.format.Lease;
import dev.walship.store.ObjectStore;
import dev.walship.store.PreconditionFailedException;
import dev.walship.store.StoredObject;
import java.time.InstantSource;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds {@code {db}/lease.json} for this agent (HELPERS decision 5).
 *
 * <ul>
 *   <li>{@link #acquire()}: creates the lease with putIfAbsent; if one exists, takes it over with
 *       putIfMatch only if it expired, was released, or its holder is a process on this host that
 *       no longer runs (an agent killed and restarted); otherwise refuses, naming the holder.
 *   <li>{@link #ensureFresh()}: called before every upload; renews with putIfMatch (ETag) once the
 *       last renewal is older than {@code renewMillis}. An idle database therefore makes no lease
 *       request; its lease simply lapses after {@code ttlMillis}, and the next upload renews it —
 *       or finds it taken over and stops (fenced).
 *   <li>{@link #release()}: on clean shutdown, marks the lease expired so a successor starts at
 *       once.
 * </ul>
 *
 * <p>Thread-safe (synchronized): the uploader renews, the owner releases.
 */
final class LeaseKeeper {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  private final ObjectStore store;
  private final String key;
  private final String holder;
  private final InstantSource clock;
  private final long ttlMillis;
  private final long renewMillis;
  private String etag;
  private long acquiredMs;
  private long renewedMs;

  LeaseKeeper(
      ObjectStore store,
      String db,
      String holder,
      InstantSource clock,
      long ttlMillis,
      long renewMillis) {
    this.store = store;
    this.key = BucketLayout.leaseKey(db);
    this.holder = holder;
    this.clock = clock;
    this.ttlMillis = ttlMillis;
    this.renewMillis = renewMillis;
  }

  String holder() {
    return holder;
  }

  /**
   * @throws LeaseHeldException if another live agent holds the lease
   */
  synchronized void acquire() {
    for (int attempt = 0; attempt < 5; attempt++) {
      long now = clock.millis();
      Lease mine = Lease.acquire(holder, now, ttlMillis);
      Optional<StoredObject> cur = store.get(key);
      try {
        if (cur.isEmpty()) {
          etag = store.putIfAbsent(key, mine.toJson());
        } else {
          Lease other = Lease.fromJson(cur.get().data(), key);
          if (!other.holder().equals(holder) && !takeable(other, now)) {
            throw new LeaseHeldException(
                "another primary holds " + key + ": holder " + other.holder()
                    + ", lease expires in " + Math.max(0, other.expiresMs() - now) / 1000
                    + " s (renewed while it writes). Stop that agent, or wait for its lease to"
                    + " expire.");
          }
          etag = store.putIfMatch(key, mine.toJson(), cur.get().etag());
          log.info("took over lease {} from {}", key, other.holder());
        }
        acquiredMs = now;
        renewedMs = now;
        return;
      } catch (PreconditionFailedException raced) {
        // someone wrote the lease between our read and write: look again
      }
    }
    throw new LeaseHeldException("could not acquire " + key + ": other agents keep changing it");
  }

  private boolean takeable(Lease other, long now) {
    if (other.isExpiredAt(now)) {
      return true;
    }
    String[] parts = other.holder().split("/", 3);
    long pid;
    try {
      pid = parts.length == 3 ? Long.parseLong(parts[1]) : -1;
    } catch (NumberFormatException e) {
      pid = -1;
    }
    if (parts[0].equals(hostName()) && pid > 0 && pid != ProcessHandle.current().pid()) {
      return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }
    return false;
  }

  /**
   * Renews the lease if the last renewal is older than the renew interval.
   *
   * @throws FencedException if another agent took the lease
   */
  synchronized void ensureFresh() {
    long now = clock.millis();
    if (now - renewedMs < renewMillis) {
      return;
    }
    Lease renewed = new Lease(holder, acquiredMs, now, now + ttlMillis);
    try {
      etag = store.putIfMatch(key, renewed.toJson(), etag);
      renewedMs = now;
    } catch (PreconditionFailedException e) {
      Optional<StoredObject> cur = store.get(key);
      if (cur.isPresent() && Lease.fromJson(cur.get().data(), key).holder().equals(holder)) {
        etag = cur.get().etag(); // our earlier renewal landed but its answer was lost
        renewedMs = now;
        return;
      }
      String other = cur.map(o -> Lease.fromJson(o.data(), key).holder()).orElse("nobody");
      throw new FencedException(
          "lost the lease " + key + " to " + other + ": another primary writes this database now");
    }
  }

  /** Marks the lease expired (best effort). */
  synchronized void release() {
    long now = clock.millis();
    try {
      long at = Math.max(now, renewedMs);
      etag = store.putIfMatch(key, new Lease(holder, acquiredMs, at, at).toJson(), etag);
    } catch (RuntimeException e) {
      log.warn("could not release lease {}: {}", key, e.toString());
    }
  }

  static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }

  static String newHolderId() {
    return hostName() + "/" + ProcessHandle.current().pid() + "/" + java.util.UUID.randomUUID();
  }
}
