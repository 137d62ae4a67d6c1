package dev.walship.restore;

import dev.walship.format.CorruptSegmentException;
import dev.walship.format.DatabaseChecksum;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Writes the page bodies of a SNAPSHOT segment, read front to back from its GET body, into a
 * database file: the bulk half of {@link PageApplier#applyStreamedSnapshot} (which checks the
 * header and metadata before and the database checksum after).
 *
 * <p>Pipeline: the calling thread reads the body in chunks of consecutive index entries (at most
 * {@link #CHUNK_BYTES} of page images), checks each index entry and feeds the file CRC32C; one of
 * the worker threads then checks each page's CRC32C, decodes it (LZ4 or stored) into a direct
 * buffer, hashes it ({@link DatabaseChecksum}) and writes each run of consecutive pages with
 * positional writes of {@link #WRITE_BYTES} straight from that buffer (no copy into a temporary
 * buffer of the JDK's). A
 * flusher thread forces the file every {@link #FLUSH_BYTES} written, so the disk writes while
 * pages are still being decoded instead of all at the caller's final fsync.
 *
 * <p>Memory: {@code 2 * workers + 1} reusable slots, each one chunk of stored bytes (heap) and one
 * chunk of page images (direct), about 2 MiB a slot; nothing is allocated per chunk.
 *
 * <p>Page 1 is hashed but not written: it is returned, for the caller to patch the per-file
 * header fields and write it last. Single use; the calling thread is the only reader of the body.
 */
final class SnapshotStreamWriter {
  /** Page images per chunk, in bytes. */
  static final int CHUNK_BYTES = 1 << 20;
  /**
   * Bytes per write call at most (or one page, if larger). Larger writes measured about 5 times
   * the CPU per byte on the build machine (1 GiB into fresh page cache: 2.2-2.5 s of CPU in 1 MiB
   * writes, 0.35-0.45 s in 16 KiB ones: the kernel backs a large write with large folios, which
   * there come from memory the hypervisor has to fault in), while small ones cost only a syscall
   * each.
   */
  static final int WRITE_BYTES = 16 << 10;
  /** Bytes written between two background forces. */
  static final long FLUSH_BYTES = 64L << 20;
  private static final int MAX_WORKERS = 4;
  private static final LZ4SafeDecompressor LZ4 = LZ4Factory.fastestInstance().safeDecompressor();

  /** The XOR of every page's hash, and page 1's image (null if the snapshot has no page 1). */
  record Result(long checksum, byte[] page1) {}

  private record Slot(byte[] stored, ByteBuffer storedView, ByteBuffer pages) {}

  private final String key;
  private final FileChannel channel;
  private final ByteBuffer meta;
  private final int indexStart;
  private final int pageSize;
  private final int compression;
  private final AtomicLong written = new AtomicLong();
  private volatile byte[] page1;

  /**
   * @param meta the segment's header, commit table and page index as read (already checked
   *     against their CRC32C)
   * @param indexStart offset of the first page index entry in {@code meta}
   * @param compression 0 stored, 1 LZ4 (from the header)
   */
  SnapshotStreamWriter(String key, FileChannel channel, ByteBuffer meta, int indexStart, int pageSize,
      int compression) {
    this.key = key;
    this.channel = channel;
    this.meta = meta;
    this.indexStart = indexStart;
    this.pageSize = pageSize;
    this.compression = compression;
  }

  /**
   * Reads the {@code pageCount} page bodies and the trailer from {@code in}, checking every index
   * entry (pages ascending, at most {@code dbSize}, all of TXID {@code txid}, bodies back to back
   * and {@code bodyLength} bytes in all, reserved bytes zero), every page's CRC32C and LZ4 block, and the file CRC32C
   * ({@code fileCrc} holds the bytes before the bodies) and end magic. Returns only once every
   * worker has stopped, whether it succeeds or throws.
   *
   * @throws CorruptSegmentException naming the key if any check fails
   * @throws SnapshotBodyStream.BrokenBodyException if the body breaks
   * @throws UncheckedIOException if writing the file fails
   */
  Result write(SnapshotBodyStream in, int pageCount, long txid, long dbSize, long bodyLength, CRC32C fileCrc) {
    int chunkPages = Math.max(1, CHUNK_BYTES / pageSize);
    int workers = Math.max(2, Math.min(MAX_WORKERS, Runtime.getRuntime().availableProcessors()));
    int maxPending = 2 * workers;
    ArrayBlockingQueue<Slot> free = new ArrayBlockingQueue<>(maxPending + 1);
    for (int s = 0; s <= maxPending; s++) {
      byte[] stored = new byte[chunkPages * pageSize];
      free.add(new Slot(stored, ByteBuffer.wrap(stored), ByteBuffer.allocateDirect(chunkPages * pageSize)));
    }
    ExecutorService pool = Executors.newFixedThreadPool(workers, daemon("walship-snapshot-apply"));
    ExecutorService flusher = Executors.newSingleThreadExecutor(daemon("walship-snapshot-flush"));
    ArrayDeque<Future<Long>> pending = new ArrayDeque<>();
    Future<?> flushing = null;
    try {
      long offset = 0;
      long previous = 0;
      long checksum = 0;
      long flushedUpTo = 0;
      int i = 0;
      while (i < pageCount) {
        int first = i;
        int chunkBytes = 0;
        while (i < pageCount && i - first < chunkPages) {
          int e = indexStart + 32 * i;
          long pg = Integer.toUnsignedLong(meta.getInt(e));
          int length = meta.getInt(e + 4);
          // Bytes 28-31 are reserved in v1 (a snapshot is always v1: it never holds a delta, whose
          // flag is byte 28 in v2), so a set flag is rejected here, never decoded as a whole image.
          if (pg <= previous || pg > dbSize || meta.getLong(e + 8) != txid || meta.getLong(e + 16) != offset
              || length < 1 || length > pageSize || (compression == 0 && length != pageSize)
              || meta.getInt(e + 28) != 0) {
            throw new CorruptSegmentException(key + ": page index entry " + i + " (page " + pg + ") is invalid");
          }
          previous = pg;
          offset += length;
          chunkBytes += length;
          i++;
        }
        if (offset > bodyLength) {
          throw new CorruptSegmentException(key + ": page bodies exceed the body length");
        }
        // At most maxPending slots are held by pending chunks (a worker returns its slot before its
        // future completes), so one is always free here.
        Slot slot = free.remove();
        in.readFully(slot.stored(), 0, chunkBytes);
        fileCrc.update(slot.stored(), 0, chunkBytes);
        int from = first;
        int to = i;
        pending.add(pool.submit(() -> {
          try {
            return writeChunk(slot, from, to);
          } finally {
            free.add(slot);
          }
        }));
        while (pending.size() > maxPending) {
          checksum ^= take(pending.removeFirst());
        }
        if (flushing == null || flushing.isDone()) {
          if (flushing != null) {
            take(flushing);
          }
          long mark = written.get();
          flushing = mark - flushedUpTo >= FLUSH_BYTES ? flusher.submit(this::force) : null;
          flushedUpTo = flushing != null ? mark : flushedUpTo;
        }
      }
      while (!pending.isEmpty()) {
        checksum ^= take(pending.removeFirst());
      }
      if (flushing != null) {
        take(flushing);
      }
      if (offset != bodyLength) {
        throw new CorruptSegmentException(key + ": page bodies are " + offset + " bytes, the header says "
            + bodyLength);
      }
      byte[] trailer = new byte[8];
      in.readFully(trailer, 0, 8);
      ByteBuffer t = ByteBuffer.wrap(trailer);
      if ((int) fileCrc.getValue() != t.getInt(0) || t.getInt(4) != 0x47455357) {
        throw new CorruptSegmentException(key + ": file CRC32C or end magic mismatch");
      }
      if (in.read() >= 0) {
        throw new CorruptSegmentException(key + ": bytes after the trailer");
      }
      return new Result(checksum, page1);
    } finally {
      // Never interrupt a worker: an interrupt during FileChannel I/O closes the channel.
      pending.forEach(f -> f.cancel(false));
      pool.shutdown();
      flusher.shutdown();
      try {
        if (!pool.awaitTermination(1, TimeUnit.MINUTES) || !flusher.awaitTermination(1, TimeUnit.MINUTES)) {
          throw new IllegalStateException("snapshot apply workers did not stop");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Void force() throws IOException {
    channel.force(false);
    return null;
  }

  /**
   * Checks, decodes, hashes and writes entries {@code [from, to)} whose stored bodies are in
   * {@code slot}; returns the XOR of their page hashes.
   */
  private long writeChunk(Slot slot, int from, int to) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer pages = slot.pages();
    byte[] stored = slot.stored();
    int at = 0;
    int used = 0;
    int inRun = 0;
    int runFirst = 0;
    long runStart = -1;
    long checksum = 0;
    for (int i = from; i < to; i++) {
      int e = indexStart + 32 * i;
      long pg = Integer.toUnsignedLong(meta.getInt(e));
      int length = meta.getInt(e + 4);
      crc.reset();
      crc.update(stored, at, length);
      if ((int) crc.getValue() != meta.getInt(e + 24)) {
        throw new CorruptSegmentException(key + ": page CRC32C of entry " + i + " (page " + pg + ") mismatch");
      }
      int dest = used * pageSize;
      if (length == pageSize) {
        pages.put(dest, stored, at, pageSize);
      } else {
        int n;
        try {
          n = LZ4.decompress(slot.storedView(), at, length, pages, dest, pageSize);
        } catch (LZ4Exception ex) {
          throw new CorruptSegmentException(key + ": LZ4 block of page " + pg + " is malformed", ex);
        }
        if (n != pageSize) {
          throw new CorruptSegmentException(key + ": LZ4 block of page " + pg + " decodes to " + n + " bytes");
        }
      }
      at += length;
      checksum ^= DatabaseChecksum.pageHash(pg, pages.slice(dest, pageSize));
      used++;
      if (inRun > 0 && pg != runStart + inRun) {
        writeRun(pages, runFirst, inRun, runStart);
        inRun = 0;
      }
      if (pg == 1) {
        byte[] copy = new byte[pageSize];
        pages.get(dest, copy);
        page1 = copy; // written last by the caller, with the header fields patched
        continue;
      }
      if (inRun == 0) {
        runStart = pg;
        runFirst = used - 1;
      }
      inRun++;
    }
    if (inRun > 0) {
      writeRun(pages, runFirst, inRun, runStart);
    }
    return checksum;
  }

  /** Writes {@code count} decoded pages from slot index {@code first} as pages {@code firstPage..}. */
  private void writeRun(ByteBuffer pages, int first, int count, long firstPage) throws IOException {
    int end = (first + count) * pageSize;
    long position = (firstPage - 1) * pageSize;
    for (int at = first * pageSize; at < end; ) {
      ByteBuffer b = pages.slice(at, Math.min(Math.max(WRITE_BYTES, pageSize), end - at));
      at += b.remaining();
      while (b.hasRemaining()) {
        position += channel.write(b, position);
      }
    }
    written.addAndGet((long) count * pageSize);
  }

  private static <T> T take(Future<T> f) {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof IOException io) {
        throw new UncheckedIOException("writing a streamed snapshot failed", io);
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while applying a snapshot", e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
