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
 * Downloads segments in parallel but hands them out in order: at most {@code parallelism * 4}
 * requests outstanding and at most {@code maxBytesInFlight} bytes downloaded but not yet {@link
 * #release released} (one object is always allowed, however large). Each object is streamed to a
 * file and opened with {@link SegmentReader#open(Path, String)}, which verifies its file checksum.
 *
 * <p>Not thread-safe: one consumer.
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
  private final Deque<CompletableFuture<Fetched>> inFlight = new ArrayDeque<>();
  private long bytesInFlight;
  private int next;
  private int handedOut;

  OrderedDownloads(ObjectStore store, List<Item> items, Path dir, int parallelism,
      long maxBytesInFlight, BiConsumer<String, Long> onDownloaded) {
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
  }

  boolean hasNext() {
    return handedOut < items.size();
  }

  /**
   * The next object in order.
   *
   * @throws MissingObjectException if it is absent
   * @throws CorruptSegmentException if it is not a valid segment (message names the key)
   */
  Fetched next() {
    while (next < items.size()
        && (inFlight.isEmpty()
            || (bytesInFlight + items.get(next).sizeBytes() <= maxBytesInFlight
                && inFlight.size() < parallelism * 4))) {
      int index = next++;
      Item item = items.get(index);
      bytesInFlight += item.sizeBytes();
      inFlight.add(CompletableFuture.supplyAsync(() -> fetch(index, item), pool));
    }
    CompletableFuture<Fetched> f = inFlight.removeFirst();
    handedOut++;
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
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
    bytesInFlight -= f.item().sizeBytes();
  }

  private Fetched fetch(int index, Item item) {
    Path file = dir.resolve(String.format("%08d.seg", index));
    if (!store.getToFile(item.key(), file)) {
      throw new MissingObjectException(item.key());
    }
    onDownloaded.accept(item.key(), item.sizeBytes());
    try {
      return new Fetched(index, item, file, SegmentReader.open(file, item.key()));
    } catch (CorruptSegmentException e) {
      if (e.getMessage() != null && e.getMessage().contains(item.key())) {
        throw e;
      }
      throw new CorruptSegmentException(item.key() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
    for (CompletableFuture<Fetched> f : inFlight) {
      f.thenAccept(x -> x.reader().close());
      f.cancel(true);
    }
    inFlight.clear();
  }
}
