package dev.walship.format;

import static dev.walship.format.SegmentFormat.MAX_COUNT;
import static dev.walship.format.SegmentFormat.MAX_PAGE_NUMBER;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds one segment with bounded memory: page images are spooled to a temporary file as they
 * arrive (in any order, e.g. WAL order) and written sorted by (page number, TXID) on {@link
 * #finishTo(Path)}. Commits must be added in TXID order, contiguous from {@code firstTxid}.
 *
 * <p>Usage: {@code create(...)}, then for each captured commit {@code addPage(...)} for its frames
 * and {@code addCommit(...)}, then {@code finishTo(file)} or {@code finish()}.
 *
 * <p>Page images are compressed as they are added, so the spool holds the stored form and the final
 * write only copies. Memory use is about 45 bytes per page image plus one page buffer, a spool
 * buffer that grows from 64 KiB to 4 MiB, and at most 8 MiB of delta base images; the images
 * themselves live in the spool file, which is created only when the stored images outgrow the
 * buffer (a small segment never touches the disk before {@link #finishTo}).
 *
 * <p>Deltas (SPEC.md 2.4, 2.5; incremental LZ4 segments only): the writer keeps, for recently
 * written pages, a copy of the page's image from the latest earlier commit (the base), and stores
 * a later image of that page as an LZ4 block of (image XOR base) when that block is at most 1/16
 * of the page or shorter than the whole stored form (SPEC.md 2.5). The base is always the image of the entry that precedes the new one in
 * the page index: a page written twice by one transaction is compared with the earlier commit's
 * image both times, and an image dropped at {@link #addCommit} never becomes a base. Bases are
 * kept for the most recently written pages within the memory bound; an image whose page has none
 * is stored whole. A segment with at least one delta is written as format v2, any other as v1.
 *
 * <p>Images of a page beyond the database size of the commit that wrote them are dropped at {@link
 * #addCommit}: SQLite may spill such frames to the WAL before a commit that truncates the database,
 * and they are not part of any database state.
 *
 * <p>Not thread-safe. {@link #close()} deletes the spool file.
 */
public final class SegmentWriter implements Closeable {
  /**
   * Stored page data kept in memory before the writer spills to a spool file: a level-0 segment
   * of a busy database (about a second of commits) fits, so it is written once, to its final
   * file, instead of three times (spool, read back, final file). The buffer starts at 64 KiB and
   * doubles as needed, so small segments stay small.
   */
  private static final int SPOOL_BUFFER = 4 << 20;

  private static final int SPOOL_BUFFER_INITIAL = 64 << 10;

  /** Memory for delta base images (each page size bytes), per writer. */
  static final long DELTA_BASE_BYTES = 8 << 20;

  private final SegmentKind kind;
  private final int level;
  private final int pageSize;
  private final long firstTxid;
  private final long checksumBefore;
  private final Compression compression;
  private final Path spoolDir;
  private Path spoolFile; // created on the first flush of spoolBuffer
  private FileChannel spool;
  private ByteBuffer spoolBuffer;
  private final int spoolLimit;
  private long spoolFlushed;
  private final SegmentEncoder.PageStorer storer;

  private final List<CommitRecord> commits = new ArrayList<>();
  private final Map<Long, Integer> currentCommitPages = new HashMap<>();

  /** Whether images may be stored as deltas: incremental, LZ4, room for at least two images. */
  private final boolean deltas;
  /** Pages with a base image or an image of the current commit kept, least recently used first. */
  private final LinkedHashMap<Long, Tracked> tracked = new LinkedHashMap<>(64, 0.75f, true);
  /** Tracked pages written by the current commit. */
  private final List<Tracked> touched = new ArrayList<>();
  private final ArrayDeque<byte[]> spareImages = new ArrayDeque<>();
  private final int maxImages;
  private int images; // page-size arrays allocated for bases and current images

  // One entry per page image added: parallel growable arrays.
  private int count;
  private long[] pageNumbers = new long[64];
  private long[] txids = new long[64];
  private long[] spoolOffsets = new long[64];
  private int[] lengths = new int[64];
  private int[] crcs = new int[64];
  private byte[] flags = new byte[64];
  private int[] baseEntries = new int[64]; // entry a delta was computed against, or -1
  private int live; // entries not replaced or dropped (length >= 0)
  private long pageBytes;
  private boolean closed;
  private boolean finished;

  private SegmentWriter(
      SegmentKind kind,
      int level,
      int pageSize,
      long firstTxid,
      long checksumBefore,
      Compression compression,
      Path spoolDir,
      int spoolBufferBytes,
      long deltaBaseBytes,
      boolean reference) {
    this.kind = kind;
    this.level = level;
    this.pageSize = pageSize;
    this.firstTxid = firstTxid;
    this.checksumBefore = checksumBefore;
    this.compression = compression;
    this.spoolDir = spoolDir;
    this.spoolLimit = Math.max(spoolBufferBytes, pageSize);
    this.spoolBuffer = ByteBuffer.allocate(Math.min(spoolLimit, Math.max(SPOOL_BUFFER_INITIAL, pageSize)));
    this.storer = new SegmentEncoder.PageStorer(compression, pageSize, reference);
    this.maxImages = (int) Math.min(Integer.MAX_VALUE, deltaBaseBytes / pageSize);
    this.deltas =
        kind == SegmentKind.INCREMENTAL && compression == Compression.LZ4 && maxImages >= 2;
  }

  /**
   * @param kind incremental or snapshot
   * @param level compaction level (0 from the primary), 0..255
   * @param pageSize bytes per page, a power of two in 512..65536
   * @param firstTxid first TXID this segment will cover, >= 1
   * @param checksumBefore database checksum at {@code firstTxid - 1} (0 for a snapshot)
   * @param compression how page images are stored
   * @param spoolDir directory for the temporary spool file (created there only when the segment
   *     outgrows 4 MiB of stored page data)
   * @throws IllegalArgumentException if an argument is out of range or {@code spoolDir} is not a
   *     directory
   */
  public static SegmentWriter create(
      SegmentKind kind,
      int level,
      int pageSize,
      long firstTxid,
      long checksumBefore,
      Compression compression,
      Path spoolDir) {
    return create(
        kind,
        level,
        pageSize,
        firstTxid,
        checksumBefore,
        compression,
        spoolDir,
        SPOOL_BUFFER,
        DELTA_BASE_BYTES,
        false);
  }

  /**
   * As above with a given spool buffer size (tests use small buffers to exercise spilling), memory
   * bound for delta base images (tests exceed it; below two pages no delta is written) and, if
   * {@code reference}, the reference LZ4 compressor (golden vectors, SPEC.md 2.5).
   */
  static SegmentWriter create(
      SegmentKind kind,
      int level,
      int pageSize,
      long firstTxid,
      long checksumBefore,
      Compression compression,
      Path spoolDir,
      int spoolBufferBytes,
      long deltaBaseBytes,
      boolean reference) {
    SegmentCodec.checkHeader(kind, level, pageSize, firstTxid, checksumBefore);
    Objects.requireNonNull(compression, "compression");
    Objects.requireNonNull(spoolDir, "spoolDir");
    if (!Files.isDirectory(spoolDir)) {
      throw new IllegalArgumentException("spool directory " + spoolDir + " is not a directory");
    }
    return new SegmentWriter(
        kind,
        level,
        pageSize,
        firstTxid,
        checksumBefore,
        compression,
        spoolDir,
        spoolBufferBytes,
        deltaBaseBytes,
        reference);
  }

  private long nextTxid() {
    return firstTxid + commits.size();
  }

  /**
   * Adds a page image written by commit {@code txid} (which must be the commit being built, i.e.
   * the TXID after the last {@link #addCommit}). A second image of the same page for the same TXID
   * replaces the first (a transaction may write a page twice in the WAL). The image is compressed
   * (and compared with its delta base, if any) before this returns; {@code data} is not kept.
   *
   * @param pageNumber 1-based page number, at most 2^32-1
   * @param data buffer holding the image at {@code data[offset, offset + pageSize)}
   * @throws IllegalArgumentException if {@code data} is not page-size bytes, the page number is out
   *     of range, or {@code txid} is not the commit being built
   * @throws IllegalStateException if the writer is closed or finished, or a snapshot's commit was
   *     already added
   */
  public void addPage(long pageNumber, long txid, byte[] data, int offset) {
    checkAdding();
    if (kind == SegmentKind.SNAPSHOT && !commits.isEmpty()) {
      throw new IllegalStateException("a snapshot covers one TXID; its commit was already added");
    }
    if (txid != nextTxid()) {
      throw new IllegalArgumentException(
          "page "
              + pageNumber
              + " has TXID "
              + txid
              + " but the commit being built is "
              + nextTxid());
    }
    if (pageNumber < 1 || pageNumber > MAX_PAGE_NUMBER) {
      throw new IllegalArgumentException("page number must be in 1..2^32-1, got " + pageNumber);
    }
    Objects.requireNonNull(data, "data");
    if (offset < 0 || offset > data.length - pageSize) {
      throw new IllegalArgumentException(
          "page "
              + pageNumber
              + ": need "
              + pageSize
              + " bytes at offset "
              + offset
              + " but the array holds "
              + data.length);
    }
    if (count == MAX_COUNT) {
      throw new IllegalStateException("a segment holds at most " + MAX_COUNT + " page images");
    }
    Tracked t = deltas ? tracked.get(pageNumber) : null;
    storer.store(data, offset, t == null ? null : t.base, 0);
    long at = spoolWrite(storer.array(), storer.offset(), storer.length());
    Integer previous = currentCommitPages.put(pageNumber, count);
    if (previous != null) {
      pageBytes -= pageSize;
      lengths[previous] = -1;
      live--;
    }
    grow();
    pageNumbers[count] = pageNumber;
    txids[count] = txid;
    spoolOffsets[count] = at;
    lengths[count] = storer.length();
    crcs[count] = storer.crc();
    flags[count] = storer.delta() ? (byte) SegmentFormat.ENTRY_DELTA : 0;
    baseEntries[count] = storer.delta() ? t.baseEntry : -1;
    if (deltas) {
      keepImage(pageNumber, t, data, offset, count);
    }
    count++;
    live++;
    pageBytes += pageSize;
  }

  /** A page whose latest image may serve as the next commit's delta base. */
  private static final class Tracked {
    final long page;
    byte[] base; // image of entry baseEntry, from an earlier commit; null if none
    int baseEntry = -1;
    byte[] current; // copy of the current commit's latest image of the page, or null
    int lastEntry = -1; // the current commit's latest entry of the page
    boolean touched; // in the list of pages the current commit wrote
    boolean evicted; // removed to make room; ignored at commit

    Tracked(long page) {
      this.page = page;
    }
  }

  /** Copies entry {@code entry}'s image as the page's next base, memory permitting. */
  private void keepImage(long pageNumber, Tracked t, byte[] data, int offset, int entry) {
    if (t == null) {
      byte[] a = takeImage(pageNumber);
      if (a == null) {
        return; // no room: the next image of this page is stored whole
      }
      t = new Tracked(pageNumber);
      t.current = a;
      tracked.put(pageNumber, t);
    } else if (t.current == null) {
      t.current = takeImage(pageNumber);
    }
    if (t.current != null) {
      System.arraycopy(data, offset, t.current, 0, pageSize);
    }
    t.lastEntry = entry;
    if (!t.touched) {
      t.touched = true;
      touched.add(t);
    }
  }

  /**
   * A page-size array: a spare one, a new one within the memory bound, or one taken from the least
   * recently written other page (which then has no base); null if none can be had.
   */
  private byte[] takeImage(long forPage) {
    byte[] a = spareImages.poll();
    if (a != null) {
      return a;
    }
    if (images < maxImages) {
      images++;
      return new byte[pageSize];
    }
    for (Iterator<Tracked> it = tracked.values().iterator(); it.hasNext(); ) {
      Tracked victim = it.next();
      if (victim.page != forPage) {
        it.remove();
        victim.evicted = true;
        release(victim.base);
        release(victim.current);
        victim.base = null;
        victim.current = null;
        return spareImages.poll();
      }
    }
    return null;
  }

  private void release(byte[] image) {
    if (image != null) {
      spareImages.push(image);
    }
  }

  /**
   * After a commit: each page it wrote gets the commit's kept image as its base; a page whose image
   * was dropped keeps its earlier base (still the previous entry of the page); a page whose image
   * could not be copied has none.
   */
  private void rotateBases() {
    for (Tracked t : touched) {
      t.touched = false;
      if (t.evicted) {
        continue;
      }
      if (lengths[t.lastEntry] < 0) { // dropped beyond the database size
        release(t.current);
      } else {
        release(t.base);
        t.base = t.current;
        t.baseEntry = t.lastEntry;
      }
      t.current = null;
      if (t.base == null) {
        tracked.remove(t.page);
      }
    }
    touched.clear();
  }

  /**
   * Closes the current commit.
   *
   * @throws IllegalArgumentException if its TXID is out of order, its database size is outside
   *     0..2^32-1 pages, or its time is negative
   * @throws IllegalStateException if the writer is closed or finished, or this is a snapshot's
   *     second commit
   */
  public void addCommit(CommitRecord commit) {
    checkAdding();
    Objects.requireNonNull(commit, "commit");
    if (kind == SegmentKind.SNAPSHOT && !commits.isEmpty()) {
      throw new IllegalStateException("a snapshot covers one TXID; its commit was already added");
    }
    SegmentCodec.checkCommit(commit, nextTxid());
    for (Map.Entry<Long, Integer> e : currentCommitPages.entrySet()) {
      if (e.getKey() > commit.dbSizePages()) {
        lengths[e.getValue()] = -1;
        live--;
        pageBytes -= pageSize;
      }
    }
    currentCommitPages.clear();
    if (deltas) {
      rotateBases();
    }
    commits.add(commit);
  }

  /** Number of commits added so far. */
  public int commitCount() {
    return commits.size();
  }

  /** Page-size arrays allocated for delta bases so far (tests of the memory bound). */
  int deltaImagesAllocated() {
    return images;
  }

  /** Bytes of page data (uncompressed, page size times images kept) added so far. */
  public long pageBytes() {
    return pageBytes;
  }

  /**
   * Writes the complete segment to {@code file} (created or replaced; not fsynced) and returns its
   * size in bytes. May be called more than once; no page or commit can be added afterwards.
   *
   * @throws IllegalStateException if no commit was added, pages were added after the last commit,
   *     or a snapshot does not hold every page 1..database size
   * @throws UncheckedIOException if writing fails
   */
  public long finishTo(Path file) {
    try (OutputStream out =
        Files.newOutputStream(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      return writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException("writing segment " + file, e);
    }
  }

  /**
   * Encodes the complete segment in memory; for small segments and tests. Same rules as {@link
   * #finishTo(Path)}.
   */
  public byte[] finish() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException("spooling segment", e);
    }
    return out.toByteArray();
  }

  private long writeTo(OutputStream out) throws IOException {
    checkOpen();
    if (commits.isEmpty()) {
      throw new IllegalStateException("a segment holds at least one commit; none was added");
    }
    if (!currentCommitPages.isEmpty()) {
      throw new IllegalStateException(
          currentCommitPages.size()
              + " page images were added for TXID "
              + nextTxid()
              + " but its commit was not added");
    }
    finished = true;
    // Entries are in TXID order already (commits are added in order); a stable sort by page
    // number gives (page number, TXID) order. Key: page number in the high 32 bits, entry index
    // in the low 32, sign bit flipped so signed order is unsigned order.
    long[] keys = new long[live];
    int k = 0;
    for (int i = 0; i < count; i++) {
      if (lengths[i] >= 0) {
        keys[k++] = ((pageNumbers[i] << 32) | i) ^ Long.MIN_VALUE;
      }
    }
    Arrays.sort(keys);
    int[] order = new int[live];
    long[] sortedPages = new long[live];
    long[] sortedTxids = new long[live];
    int[] sortedLengths = new int[live];
    int[] sortedCrcs = new int[live];
    byte[] sortedFlags = new byte[live];
    for (int j = 0; j < live; j++) {
      int i = (int) (keys[j] & 0xFFFF_FFFFL);
      order[j] = i;
      sortedPages[j] = pageNumbers[i];
      sortedTxids[j] = txids[i];
      sortedLengths[j] = lengths[i];
      sortedCrcs[j] = crcs[i];
      sortedFlags[j] = flags[i];
      // A reader decodes a delta against the previous index entry: it must be the base used.
      if (flags[i] != 0 && (j == 0 || order[j - 1] != baseEntries[i])) {
        throw new IllegalStateException(
            "internal error: the delta of page "
                + pageNumbers[i]
                + " at TXID "
                + txids[i]
                + " does not follow its base entry");
      }
    }
    if (kind == SegmentKind.SNAPSHOT) {
      long dbSize = commits.get(0).dbSizePages();
      for (int j = 0; j < live; j++) {
        if (sortedPages[j] != j + 1) {
          throw new IllegalStateException(
              "a snapshot holds every page 1.." + dbSize + "; page " + (j + 1) + " is missing");
        }
      }
      if (live != dbSize) {
        throw new IllegalStateException(
            "a snapshot holds every page 1.." + dbSize + "; it has " + live + " pages");
      }
    }
    byte[] copyBuffer = new byte[pageSize];
    ByteBuffer copy = ByteBuffer.wrap(copyBuffer);
    SegmentEncoder.Header header =
        new SegmentEncoder.Header(
            kind, level, compression, pageSize, firstTxid, nextTxid() - 1, checksumBefore);
    return SegmentEncoder.write(
        out,
        header,
        commits,
        live,
        sortedPages,
        sortedTxids,
        sortedLengths,
        sortedCrcs,
        sortedFlags,
        (j, o) -> {
          int i = order[j];
          long pos = spoolOffsets[i];
          if (pos >= spoolFlushed) { // still in the buffer: never split across file and buffer
            o.write(spoolBuffer.array(), (int) (pos - spoolFlushed), lengths[i]);
            return;
          }
          copy.clear().limit(lengths[i]);
          while (copy.hasRemaining()) {
            if (spool.read(copy, pos + copy.position()) < 0) {
              throw new IOException("spool file " + spoolFile + " ended early");
            }
          }
          o.write(copyBuffer, 0, lengths[i]);
        });
  }

  private long spoolWrite(byte[] a, int off, int len) {
    long at = spoolFlushed + spoolBuffer.position();
    if (spoolBuffer.remaining() < len && spoolBuffer.capacity() < spoolLimit) {
      int capacity = (int) Math.min(spoolLimit,
          Math.max(2L * spoolBuffer.capacity(), (long) spoolBuffer.position() + len));
      ByteBuffer bigger = ByteBuffer.allocate(capacity);
      spoolBuffer.flip();
      bigger.put(spoolBuffer);
      spoolBuffer = bigger;
    }
    if (spoolBuffer.remaining() < len) {
      flushSpool();
    }
    spoolBuffer.put(a, off, len);
    return at;
  }

  private void flushSpool() {
    spoolBuffer.flip();
    try {
      if (spool == null) {
        spoolFile = Files.createTempFile(spoolDir, "segment-", ".spool");
        spool = FileChannel.open(spoolFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
      }
      while (spoolBuffer.hasRemaining()) {
        spoolFlushed += spool.write(spoolBuffer, spoolFlushed);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing spool file " + spoolFile, e);
    } finally {
      spoolBuffer.clear();
    }
  }

  private void grow() {
    if (count == pageNumbers.length) {
      int n = (int) Math.min((long) count * 2, MAX_COUNT);
      pageNumbers = Arrays.copyOf(pageNumbers, n);
      txids = Arrays.copyOf(txids, n);
      spoolOffsets = Arrays.copyOf(spoolOffsets, n);
      lengths = Arrays.copyOf(lengths, n);
      crcs = Arrays.copyOf(crcs, n);
      flags = Arrays.copyOf(flags, n);
      baseEntries = Arrays.copyOf(baseEntries, n);
    }
  }

  private void checkAdding() {
    checkOpen();
    if (finished) {
      throw new IllegalStateException("segment writer already finished; nothing can be added");
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("segment writer is closed");
    }
  }

  /** Deletes the spool file. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (spoolFile == null) {
      return;
    }
    try {
      if (spool != null) {
        spool.close();
      }
      Files.deleteIfExists(spoolFile);
    } catch (IOException e) {
      throw new UncheckedIOException("deleting spool file " + spoolFile, e);
    }
  }
}
