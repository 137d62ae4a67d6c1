package dev.walship.restore;

import dev.walship.format.CorruptSegmentException;
import dev.walship.format.SegmentReader;
import dev.walship.store.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * Downloads segments in parallel but hands them out in order: at most {@code parallelism * 16}
 * objects ahead of the consumer and at most {@code maxBytesInFlight} bytes downloaded but not yet {@link
 * #release released}; an object counts at most half the budget, so one larger object (a big
 * snapshot) still downloads beside the smaller ones after it. Optionally, large objects are
 * fetched as parallel ranged GETs. Each object is streamed to a
 * file and opened with {@link SegmentReader#open(Path, String)}, which verifies its file checksum.
 *
 * <p>One consumer thread calls {@link #hasNext}, {@link #next} and {@link #release}; downloads
 * are scheduled from it and from the download threads as they complete.
 */
final class OrderedDownloads implements AutoCloseable {

  /** One object to fetch. */
  record Item(String key, long sizeBytes) {}

  /** One fetched and verified object; close the reader and {@link #release} its bytes when done. */
  record Fetched(int index, Item item, Path file, SegmentReader reader) {}

  private final ObjectStore store;
  private final List<Item> items;
  private final Path dir;
  private final int parallelism;
  private final long maxBytesInFlight;
  private final BiConsumer<String, Long> onDownloaded;
  private final ExecutorService pool;
  private final ExecutorService parts;
  private final long partBytes;
  /** Objects downloaded (or downloading) ahead of the consumer, per download thread. */
  private static final int AHEAD_PER_THREAD = 64;
  /** GETs of an in-memory object: the first, and one more if its body breaks. */
  private static final int BODY_ATTEMPTS = 2;
  /** Objects up to this size are fetched into memory (SegmentReader's heap threshold). */
  private static final long IN_MEMORY_BYTES = 16L << 20;

  private final Object lock = new Object();
  private final Deque<CompletableFuture<Fetched>> inFlight = new ArrayDeque<>();
  private boolean closed;
  private long bytesInFlight;
  private int next;
  private int handedOut;

  OrderedDownloads(ObjectStore store, List<Item> items, Path dir, int parallelism,
      long maxBytesInFlight, long partBytes, BiConsumer<String, Long> onDownloaded) {
    this.partBytes = partBytes;
    this.store = store;
    this.items = items;
    this.dir = dir;
    this.parallelism = parallelism;
    this.maxBytesInFlight = maxBytesInFlight;
    this.onDownloaded = onDownloaded;
    this.pool = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "walship-download");
      t.setDaemon(true);
      return t;
    });
    this.parts = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "walship-download-part");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts downloading (before the first {@link #next}, e.g. while the consumer is busy). */
  void start() {
    fill();
  }

  boolean hasNext() {
    return handedOut < items.size();
  }

  /**
   * The next object in order (blocks until it is downloaded and verified).
   *
   * @throws MissingObjectException if it is absent
   * @throws CorruptSegmentException if it is not a valid segment (message names the key)
   */
  Fetched next() {
    fill();
    CompletableFuture<Fetched> f;
    synchronized (lock) {
      f = inFlight.removeFirst();
    }
    Item item = items.get(handedOut++);
    try {
      return f.join();
    } catch (CompletionException e) {
      synchronized (lock) {
        bytesInFlight -= charge(item);
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /**
   * Schedules downloads while the window allows: called by the consumer and whenever a download
   * completes, so downloads keep going while the consumer is busy applying.
   */
  private void fill() {
    synchronized (lock) {
      while (!closed && next < items.size()
          && (inFlight.isEmpty()
              || (bytesInFlight + charge(items.get(next)) <= maxBytesInFlight
                  && inFlight.size() < parallelism * AHEAD_PER_THREAD))) {
        int index = next++;
        Item item = items.get(index);
        bytesInFlight += charge(item);
        CompletableFuture<Fetched> f = CompletableFuture.supplyAsync(() -> fetch(index, item), pool);
        inFlight.add(f);
        f.whenComplete((x, e) -> fill());
      }
    }
  }

  /** The consumer is done with {@code f}: its bytes no longer count against the budget. */
  void release(Fetched f) {
    f.reader().close();
    try {
      Files.deleteIfExists(f.file());
    } catch (IOException ignored) {
      // A temporary file; the directory is removed by the caller at the end.
    }
    synchronized (lock) {
      bytesInFlight -= charge(f.item());
    }
    fill();
  }

  /**
   * What an object counts against the budget: its size, but at most half the budget, so one
   * object larger than the budget (a big snapshot) does not stop the ones after it from
   * downloading meanwhile.
   */
  private long charge(Item item) {
    return Math.min(item.sizeBytes(), maxBytesInFlight / 2);
  }

  private Fetched fetch(int index, Item item) {
    Path file = dir.resolve(String.format("%08d.seg", index));
    try {
      if (item.sizeBytes() <= IN_MEMORY_BYTES) {
        // Small objects (every level-0 segment) stay in memory: SegmentReader would read the file
        // into the heap anyway, so a temporary file only added a write, an fsync and a read. The
        // byte budget bounds the memory either way.
        byte[] bytes = fetchBytes(item);
        onDownloaded.accept(item.key(), item.sizeBytes());
        return new Fetched(index, item, file, SegmentReader.open(bytes, item.key()));
      }
      download(store, item, file, parts, partBytes);
      onDownloaded.accept(item.key(), item.sizeBytes());
      return new Fetched(index, item, file, SegmentReader.open(file, item.key()));
    } catch (CorruptSegmentException e) {
      if (e.getMessage() != null && e.getMessage().contains(item.key())) {
        throw e;
      }
      throw new CorruptSegmentException(item.key() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The whole object in one array of exactly its listed size, read straight from the GET body (the
   * SDK's byte-array GET copies it at least twice more); a body that breaks is read once more.
   *
   * @throws MissingObjectException if the object is absent
   * @throws CorruptSegmentException if its size differs from the listed one
   * @throws java.io.UncheckedIOException if the body broke twice
   */
  private byte[] fetchBytes(Item item) {
    for (int attempt = 1; ; attempt++) {
      java.io.InputStream body = store.getStream(item.key()).orElseThrow(() -> new MissingObjectException(item.key()));
      try (body) {
        byte[] bytes = body.readNBytes((int) item.sizeBytes());
        if (bytes.length != item.sizeBytes() || body.read() >= 0) {
          throw new CorruptSegmentException(item.key() + ": object changed while downloading (listed "
              + item.sizeBytes() + " bytes, the GET gave " + (bytes.length < item.sizeBytes() ? bytes.length : "more")
              + ")");
        }
        return bytes;
      } catch (IOException e) {
        if (attempt >= BODY_ATTEMPTS) {
          throw new java.io.UncheckedIOException("GET " + item.key() + " broke (" + attempt + " attempts)", e);
        }
      }
    }
  }

  /**
   * Streams {@code item} into {@code file}: one GET, or for objects larger than {@code partBytes}
   * (when it is above 0) parallel ranged GETs of that size on {@code parts} (memory: one part per
   * thread).
   *
   * @throws MissingObjectException if the object is absent
   */
  static void download(ObjectStore store, Item item, Path file, ExecutorService parts, long partBytes) {
    final long part = partBytes;
    if (partBytes <= 0 || item.sizeBytes() <= partBytes) {
      if (!store.getToFile(item.key(), file)) {
        throw new MissingObjectException(item.key());
      }
      return;
    }
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
        java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
      List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
      for (long off = 0; off < item.sizeBytes(); off += part) {
        long offset = off;
        long len = Math.min(part, item.sizeBytes() - off);
        fs.add(parts.submit(() -> {
          byte[] b = store.getRange(item.key(), offset, len)
              .orElseThrow(() -> new MissingObjectException(item.key()));
          if (b.length != len) {
            throw new CorruptSegmentException(item.key() + ": object changed while downloading"
                + " (listed " + item.sizeBytes() + " bytes, range at " + offset + " gave " + b.length + ")");
          }
          java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b);
          long pos = offset;
          while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : fs) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          fs.forEach(x -> x.cancel(true));
          if (e.getCause() instanceof RuntimeException r) {
            throw r;
          }
          throw new java.io.UncheckedIOException(new IOException(item.key(), e.getCause()));
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + file, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted downloading " + item.key(), e);
    }
  }

  @Override
  public void close() {
    List<CompletableFuture<Fetched>> left;
    synchronized (lock) {
      closed = true;
      left = List.copyOf(inFlight);
      inFlight.clear();
    }
    pool.shutdownNow();
    parts.shutdownNow();
    for (CompletableFuture<Fetched> f : left) {
      f.thenAccept(x -> x.reader().close());
      f.cancel(true);
    }
  }
}
