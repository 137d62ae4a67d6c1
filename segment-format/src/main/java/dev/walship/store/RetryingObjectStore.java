package dev.walship.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A decorator that retries {@linkplain ObjectStoreException#retryable() retryable} failures of any
 * {@link ObjectStore} a bounded number of times, with exponential backoff and jitter.
 *
 * <p>The S3 store already retries inside the SDK; wrap a store in this when the failures to ride
 * out come from above the HTTP layer (a broken body stream, a flaky local disk, a fault-injecting
 * test decorator) or when a caller wants a longer budget than the store's own.
 *
 * <p>Rules:
 *
 * <ul>
 *   <li>Non-retryable failures and {@link PreconditionFailedException} are never retried.
 *   <li>Attempt {@code n} (from 1) that fails waits {@code d/2 + jitter(0..d/2)} with {@code d =
 *       min(maxDelay, baseDelay * 2^(n-1))} before attempt {@code n+1}; after {@link
 *       Policy#maxAttempts()} attempts the last failure is thrown (earlier ones suppressed).
 *   <li>A conditional write is ambiguous after a retryable failure: the request may have landed. If
 *       a later attempt then loses its precondition, the object is read back and, if it holds
 *       exactly the bytes being written, the write counts as ours and its ETag is returned. (Two
 *       writers writing identical bytes are indistinguishable; walship's segment and lease objects
 *       always differ between writers.)
 * </ul>
 *
 * <p>Thread-safe if the delegate is. The {@link Sleeper} and {@link Random} are injected so tests
 * run without real waiting.
 */
public final class RetryingObjectStore implements ObjectStore {

  /** Waits between attempts; {@code Thread::sleep} in production, a recorder in tests. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;

    /** Sleeps on the calling thread. */
    Sleeper REAL =
        duration -> Thread.sleep(duration.toMillis(), duration.toNanosPart() % 1_000_000);
  }

  /**
   * How hard to try.
   *
   * @param maxAttempts attempts per operation including the first, >= 1
   * @param baseDelay backoff before the second attempt (before jitter)
   * @param maxDelay cap on any one backoff
   */
  public record Policy(int maxAttempts, Duration baseDelay, Duration maxDelay) {
    /** 5 attempts, 50 ms doubling to at most 2 s. */
    public static final Policy DEFAULT =
        new Policy(5, Duration.ofMillis(50), Duration.ofSeconds(2));

    public Policy {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
      }
      if (baseDelay.isNegative() || maxDelay.compareTo(baseDelay) < 0) {
        throw new IllegalArgumentException(
            "need 0 <= baseDelay <= maxDelay, got " + baseDelay + " and " + maxDelay);
      }
    }

    /** The backoff range before attempt {@code failedAttempt + 1}: [d/2, d]. */
    Duration ceiling(int failedAttempt) {
      long base = baseDelay.toNanos();
      long max = maxDelay.toNanos();
      int shift = Math.max(0, failedAttempt - 1);
      if (base == 0) {
        return Duration.ZERO;
      }
      boolean overflows = shift >= Long.numberOfLeadingZeros(base) - 1;
      return Duration.ofNanos(overflows ? max : Math.min(max, base << shift));
    }
  }

  private final ObjectStore delegate;
  private final Policy policy;
  private final Sleeper sleeper;
  private final Random random;

  private RetryingObjectStore(ObjectStore delegate, Policy policy, Sleeper sleeper, Random random) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.random = Objects.requireNonNull(random, "random");
  }

  /** Wraps {@code delegate} with {@link Policy#DEFAULT}, real sleeping and a random jitter. */
  public static RetryingObjectStore wrap(ObjectStore delegate) {
    return new RetryingObjectStore(delegate, Policy.DEFAULT, Sleeper.REAL, new Random());
  }

  /** Wraps {@code delegate}; {@code random} draws the jitter (synchronized on it). */
  public static RetryingObjectStore wrap(
      ObjectStore delegate, Policy policy, Sleeper sleeper, Random random) {
    return new RetryingObjectStore(delegate, policy, sleeper, random);
  }

  // ------------------------------------------------------------------ the loop

  private <T> T retry(String what, Supplier<T> call) {
    return retry(what, call, null);
  }

  /**
   * Runs {@code call} up to maxAttempts times. {@code ownWrite}, for conditional writes, is asked
   * after an ambiguous failure followed by a lost precondition whether the object is ours.
   */
  private <T> T retry(String what, Supplier<T> call, Supplier<Optional<T>> ownWrite) {
    ObjectStoreException first = null;
    for (int attempt = 1; ; attempt++) {
      try {
        return call.get();
      } catch (PreconditionFailedException e) {
        if (first != null && ownWrite != null) {
          Optional<T> ours = ownWrite.get();
          if (ours.isPresent()) {
            return ours.get();
          }
        }
        if (first != null) {
          e.addSuppressed(first);
        }
        throw e;
      } catch (ObjectStoreException e) {
        if (!e.retryable() || attempt >= policy.maxAttempts()) {
          if (first != null && first != e) {
            e.addSuppressed(first);
          }
          throw e;
        }
        if (first == null) {
          first = e;
        }
        pause(what, attempt, e);
      }
    }
  }

  private void pause(String what, int failedAttempt, ObjectStoreException cause) {
    long ceiling = policy.ceiling(failedAttempt).toNanos();
    long jitter;
    synchronized (random) {
      jitter = ceiling / 2 == 0 ? 0 : (long) (random.nextDouble() * (ceiling - ceiling / 2));
    }
    try {
      sleeper.sleep(Duration.ofNanos(ceiling / 2 + jitter));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ObjectStoreException interrupted =
          new ObjectStoreException(
              what + ": interrupted while backing off after: " + cause.getMessage(), true, e);
      interrupted.addSuppressed(cause);
      throw interrupted;
    }
  }

  /** Whether the object holds exactly {@code data} (read with retries); its ETag if so. */
  private Optional<String> holdsBytes(String key, byte[] data) {
    return get(key).filter(o -> Arrays.equals(o.data(), data)).map(StoredObject::etag);
  }

  private Optional<String> holdsFile(String key, Path file) {
    try {
      Optional<ObjectInfo> info = head(key);
      if (info.isEmpty() || info.get().size() != Files.size(file)) {
        return Optional.empty();
      }
      Path copy = Files.createTempFile("walship-verify", ".tmp");
      try {
        return getToFile(key, copy) && Files.mismatch(copy, file) == -1
            ? Optional.of(info.get().etag())
            : Optional.empty();
      } finally {
        Files.deleteIfExists(copy);
      }
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  // ------------------------------------------------------------------ ObjectStore

  @Override
  public String put(String key, byte[] data) {
    return retry("PUT " + key, () -> delegate.put(key, data));
  }

  @Override
  public String put(String key, Path file) {
    return retry("PUT " + key, () -> delegate.put(key, file));
  }

  @Override
  public String putIfAbsent(String key, byte[] data) {
    return retry(
        "PUT If-None-Match " + key,
        () -> delegate.putIfAbsent(key, data),
        () -> holdsBytes(key, data));
  }

  @Override
  public String putIfAbsent(String key, Path file) {
    return retry(
        "PUT If-None-Match " + key,
        () -> delegate.putIfAbsent(key, file),
        () -> holdsFile(key, file));
  }

  @Override
  public String putIfMatch(String key, byte[] data, String expectedEtag) {
    return retry(
        "PUT If-Match " + key,
        () -> delegate.putIfMatch(key, data, expectedEtag),
        () -> holdsBytes(key, data));
  }

  @Override
  public Optional<StoredObject> get(String key) {
    return retry("GET " + key, () -> delegate.get(key));
  }

  @Override
  public Optional<byte[]> getRange(String key, long offset, long length) {
    return retry("GET range " + key, () -> delegate.getRange(key, offset, length));
  }

  /** Retries opening the stream only; a failure while reading the body is the caller's to restart. */
  @Override
  public Optional<java.io.InputStream> getStream(String key) {
    return retry("GET " + key, () -> delegate.getStream(key));
  }

  @Override
  public boolean getToFile(String key, Path destination) {
    return retry("GET " + key, () -> delegate.getToFile(key, destination));
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    return retry("HEAD " + key, () -> delegate.head(key));
  }

  @Override
  public List<ObjectInfo> list(String prefix, String startAfter, int maxKeys) {
    return retry("LIST " + prefix, () -> delegate.list(prefix, startAfter, maxKeys));
  }

  @Override
  public void delete(String key) {
    retry(
        "DELETE " + key,
        () -> {
          delegate.delete(key);
          return null;
        });
  }

  @Override
  public void deleteAll(Collection<String> keys) {
    retry(
        "DELETE " + keys.size() + " keys",
        () -> {
          delegate.deleteAll(keys);
          return null;
        });
  }

  @Override
  public String describe() {
    return delegate.describe() + " (retrying up to " + policy.maxAttempts() + " attempts)";
  }

  @Override
  public void close() {
    delegate.close();
  }
}
