package dev.walship.cli;

import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.StoredObject;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * An {@link ObjectStore} decorator counting the requests made through it, by S3 price class: class
 * A (PUT, LIST, DELETE; about $0.005 per 1,000 on AWS) and class B (GET, HEAD; about $0.0004 per
 * 1,000). Each call counts as one request, as it is on S3 for objects under the multipart threshold
 * (the stores' internal retries are not seen here). Thread-safe.
 */
final class CountingObjectStore implements ObjectStore {
  private final ObjectStore delegate;
  private final LongAdder puts = new LongAdder();
  private final LongAdder gets = new LongAdder();
  private final LongAdder heads = new LongAdder();
  private final LongAdder lists = new LongAdder();
  private final LongAdder deletes = new LongAdder();

  CountingObjectStore(ObjectStore delegate) {
    this.delegate = delegate;
  }

  /** A snapshot of the counts. */
  record Counts(long puts, long gets, long heads, long lists, long deletes) {
    long total() {
      return puts + gets + heads + lists + deletes;
    }

    long classA() {
      return puts + lists + deletes;
    }

    long classB() {
      return gets + heads;
    }

    Counts minus(Counts o) {
      return new Counts(puts - o.puts, gets - o.gets, heads - o.heads, lists - o.lists,
          deletes - o.deletes);
    }

    Counts plus(Counts o) {
      return new Counts(puts + o.puts, gets + o.gets, heads + o.heads, lists + o.lists,
          deletes + o.deletes);
    }

    static Counts zero() {
      return new Counts(0, 0, 0, 0, 0);
    }

    @Override
    public String toString() {
      return total() + " (PUT " + puts + ", GET " + gets + ", HEAD " + heads + ", LIST " + lists
          + ", DELETE " + deletes + ")";
    }
  }

  Counts counts() {
    return new Counts(puts.sum(), gets.sum(), heads.sum(), lists.sum(), deletes.sum());
  }

  @Override
  public String put(String key, byte[] data) {
    puts.increment();
    return delegate.put(key, data);
  }

  @Override
  public String put(String key, Path file) {
    puts.increment();
    return delegate.put(key, file);
  }

  @Override
  public String putIfAbsent(String key, byte[] data) {
    puts.increment();
    return delegate.putIfAbsent(key, data);
  }

  @Override
  public String putIfAbsent(String key, Path file) {
    puts.increment();
    return delegate.putIfAbsent(key, file);
  }

  @Override
  public String putIfMatch(String key, byte[] data, String expectedEtag) {
    puts.increment();
    return delegate.putIfMatch(key, data, expectedEtag);
  }

  @Override
  public Optional<StoredObject> get(String key) {
    gets.increment();
    return delegate.get(key);
  }

  @Override
  public Optional<byte[]> getRange(String key, long offset, long length) {
    gets.increment();
    return delegate.getRange(key, offset, length);
  }

  @Override
  public Optional<java.io.InputStream> getStream(String key) {
    gets.increment();
    return delegate.getStream(key);
  }

  @Override
  public boolean getToFile(String key, Path destination) {
    gets.increment();
    return delegate.getToFile(key, destination);
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    heads.increment();
    return delegate.head(key);
  }

  @Override
  public List<ObjectInfo> list(String prefix, String startAfter, int maxKeys) {
    lists.increment();
    return delegate.list(prefix, startAfter, maxKeys);
  }

  @Override
  public void delete(String key) {
    deletes.increment();
    delegate.delete(key);
  }

  @Override
  public void deleteAll(Collection<String> keys) {
    deletes.increment();
    delegate.deleteAll(keys);
  }

  @Override
  public String describe() {
    return delegate.describe();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
