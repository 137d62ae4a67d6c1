package dev.walship.primary;

import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStoreException;
import dev.walship.store.StoredObject;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fault-injecting decorator: while {@link #down} is set every call fails with a retryable {@link
 * ObjectStoreException}, as an unreachable endpoint would. Counts requests by kind.
 */
final class FlakyStore implements ObjectStore {
  final ObjectStore delegate;
  final AtomicBoolean down = new AtomicBoolean();
  final AtomicLong puts = new AtomicLong();
  final AtomicLong gets = new AtomicLong();
  final AtomicLong lists = new AtomicLong();
  final AtomicLong failures = new AtomicLong();

  FlakyStore(ObjectStore delegate) {
    this.delegate = delegate;
  }

  long requests() {
    return puts.get() + gets.get() + lists.get();
  }

  private void check(AtomicLong counter) {
    counter.incrementAndGet();
    if (down.get()) {
      failures.incrementAndGet();
      throw new ObjectStoreException("injected: endpoint unreachable", true, null);
    }
  }

  @Override
  public String put(String key, byte[] data) {
    check(puts);
    return delegate.put(key, data);
  }

  @Override
  public String put(String key, Path file) {
    check(puts);
    return delegate.put(key, file);
  }

  @Override
  public String putIfAbsent(String key, byte[] data) {
    check(puts);
    return delegate.putIfAbsent(key, data);
  }

  @Override
  public String putIfAbsent(String key, Path file) {
    check(puts);
    return delegate.putIfAbsent(key, file);
  }

  @Override
  public String putIfMatch(String key, byte[] data, String expectedEtag) {
    check(puts);
    return delegate.putIfMatch(key, data, expectedEtag);
  }

  @Override
  public Optional<StoredObject> get(String key) {
    check(gets);
    return delegate.get(key);
  }

  @Override
  public Optional<byte[]> getRange(String key, long offset, long length) {
    check(gets);
    return delegate.getRange(key, offset, length);
  }

  @Override
  public Optional<java.io.InputStream> getStream(String key) {
    check(gets);
    return delegate.getStream(key);
  }

  @Override
  public boolean getToFile(String key, Path destination) {
    check(gets);
    return delegate.getToFile(key, destination);
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    check(gets);
    return delegate.head(key);
  }

  @Override
  public List<ObjectInfo> list(String prefix, String startAfter, int maxKeys) {
    check(lists);
    return delegate.list(prefix, startAfter, maxKeys);
  }

  @Override
  public void delete(String key) {
    check(puts);
    delegate.delete(key);
  }

  @Override
  public void deleteAll(Collection<String> keys) {
    check(puts);
    delegate.deleteAll(keys);
  }

  @Override
  public String describe() {
    return "flaky(" + delegate.describe() + ")";
  }

  @Override
  public void close() {}
}
