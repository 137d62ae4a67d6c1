package dev.walship.replica.hrana;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * The server side of Hrana batons: streams that must outlive a request (an open transaction or
 * stored SQL texts) are parked here under a fresh, random, unguessable baton after every request.
 * A stream with no state is never parked: its response carries a "stateless" baton (prefix
 * {@code a.}) that simply opens a new stream, so autocommit clients cost no server memory.
 *
 * <p>A request takes its stream out of the table (so two requests can never use one stream at the
 * same time) and parks it again under a new baton. {@link #sweep()} closes streams idle longer than
 * {@link HranaLimits#streamIdleTimeout()} (rolling back their transaction).
 *
 * <p>Thread-safe.
 */
public final class HranaStreams implements AutoCloseable {
  private static final String STATELESS = "a.";
  private static final String STATEFUL = "s.";

  private final HranaLimits limits;
  private final LongSupplier nanoTime;
  private final RandomGenerator random;
  private final Map<String, HranaStream> parked = new ConcurrentHashMap<>();

  /**
   * @param limits stream idle timeout and count
   * @param nanoTime monotonic clock
   * @param random source of batons; pass a {@link java.security.SecureRandom} in production
   */
  public HranaStreams(HranaLimits limits, LongSupplier nanoTime, RandomGenerator random) {
    this.limits = limits;
    this.nanoTime = nanoTime;
    this.random = random;
  }

  public HranaLimits limits() {
    return limits;
  }

  LongSupplier nanoTime() {
    return nanoTime;
  }

  /** Number of parked (stateful) streams. */
  public int size() {
    return parked.size();
  }

  /**
   * The stream a request continues: a new one for a null or stateless baton, else the parked one.
   *
   * @throws StreamNotFoundException if the baton is unknown, expired or belongs to another
   *     database
   */
  HranaStream take(String baton, ReadTarget target) {
    if (baton == null || baton.startsWith(STATELESS)) {
      return new HranaStream(target, limits, nanoTime);
    }
    HranaStream s = parked.remove(baton);
    if (s == null) {
      throw new StreamNotFoundException(
          "the stream of this baton is unknown or expired (idle streams close after "
              + limits.streamIdleTimeout().toMillis()
              + " ms); open a new stream");
    }
    if (s.target() != target) {
      s.close();
      throw new StreamNotFoundException("the baton belongs to another database");
    }
    return s;
  }

  /**
   * Parks {@code stream} after a request and returns the baton for the response: null if it is
   * closed, a stateless baton if it holds nothing.
   *
   * @throws StreamNotFoundException if the table is full (the stream is closed)
   */
  String park(HranaStream stream) {
    if (stream.closed()) {
      return null;
    }
    if (!stream.stateful()) {
      return STATELESS + token();
    }
    if (parked.size() >= limits.maxStreams()) {
      sweep();
      if (parked.size() >= limits.maxStreams()) {
        stream.close();
        throw new StreamNotFoundException(
            "too many open streams (" + limits.maxStreams() + "); the transaction was rolled back");
      }
    }
    String baton = STATEFUL + token();
    parked.put(baton, stream);
    return baton;
  }

  /** Closes every stream idle longer than the limit; returns how many. */
  public int sweep() {
    long now = nanoTime.getAsLong();
    long idle = limits.streamIdleTimeout().toNanos();
    List<String> expired = new ArrayList<>();
    parked.forEach(
        (baton, s) -> {
          if (now - s.lastUsedNanos() > idle) {
            expired.add(baton);
          }
        });
    int closed = 0;
    for (String baton : expired) {
      HranaStream s = parked.remove(baton);
      if (s != null) {
        s.close();
        closed++;
      }
    }
    return closed;
  }

  /** Closes every stream of {@code target} (the database is going away or failed). */
  public void closeAll(ReadTarget target) {
    for (String baton : List.copyOf(parked.keySet())) {
      HranaStream s = parked.get(baton);
      if (s != null && s.target() == target && parked.remove(baton, s)) {
        s.close();
      }
    }
  }

  @Override
  public void close() {
    for (String baton : List.copyOf(parked.keySet())) {
      HranaStream s = parked.remove(baton);
      if (s != null) {
        s.close();
      }
    }
  }

  private String token() {
    byte[] b = new byte[18];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** A baton that no longer names a stream: HTTP 400, the client opens a new stream. */
  public static final class StreamNotFoundException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StreamNotFoundException(String message) {
      super(message);
    }
  }
}
