package dev.walship.primary;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@code -wal} file longer than the frames written into it, with the extra pages in the
 * page cache, so that the app's commits overwrite cached pages instead of appending to the file.
 *
 * <h2>Why</h2>
 *
 * The agent's read transaction stops the app's checkpoints from restarting the WAL, so while the
 * agent runs the WAL grows to hundreds of megabytes between the agent's checkpoints, where
 * without the agent it restarts every 1,000 frames and the app rewrites the same 4 MB. Appending
 * is expensive for the app: a WAL frame (24-byte header + page) never covers whole file pages, so
 * the kernel zero-fills each newly allocated page-cache folio before copying the frame in. Measured
 * on this project's 2-core VM (Linux 6.18, ext4), a 1-row-insert app with nothing else running:
 * 15.5 us of CPU per commit while it rewrites a cached WAL, 26-28 us while it appends (37% of its
 * time in the kernel's {@code zero_user_segments}), so 62,000 against 38,000 commits/s. The agent
 * reads the hole of the extended file into the page cache instead ({@link #prefault}: 0.5-1.8 s
 * of its CPU per GiB on that VM, where first-touch page allocation is slow), and the app's writes
 * then find up-to-date pages.
 *
 * <h2>Safety</h2>
 *
 * The file is extended by writing one zero byte past its end, which leaves a hole before it: no
 * byte the app wrote is touched, and the new bytes read as zeros. A frame of zeros never validates (its
 * salts cannot match the header's), so SQLite's recovery, SQLite's readers and the agent's own
 * {@link WalReader} stop at the last real frame, exactly as they do at the stale frames that
 * follow a WAL restart. That byte could land on a frame if the app appended past it between the
 * agent's size check and the write; {@link #extend} is therefore only called
 * while the agent holds SQLite's writer lock (its barrier connection's {@code BEGIN IMMEDIATE}):
 * every change of the WAL file's size (a writer's append, a TRUNCATE or RESTART checkpoint, the
 * {@code journal_size_limit} trim) happens under that lock, so the size cannot change meanwhile.
 * Disk space is still allocated only when the app writes (ext4 reserves delayed-allocation blocks
 * at write time, so a full disk is reported to the app's write as before), and the file's apparent
 * size ({@code ls -l}) is larger than its content. The agent never writes a byte into the file.
 *
 * <h2>Sizing</h2>
 *
 * The extension is due when fewer than a quarter of the file (at least 1 MiB, at most 32 MiB) is
 * left past the last frame the capture read; the file then grows by half its size, at least
 * {@link #MIN_STEP}, up to the largest size it had before (so after a TRUNCATE one extension
 * restores it) and never past {@code maxBytes} (twice the size past which the agent forces a
 * checkpoint, at most a little more than the TRUNCATE threshold). A WAL that restarts in place needs no more extensions
 * once it reached its high-water size, and a slow app's WAL, which the agent checkpoints long
 * before it holds 1,000 frames, is extended once by {@link #MIN_STEP}.
 *
 * <p>Not thread-safe: called from the capture thread. The page-cache reads run on one shared
 * daemon thread.
 */
final class WalPreallocator {
  private static final Logger log = LoggerFactory.getLogger(WalPreallocator.class);

  /** Least growth per extension. */
  static final long MIN_STEP = 4L << 20;

  /** Reads newly extended regions into the page cache, for every database of the process. */
  private static final ExecutorService PREFAULT =
      Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("walship-wal-prefault")
          .daemon().unstarted(r));

  private final Path walPath;
  private long highWater;
  private long extensions;

  /** @param walPath the database's {@code -wal} file */
  WalPreallocator(Path walPath) {
    this.walPath = walPath;
  }

  /**
   * True if the file should be extended: it exists, little is left past {@code capturedEnd} (see
   * the class comment), and {@code maxBytes} leaves room.
   *
   * @param capturedEnd byte offset just after the last frame the capture read
   * @param walBytes the file's current size in bytes
   * @param maxBytes the file is never extended past this size
   */
  static boolean due(long capturedEnd, long walBytes, long maxBytes) {
    long lowWater = Math.max(1L << 20, Math.min(32L << 20, walBytes / 4));
    return walBytes > 0 && walBytes < maxBytes && walBytes - capturedEnd < lowWater;
  }

  /**
   * Extends the file (see the class comment) and queues reading the new region into the page
   * cache. <b>The caller must hold SQLite's writer lock</b> (the agent's write barrier). Nothing
   * is done unless the file at the path still holds the WAL generation the capture tails (the
   * database may have been replaced underneath: then its WAL is not under that lock); the file is
   * never created.
   *
   * @param generation the header of the WAL generation the capture tails
   * @param maxBytes the file is never extended past this size
   * @return the bytes added (0 if the file is missing, another WAL, or already long enough)
   * @throws IOException if the file cannot be opened, read or extended
   */
  long extend(WalHeader generation, long maxBytes) throws IOException {
    long from;
    long to;
    try (FileChannel f = FileChannel.open(walPath, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer h = ByteBuffer.allocate(WalHeader.SIZE);
      while (h.hasRemaining() && f.read(h, h.position()) > 0) {
        // read the header
      }
      Optional<WalHeader> onDisk = WalHeader.parse(h.array());
      if (onDisk.isEmpty() || !onDisk.get().equals(generation)) {
        return 0;
      }
      from = f.size();
      long grown = Math.max(from + Math.max(MIN_STEP, from / 2), highWater);
      to = Math.min(maxBytes, grown);
      if (to <= from) {
        return 0;
      }
      // One zero byte at the new end: the file grows by a hole, and nothing the app wrote (all
      // of it before 'from', which cannot move while the writer lock is held) is touched.
      f.write(ByteBuffer.allocate(1), to - 1);
    } catch (NoSuchFileException e) {
      return 0;
    }
    highWater = Math.max(highWater, to);
    extensions++;
    long start = from;
    PREFAULT.execute(() -> prefault(walPath, start, to));
    return to - from;
  }

  /** Extensions made so far. */
  long extensions() {
    return extensions;
  }

  /**
   * Reads {@code [from, to)} of the file and discards it: the kernel zero-fills page-cache pages
   * for the hole, so the app's later writes there find them up to date. The region is read front
   * to back in {@link #BLOCK_BYTES} blocks, each block back to front in {@link #PIECE_BYTES}
   * pieces: the kernel then never sees a sequential read, does no readahead, and caches single
   * pages. Readahead would fill the region with large folios, and ext4's buffered write walks
   * every block of a folio on each write: measured with a 1-row-insert app on this project's VM,
   * 31% of its time in {@code ext4_block_write_begin} and {@code block_commit_write} after a
   * forward 1 MiB-read prefault (58,000 commits/s), against 76,000 commits/s after this one.
   * Stops early if the file shrank (a TRUNCATE); failures are logged, never fatal (this is only
   * an optimisation).
   */
  static void prefault(Path file, long from, long to) {
    ByteBuffer buf = ByteBuffer.allocateDirect(PIECE_BYTES);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      for (long block = from; block < to; block += BLOCK_BYTES) {
        long end = Math.min(to, block + BLOCK_BYTES);
        for (long at = end; at > block; ) {
          long start = Math.max(block, at - PIECE_BYTES);
          buf.clear().limit((int) (at - start));
          if (ch.read(buf, start) <= 0) {
            return; // the file shrank
          }
          at = start;
        }
      }
    } catch (NoSuchFileException e) {
      // the WAL was deleted meanwhile: nothing to warm
    } catch (IOException e) {
      log.debug("reading {} into the page cache failed: {}", file, e.toString());
    }
  }

  private static final int BLOCK_BYTES = 1 << 20;
  private static final int PIECE_BYTES = 64 << 10;
}
