package dev.walship.restore;

import dev.walship.format.CorruptSegmentException;
import dev.walship.store.ObjectStore;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Reads one object front to back as consecutive ranged GETs of {@code partBytes}, keeping {@code
 * ahead} parts in flight on {@code pool}, so a consumer can verify and apply the start of a large
 * object (a snapshot) while the rest is still downloading. Memory: at most {@code ahead + 1}
 * parts.
 *
 * <p>Single consumer; not thread-safe.
 */
final class RangedObjectStream extends InputStream {
  private final ObjectStore store;
  private final String key;
  private final long size;
  private final long partBytes;
  private final int ahead;
  private final ExecutorService pool;
  private final Deque<Future<byte[]>> parts = new ArrayDeque<>();
  private long scheduled;
  private long consumed;
  private byte[] current = new byte[0];
  private int pos;

  RangedObjectStream(ObjectStore store, String key, long size, long partBytes, int ahead,
      ExecutorService pool) {
    this.store = store;
    this.key = key;
    this.size = size;
    this.partBytes = partBytes;
    this.ahead = ahead;
    this.pool = pool;
    schedule();
  }

  private void schedule() {
    while (parts.size() < ahead && scheduled < size) {
      long offset = scheduled;
      long len = Math.min(partBytes, size - offset);
      scheduled += len;
      parts.add(pool.submit(() -> {
        byte[] b = store.getRange(key, offset, len).orElseThrow(() -> new MissingObjectException(key));
        if (b.length != len) {
          throw new CorruptSegmentException(key + ": object changed while downloading (listed "
              + size + " bytes, the range at " + offset + " gave " + b.length + " bytes)");
        }
        return b;
      }));
    }
  }

  /** Bytes handed to the consumer so far. */
  long position() {
    return consumed;
  }

  @Override
  public int read() {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] dest, int off, int len) {
    if (len == 0) {
      return 0;
    }
    if (pos == current.length) {
      if (parts.isEmpty()) {
        return -1;
      }
      current = take(parts.removeFirst());
      pos = 0;
      schedule();
    }
    int n = Math.min(len, current.length - pos);
    System.arraycopy(current, pos, dest, off, n);
    pos += n;
    consumed += n;
    return n;
  }

  /** Reads exactly {@code len} bytes or throws a CorruptSegmentException naming the key. */
  void readFully(byte[] dest, int off, int len) {
    int done = 0;
    while (done < len) {
      int n = read(dest, off + done, len - done);
      if (n < 0) {
        throw new CorruptSegmentException(key + ": ends after " + consumed + " bytes, expected more");
      }
      done += n;
    }
  }

  private byte[] take(Future<byte[]> f) {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("GET " + key + " failed", e.getCause());
    } catch (CancellationException e) {
      throw new IllegalStateException("GET " + key + " was cancelled", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading " + key, e);
    }
  }

  @Override
  public void close() {
    for (Future<byte[]> f : parts) {
      f.cancel(true);
    }
    parts.clear();
    current = new byte[0];
    pos = 0;
  }
}
