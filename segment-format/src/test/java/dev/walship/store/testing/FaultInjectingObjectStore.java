package dev.walship.store.testing;

import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStoreException;
import dev.walship.store.RetryingObjectStore.Sleeper;
import dev.walship.store.StoredObject;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A test decorator that makes any {@link ObjectStore} misbehave the way networks and servers do,
 * deterministically: the same seed and the same sequence of calls inject the same faults (calls
 * from several threads draw from one shared {@link Random}, so their interleaving decides who gets
 * which fault).
 *
 * <p>Fault kinds, each drawn per call with its own probability:
 *
 * <ul>
 *   <li><b>retryable error</b>: the call is not made; a retryable {@link ObjectStoreException} (a
 *       503 or a reset connection) is thrown.
 *   <li><b>fatal error</b>: the call is not made; a non-retryable {@link ObjectStoreException} (403
 *       access denied) is thrown.
 *   <li><b>ambiguous write</b> (writes only): the call is made and succeeds, then a retryable error
 *       is thrown, as when a response is lost: the caller cannot know the write landed.
 *   <li><b>truncated read</b> (reads only): the call is made, but the body "breaks" after part of
 *       it and a retryable error is thrown; {@code getToFile} leaves its destination as it was;
 *       {@code getStream} opens, then its {@code read} throws an {@link IOException} after that
 *       part of the body.
 *   <li><b>slow call</b>: the {@link Sleeper} is asked to wait {@code slowCallDelay} first.
 * </ul>
 *
 * <p>{@link #failNext(int, boolean)} scripts the next failures exactly. {@link #injected()} lists
 * what was injected, for assertions. Thread-safe.
 */
public final class FaultInjectingObjectStore implements ObjectStore {

  /** What was injected into one call. */
  public enum Fault {
    RETRYABLE_ERROR,
    FATAL_ERROR,
    AMBIGUOUS_WRITE,
    TRUNCATED_READ,
    SLOW_CALL
  }

  /** One injected fault: the operation, the key (or prefix) and the kind. */
  public record Injection(String operation, String key, Fault fault) {}

  /** Configures a {@link FaultInjectingObjectStore}; every rate is a probability in [0, 1]. */
  public static final class Builder {
    private final ObjectStore delegate;
    private final long seed;
    private double retryableErrorRate;
    private double fatalErrorRate;
    private double ambiguousWriteRate;
    private double truncatedReadRate;
    private double slowCallRate;
    private Duration slowCallDelay = Duration.ofMillis(50);
    private Sleeper sleeper = Sleeper.REAL;

    private Builder(ObjectStore delegate, long seed) {
      this.delegate = Objects.requireNonNull(delegate, "delegate");
      this.seed = seed;
    }

    /** Calls that fail with a retryable error (503, reset) without reaching the delegate. */
    public Builder retryableErrorRate(double rate) {
      this.retryableErrorRate = rate(rate);
      return this;
    }

    /** Calls that fail with a non-retryable error (403) without reaching the delegate. */
    public Builder fatalErrorRate(double rate) {
      this.fatalErrorRate = rate(rate);
      return this;
    }

    /** Writes that land and then report a retryable failure (a lost response). */
    public Builder ambiguousWriteRate(double rate) {
      this.ambiguousWriteRate = rate(rate);
      return this;
    }

    /** Reads whose body breaks part-way: a retryable failure, destination untouched. */
    public Builder truncatedReadRate(double rate) {
      this.truncatedReadRate = rate(rate);
      return this;
    }

    /** A fraction of calls first wait {@code delay} on the sleeper. */
    public Builder slowCalls(double rate, Duration delay) {
      this.slowCallRate = rate(rate);
      this.slowCallDelay = Objects.requireNonNull(delay);
      return this;
    }

    /** Where slow calls wait; default real sleeping. */
    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper);
      return this;
    }

    /** The decorator; it closes the delegate when closed. */
    public FaultInjectingObjectStore build() {
      return new FaultInjectingObjectStore(this);
    }

    private static double rate(double rate) {
      if (!(rate >= 0 && rate <= 1)) {
        throw new IllegalArgumentException("a rate is a probability in [0, 1], got " + rate);
      }
      return rate;
    }
  }

  private final ObjectStore delegate;
  private final Builder config;
  private final Random random;
  private final Deque<Boolean> scripted = new ArrayDeque<>();
  private final List<Injection> injected = new ArrayList<>();
  private volatile boolean enabled = true;

  private FaultInjectingObjectStore(Builder config) {
    this.delegate = config.delegate;
    this.config = config;
    this.random = new Random(config.seed);
  }

  /** Starts configuring faults around {@code delegate}, drawn from {@code seed}. */
  public static Builder builder(ObjectStore delegate, long seed) {
    return new Builder(delegate, seed);
  }

  /**
   * The next {@code count} calls fail before reaching the delegate, retryable or not, regardless of
   * the rates.
   */
  public synchronized FaultInjectingObjectStore failNext(int count, boolean retryable) {
    for (int i = 0; i < count; i++) {
      scripted.add(retryable);
    }
    return this;
  }

  /** Turns random faults off (true) or back on (false); scripted faults still fire. */
  public FaultInjectingObjectStore quiet(boolean quiet) {
    this.enabled = !quiet;
    return this;
  }

  /** Every fault injected so far, in order. */
  public synchronized List<Injection> injected() {
    return List.copyOf(injected);
  }

  /** How many faults of {@code kind} were injected. */
  public synchronized long count(Fault kind) {
    return injected.stream().filter(i -> i.fault() == kind).count();
  }

  /** The decorated store. */
  public ObjectStore delegate() {
    return delegate;
  }

  // ------------------------------------------------------------------ decisions

  private enum Kind {
    READ,
    WRITE,
    OTHER
  }

  private record Decision(Fault fault, boolean slow, double fraction) {}

  private synchronized Decision decide(String op, String key, Kind kind) {
    Boolean script = scripted.poll();
    if (script != null) {
      Fault f = script ? Fault.RETRYABLE_ERROR : Fault.FATAL_ERROR;
      injected.add(new Injection(op, key, f));
      return new Decision(f, false, 0);
    }
    if (!enabled) {
      return new Decision(null, false, 0);
    }
    // Always draw the same number of values per call so one call's fault never shifts the next.
    double slowDraw = random.nextDouble();
    double faultDraw = random.nextDouble();
    double fraction = random.nextDouble();
    boolean slow = slowDraw < config.slowCallRate;
    if (slow) {
      injected.add(new Injection(op, key, Fault.SLOW_CALL));
    }
    Fault fault = null;
    double edge = config.retryableErrorRate;
    if (faultDraw < edge) {
      fault = Fault.RETRYABLE_ERROR;
    } else if (faultDraw < (edge += config.fatalErrorRate)) {
      fault = Fault.FATAL_ERROR;
    } else if (kind == Kind.WRITE && faultDraw < (edge += config.ambiguousWriteRate)) {
      fault = Fault.AMBIGUOUS_WRITE;
    } else if (kind == Kind.READ && faultDraw < edge + config.truncatedReadRate) {
      fault = Fault.TRUNCATED_READ;
    }
    if (fault != null) {
      injected.add(new Injection(op, key, fault));
    }
    return new Decision(fault, slow, fraction);
  }

  private <T> T call(String op, String key, Kind kind, Supplier<T> body) {
    Decision d = decide(op, key, kind);
    before(op, key, d);
    T result = body.get();
    if (d.fault() == Fault.AMBIGUOUS_WRITE) {
      throw new ObjectStoreException(
          op
              + " "
              + key
              + " failed: connection reset before the response (injected fault; the"
              + " write landed)",
          true,
          null);
    }
    if (d.fault() == Fault.TRUNCATED_READ) {
      throw new ObjectStoreException(
          op
              + " "
              + key
              + " failed: body ended early, "
              + (int) (d.fraction() * 100)
              + "% read (injected fault)",
          true,
          null);
    }
    return result;
  }

  /** Applies a slow call and the faults that keep the call from reaching the delegate. */
  private void before(String op, String key, Decision d) {
    if (d.slow()) {
      try {
        config.sleeper.sleep(config.slowCallDelay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ObjectStoreException(
            op + " " + key + ": interrupted (injected slow call)", true, e);
      }
    }
    if (d.fault() == Fault.RETRYABLE_ERROR) {
      throw new ObjectStoreException(
          op + " " + key + " failed: HTTP 503 SlowDown (injected fault)", true, null);
    }
    if (d.fault() == Fault.FATAL_ERROR) {
      throw new ObjectStoreException(
          op + " " + key + " failed: HTTP 403 AccessDenied (injected fault)", false, null);
    }
  }

  // ------------------------------------------------------------------ ObjectStore

  @Override
  public String put(String key, byte[] data) {
    return call("PUT", key, Kind.WRITE, () -> delegate.put(key, data));
  }

  @Override
  public String put(String key, Path file) {
    return call("PUT", key, Kind.WRITE, () -> delegate.put(key, file));
  }

  @Override
  public String putIfAbsent(String key, byte[] data) {
    return call("PUT If-None-Match", key, Kind.WRITE, () -> delegate.putIfAbsent(key, data));
  }

  @Override
  public String putIfAbsent(String key, Path file) {
    return call("PUT If-None-Match", key, Kind.WRITE, () -> delegate.putIfAbsent(key, file));
  }

  @Override
  public String putIfMatch(String key, byte[] data, String expectedEtag) {
    return call(
        "PUT If-Match", key, Kind.WRITE, () -> delegate.putIfMatch(key, data, expectedEtag));
  }

  @Override
  public Optional<StoredObject> get(String key) {
    return call("GET", key, Kind.READ, () -> delegate.get(key));
  }

  @Override
  public Optional<byte[]> getRange(String key, long offset, long length) {
    return call("GET range", key, Kind.READ, () -> delegate.getRange(key, offset, length));
  }

  @Override
  public boolean getToFile(String key, Path destination) {
    Decision d = decide("GET", key, Kind.READ);
    before("GET", key, d);
    if (d.fault() != Fault.TRUNCATED_READ) {
      return delegate.getToFile(key, destination);
    }
    // Truncated: the body breaks mid-way; the destination stays as it was (as the stores promise).
    try {
      Path scratch = Files.createTempFile("walship-truncated", ".part");
      try {
        delegate.getToFile(key, scratch);
      } finally {
        Files.deleteIfExists(scratch);
      }
    } catch (IOException e) {
      throw new ObjectStoreException("GET " + key + ": scratch file: " + e, false, e);
    }
    throw new ObjectStoreException(
        "GET "
            + key
            + " failed: body ended early, "
            + (int) (d.fraction() * 100)
            + "% read (injected fault)",
        true,
        null);
  }

  @Override
  public Optional<InputStream> getStream(String key) {
    Decision d = decide("GET", key, Kind.READ);
    before("GET", key, d);
    Optional<InputStream> opened = delegate.getStream(key);
    if (d.fault() != Fault.TRUNCATED_READ || opened.isEmpty()) {
      return opened;
    }
    long size = delegate.head(key).map(ObjectInfo::size).orElse(0L);
    long breakAt = (long) (d.fraction() * size);
    return Optional.of(new TruncatedStream(opened.get(), breakAt, key, d.fraction()));
  }

  /** A body that "breaks" after {@code breakAt} bytes: read throws instead of going on. */
  private static final class TruncatedStream extends FilterInputStream {
    private final long breakAt;
    private final String key;
    private final double fraction;
    private long read;

    TruncatedStream(InputStream in, long breakAt, String key, double fraction) {
      super(in);
      this.breakAt = breakAt;
      this.key = key;
      this.fraction = fraction;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (read >= breakAt) {
        throw new IOException("GET " + key + " failed: connection reset, "
            + (int) (fraction * 100) + "% read (injected fault)");
      }
      int n = in.read(b, off, (int) Math.min(len, breakAt - read));
      if (n > 0) {
        read += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] scratch = new byte[(int) Math.min(8192, Math.max(n, 1))];
      int r = read(scratch, 0, (int) Math.min(n, scratch.length));
      return Math.max(r, 0);
    }
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    return call("HEAD", key, Kind.OTHER, () -> delegate.head(key));
  }

  @Override
  public List<ObjectInfo> list(String prefix, String startAfter, int maxKeys) {
    return call("LIST", prefix, Kind.OTHER, () -> delegate.list(prefix, startAfter, maxKeys));
  }

  @Override
  public void delete(String key) {
    call(
        "DELETE",
        key,
        Kind.WRITE,
        () -> {
          delegate.delete(key);
          return null;
        });
  }

  @Override
  public void deleteAll(Collection<String> keys) {
    call(
        "DELETE",
        keys.size() + " keys",
        Kind.WRITE,
        () -> {
          delegate.deleteAll(keys);
          return null;
        });
  }

  @Override
  public String describe() {
    return delegate.describe() + " (with injected faults)";
  }

  @Override
  public void close() {
    delegate.close();
  }
}
