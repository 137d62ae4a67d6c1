package dev.walship.primary;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Tails one SQLite {@code -wal} file through a read-only {@link FileChannel}, returning committed
 * transactions as they appear (format: https://www.sqlite.org/fileformat2.html#walformat).
 *
 * <p>A frame is valid when its salts equal the header's and its cumulative checksum (carried from
 * the header through every earlier frame, over the first 8 bytes of the frame header and the page
 * image) matches. Scanning stops at the first invalid frame. Only frames up to the last valid
 * commit frame are returned; frames after it are kept as <em>pending</em> (a transaction still
 * being written) and scanning continues from the end of them on the next {@link #poll()}.
 *
 * <p>States of the reader:
 *
 * <ul>
 *   <li><b>no generation</b> — after construction: {@link #start(WalHeader)} must be called with a
 *       header read by {@link #readHeader()}.
 *   <li><b>tailing generation G</b> — {@link #poll()} returns the transactions committed since
 *       the last call, in order. {@link #committedFrames()} counts the frames of this generation
 *       up to the last returned commit. Pending frames of an unfinished transaction are
 *       re-validated at every poll (if the last pending frame's header changed, the writer rolled
 *       back and rewrote them, and scanning restarts from the last commit; see {@link #rescanDue()}).
 *   <li>A WAL restart (new salts) is <em>not</em> detected here: the caller compares {@link
 *       #readHeader()} with the generation it tails and calls {@link #start(WalHeader)} again.
 * </ul>
 *
 * <p>Page images of the frames a poll validated are held in memory ({@link #imageOffset}); any
 * committed frame's image can be read again with {@link #readPage(long, byte[], int)}: committed
 * frames of the current generation do not change while the agent holds its read transaction (see
 * {@link Capturer}).
 *
 * <p>Not thread-safe: owned by the capture thread.
 */
public final class WalReader implements Closeable {
  private final Path walPath;
  private FileChannel channel;

  private WalHeader header;
  private int pageSize;
  /** Position after the last returned commit frame: offset, packed checksum, frame count. */
  private long committedOffset;

  private long committedChecksum;
  private long committedFrames;
  /** Frames after the last commit that are valid so far. */
  private final List<WalFrame> pending = new ArrayList<>();

  private long pendingOffset;
  private long pendingChecksum;
  private int idlePollsWithPending;

  /**
   * Read-ahead within one {@link #poll}: bytes {@code [chunkStart, chunkStart + chunkLen)} of the
   * file, so frames are read up to {@link #CHUNK_BYTES} at a time rather than one system call
   * each. Dropped at the start of every poll: bytes past the last valid frame may still change.
   * A direct buffer: the kernel copies into it, with no bounce buffer between. 256 KiB stays in
   * the core's L2 cache until the images are copied out (1 MiB measured ~8% slower per frame).
   */
  private static final int CHUNK_BYTES = 256 << 10;

  /**
   * The first read of a poll asks for this much, each later one for twice the previous, up to
   * {@link #CHUNK_BYTES}: the file usually extends far past the last frame (stale frames after a
   * WAL restart, the zeros {@link WalPreallocator} adds), and a poll that finds a few new frames
   * should not copy the whole read-ahead of them.
   */
  private static final int FIRST_READ_BYTES = 64 << 10;

  private ByteBuffer chunk = ByteBuffer.allocateDirect(0);
  private long chunkStart = -1;
  private int chunkLen;
  private int nextRead;

  /**
   * Page images of the frames validated by the latest {@link #poll()}, which are contiguous in
   * the file from {@code arenaFirstOffset}: each image is copied once from {@link #chunk} to
   * here, where it is checksummed, then hashed and handed on in place ({@link #images()}), or
   * copied by {@link #readPage}. Up to {@link #ARENA_MAX_BYTES}; later frames are checksummed in
   * {@link #spare} and read from the file again when needed.
   */
  private static final int ARENA_MAX_BYTES = 4 << 20;

  private byte[] arena = new byte[0];
  private long arenaFirstOffset = -1;
  private int arenaCount;
  private byte[] spare = new byte[0];
  private final byte[] frameHeader = new byte[WalFrame.HEADER_SIZE];

  public WalReader(Path walPath) {
    this.walPath = walPath;
  }

  /** The {@code -wal} file this reader tails. */
  public Path path() {
    return walPath;
  }

  /**
   * Reads and validates the WAL header now. Empty if the file is missing, shorter than a header
   * (for example just truncated by a TRUNCATE checkpoint), or holds no valid header.
   */
  public Optional<WalHeader> readHeader() {
    byte[] b = new byte[WalHeader.SIZE];
    try {
      if (!ensureOpen() || readFully(b, 0, b.length, 0) < b.length) {
        return Optional.empty();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read WAL header of " + walPath, e);
    }
    return WalHeader.parse(b);
  }

  /** Current size of the {@code -wal} file in bytes (0 if missing). */
  public long fileSize() {
    try {
      return ensureOpen() ? channel.size() : 0;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stat " + walPath, e);
    }
  }

  /** Starts tailing the generation described by {@code h}, from its first frame. */
  public void start(WalHeader h) {
    this.header = h;
    this.pageSize = h.pageSize();
    this.committedOffset = WalHeader.SIZE;
    this.committedChecksum = WalChecksum.pack(h.checksum1(), h.checksum2());
    this.committedFrames = 0;
    this.pending.clear();
    this.pendingOffset = committedOffset;
    this.pendingChecksum = committedChecksum;
    this.idlePollsWithPending = 0;
    this.arenaFirstOffset = -1;
    this.arenaCount = 0;
    int frameSize = WalFrame.HEADER_SIZE + pageSize;
    int capacity = Math.max(1, CHUNK_BYTES / frameSize) * frameSize;
    if (chunk.capacity() != capacity) {
      chunk = ByteBuffer.allocateDirect(capacity);
    }
    if (spare.length != pageSize) {
      spare = new byte[pageSize];
    }
    this.chunkStart = -1;
  }

  /** The generation being tailed, or null before {@link #start}. */
  public WalHeader header() {
    return header;
  }

  /** Frames of this generation up to and including the last returned commit frame. */
  public long committedFrames() {
    return committedFrames;
  }

  /** Byte offset just after the last returned commit frame. */
  public long committedOffset() {
    return committedOffset;
  }

  /** True if valid frames of an unfinished transaction follow the last commit. */
  public boolean hasPending() {
    return !pending.isEmpty();
  }

  /**
   * Returns every transaction committed since the last call (empty if none), in WAL order.
   *
   * @throws IllegalStateException before {@link #start}
   */
  public List<WalTransaction> poll() {
    return poll(Integer.MAX_VALUE);
  }

  /**
   * Like {@link #poll()}, but stops after {@code maxCommits} transactions (&gt;= 1); the rest are
   * returned by the next calls.
   *
   * @throws IllegalStateException before {@link #start}
   * @throws UncheckedIOException if the file cannot be read
   */
  public List<WalTransaction> poll(int maxCommits) {
    if (header == null) {
      throw new IllegalStateException("start(header) first");
    }
    try {
      if (!ensureOpen()) {
        return List.of();
      }
      if (!pending.isEmpty()
          && (!unchanged(pending.get(0))
              || !unchanged(pending.get(pending.size() - 1))
              || rescanDue())) {
        pending.clear();
        pendingOffset = committedOffset;
        pendingChecksum = committedChecksum;
      }
      long before = pendingOffset;
      chunkStart = -1;
      nextRead = FIRST_READ_BYTES;
      arenaFirstOffset = pendingOffset;
      arenaCount = 0;
      List<WalTransaction> out = new ArrayList<>();
      long size = channel.size();
      while (out.size() < maxCommits && pendingOffset + WalFrame.HEADER_SIZE + pageSize <= size) {
        WalFrame f = readValidFrame(pendingOffset, pendingChecksum, size);
        if (f == null) {
          break;
        }
        pending.add(f);
        pendingOffset += WalFrame.HEADER_SIZE + pageSize;
        pendingChecksum = WalChecksum.pack(f.checksum1(), f.checksum2());
        if (f.isCommit()) {
          out.add(new WalTransaction(pending.size() == 1 ? List.of(f) : List.copyOf(pending)));
          committedFrames += pending.size();
          pending.clear();
          committedOffset = pendingOffset;
          committedChecksum = pendingChecksum;
        }
      }
      idlePollsWithPending = pendingOffset == before && !pending.isEmpty() ? idlePollsWithPending + 1 : 0;
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + walPath, e);
    }
  }

  /**
   * A rolled-back transaction's frames are overwritten from the start of the rolled-back region;
   * the first/last pending frame checks catch that unless the new frames happen to equal the old
   * ones. As a backstop the pending frames are re-validated after 1, 2, 4, ... 64 (then every 64)
   * polls without progress: bounded latency, amortised cost.
   */
  private boolean rescanDue() {
    int n = idlePollsWithPending;
    return n > 0 && (n >= 64 ? n % 64 == 0 : Integer.bitCount(n) == 1);
  }

  /**
   * Copies the page image of the committed frame at {@code frameOffset} ({@link
   * WalFrame#offset()}) into {@code dest} at {@code offset} (page-size bytes).
   *
   * @throws IllegalStateException if the file no longer holds the frame
   * @throws UncheckedIOException if the file cannot be read
   */
  public void readPage(long frameOffset, byte[] dest, int offset) {
    int held = imageOffset(frameOffset);
    if (held >= 0) {
      System.arraycopy(arena, held, dest, offset, pageSize);
      return;
    }
    try {
      long dataOffset = frameOffset + WalFrame.HEADER_SIZE;
      if (!ensureOpen() || readFully(dest, offset, pageSize, dataOffset) < pageSize) {
        throw new IllegalStateException(
            "WAL " + walPath + " shrank under a committed frame at offset " + frameOffset);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + walPath, e);
    }
  }

  /**
   * Where the page image of the frame at {@code frameOffset} is held in {@link #images()},
   * without copying: its offset there (page-size bytes), or -1 if it is not held (then use {@link
   * #readPage}). Only frames validated by the latest {@link #poll} can be held; valid until the
   * next poll or {@link #start}.
   */
  public int imageOffset(long frameOffset) {
    long frameSize = WalFrame.HEADER_SIZE + pageSize;
    if (arenaFirstOffset >= 0 && frameOffset >= arenaFirstOffset) {
      long index = (frameOffset - arenaFirstOffset) / frameSize;
      if (index < arenaCount) {
        return (int) index * pageSize;
      }
    }
    return -1;
  }

  /** The array {@link #imageOffset} points into; the caller must not modify it. */
  public byte[] images() {
    return arena;
  }

  private boolean unchanged(WalFrame last) throws IOException {
    byte[] h = new byte[WalFrame.HEADER_SIZE];
    if (readFully(h, 0, h.length, last.offset()) < h.length) {
      return false;
    }
    ByteBuffer bb = ByteBuffer.wrap(h);
    return bb.getInt(0) == (int) last.pageNumber()
        && bb.getInt(16) == last.checksum1()
        && bb.getInt(20) == last.checksum2()
        && bb.getInt(8) == header.salt1()
        && bb.getInt(12) == header.salt2();
  }

  /**
   * Reads the frame at {@code offset} (through the read-ahead chunk); null unless its salts and
   * chained checksum are valid. A valid frame's page image is kept in the arena if it has room.
   */
  private WalFrame readValidFrame(long offset, long prevChecksum, long fileSize) throws IOException {
    int frameSize = WalFrame.HEADER_SIZE + pageSize;
    if (chunkStart < 0 || offset < chunkStart || offset + frameSize > chunkStart + chunkLen) {
      int want = (int) Math.min(Math.min(chunk.capacity(), Math.max(nextRead, frameSize)), fileSize - offset);
      nextRead = Math.min(CHUNK_BYTES, nextRead * 2);
      chunkStart = offset;
      chunk.clear().limit(Math.max(want, 0));
      chunkLen = readFully(chunk, offset);
      if (chunkLen < frameSize) {
        chunkStart = -1;
        return null;
      }
    }
    int at = (int) (offset - chunkStart);
    byte[] h = frameHeader;
    chunk.get(at, h, 0, h.length);
    int pgno = WalChecksum.intBe(h, 0);
    int commitSize = WalChecksum.intBe(h, 4);
    if (WalChecksum.intBe(h, 8) != header.salt1()
        || WalChecksum.intBe(h, 12) != header.salt2()
        || pgno == 0) {
      return null;
    }
    byte[] image = spare;
    int imageAt = arenaCount * pageSize;
    if (imageAt + pageSize <= ARENA_MAX_BYTES) {
      if (arena.length < imageAt + pageSize) {
        arena = Arrays.copyOf(arena, Math.min(ARENA_MAX_BYTES, Math.max(imageAt + pageSize, arena.length * 2)));
      }
      image = arena;
    } else {
      imageAt = 0;
    }
    chunk.get(at + WalFrame.HEADER_SIZE, image, imageAt, pageSize);
    boolean be = header.bigEndianChecksums();
    long sum =
        WalChecksum.compute(be, h, 0, 8, WalChecksum.s0(prevChecksum), WalChecksum.s1(prevChecksum));
    sum = WalChecksum.compute(be, image, imageAt, pageSize, WalChecksum.s0(sum), WalChecksum.s1(sum));
    int c1 = WalChecksum.intBe(h, 16);
    int c2 = WalChecksum.intBe(h, 20);
    if (WalChecksum.s0(sum) != c1 || WalChecksum.s1(sum) != c2) {
      return null;
    }
    if (image == arena) {
      arenaCount++;
    }
    return new WalFrame(
        Integer.toUnsignedLong(pgno), Integer.toUnsignedLong(commitSize), offset, c1, c2);
  }

  private boolean ensureOpen() throws IOException {
    if (channel != null) {
      return true;
    }
    try {
      channel = FileChannel.open(walPath, StandardOpenOption.READ);
      return true;
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  private int readFully(byte[] dest, int off, int len, long position) throws IOException {
    return readFully(ByteBuffer.wrap(dest, off, len), position);
  }

  /** Reads from {@code position} into {@code bb} until it is full or the file ends; bytes read. */
  private int readFully(ByteBuffer bb, long position) throws IOException {
    int start = bb.position();
    long pos = position;
    while (bb.hasRemaining()) {
      int n = channel.read(bb, pos);
      if (n < 0) {
        break;
      }
      pos += n;
    }
    return bb.position() - start;
  }

  /**
   * fsyncs the file's data (Linux allows it on a read-only descriptor): the application's next
   * checkpoint, which fsyncs the WAL before copying, then finds little left to write. No-op if
   * the file does not exist.
   *
   * @throws UncheckedIOException if the fsync fails
   */
  public void force() {
    try {
      if (ensureOpen()) {
        channel.force(false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fsync " + walPath, e);
    }
  }

  /**
   * Drops the file handle so the next call re-opens the path (used when the {@code -wal} file
   * was replaced). Closing a read-only descriptor of the {@code -wal} file is safe: SQLite's POSIX
   * locks live on the database file and the {@code -shm} file.
   */
  @Override
  public void close() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close " + walPath, e);
      }
      channel = null;
    }
  }
}
