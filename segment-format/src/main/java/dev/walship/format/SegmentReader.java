package dev.walship.format;

import static dev.walship.format.SegmentFormat.*;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Strict reader of one segment, format v1 or v2: {@code open} verifies the file checksum and every
 * structural rule (magic, version, reserved bytes zero, sizes, ordering, TXID range, delta rules)
 * before giving access to anything; a violation throws {@link CorruptSegmentException} (or a
 * subclass) naming the source, offset and expected versus found values. Page images are
 * decompressed on demand, so a restore can read only the versions it needs.
 *
 * <p>What {@code open} checks, in order (SPEC.md, "Reading and verification"): length at least a
 * minimal segment, magic, format version, the lengths implied by the header against the actual
 * length, the end magic, the file CRC32C, the metadata CRC32C, reserved bytes and flags, header
 * fields, the commit table, the page index (order, ranges, offsets, lengths) and every page's
 * CRC32C. Only a malformed LZ4 block inside a page whose CRC32C matches (possible only from a
 * faulty writer) is found later, by {@link #readPage}; {@link #verifyPages()} and {@link
 * #toSegment()} decompress everything first.
 *
 * <p>Delta entries (v2, {@link #isDelta}): reading one decodes its page's chain from the nearest
 * whole image before it (or from the image this thread decoded last, if that is the previous
 * entry), so reading the entries of a chain in index order costs one decode each, and reading one
 * entry at random costs up to the length of its chain.
 *
 * <p>Safe for concurrent reads after {@code open}: the reader is immutable; the decoding buffers
 * and the last decoded image are per thread (a thread keeps at most three 64 KiB buffers for all
 * readers). A large file is memory-mapped; the mapping is released by the garbage collector, not
 * by {@link #close()}.
 */
public final class SegmentReader implements Closeable {
  private static final LZ4SafeDecompressor LZ4 = LZ4Factory.fastestInstance().safeDecompressor();

  /**
   * Files up to this size are read into the heap; larger ones are memory-mapped. A mapping is
   * released only when the garbage collector finds its buffer unreachable, so mapping every small
   * segment could exhaust the process's mapping limit (vm.max_map_count) between collections.
   */
  static final long MAP_THRESHOLD = 16L << 20;

  /** Per-thread decoding buffers and the last image the thread decoded (of any reader). */
  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  private static final java.util.concurrent.atomic.AtomicLong IDS =
      new java.util.concurrent.atomic.AtomicLong();

  private static final class Buffers {
    final byte[] stored = new byte[MAX_PAGE_SIZE]; // stored bytes of a mapped file
    final byte[] delta = new byte[MAX_PAGE_SIZE]; // a decoded delta block
    final byte[] last = new byte[MAX_PAGE_SIZE]; // the image of entry lastEntry of reader lastId
    long lastId = -1;
    int lastEntry = -1;
  }

  /** Identifies this reader in the per-thread cache (never reused, unlike identity hashes). */
  private final long id = IDS.incrementAndGet();

  private final String source;
  private final SegmentBytes bytes;
  private final SegmentKind kind;
  private final int level;
  private final Compression compression;
  private final int pageSize;
  private final long firstTxid;
  private final long lastTxid;
  private final long dbSizePages;
  private final long checksumBefore;
  private final long checksumAfter;
  private final int commitCount;
  private final int pageCount;
  private final int version;
  private final long indexStart;
  private final long bodyStart;
  private final List<CommitRecord> commits;

  /**
   * Opens and verifies a segment file. Files up to 16 MiB are read into memory, larger ones are
   * memory-mapped (in 1 GiB chunks, so any size works). {@code source} names it in errors.
   *
   * @throws CorruptSegmentException (or a subclass) if any rule is violated
   * @throws UncheckedIOException if the file cannot be opened or mapped
   */
  public static SegmentReader open(Path file, String source) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size <= MAP_THRESHOLD) {
        byte[] bytes = new byte[(int) size];
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          if (ch.read(buf, buf.position()) < 0) {
            break; // the file shrank while being read: the length checks report it
          }
        }
        return new SegmentReader(
            SegmentBytes.of(
                buf.position() == size ? bytes : java.util.Arrays.copyOf(bytes, buf.position())),
            source);
      }
      return new SegmentReader(SegmentBytes.map(ch), source);
    } catch (IOException e) {
      throw new UncheckedIOException("opening segment " + source + " (" + file + ")", e);
    }
  }

  /** Always memory-maps, in chunks of {@code chunkSize} bytes; for tests of the chunking. */
  static SegmentReader openMapped(Path file, String source, long chunkSize) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return new SegmentReader(SegmentBytes.map(ch, chunkSize), source);
    } catch (IOException e) {
      throw new UncheckedIOException("opening segment " + source + " (" + file + ")", e);
    }
  }

  /**
   * Opens and verifies a segment held in memory (not copied: do not mutate {@code bytes}).
   *
   * @throws CorruptSegmentException (or a subclass) if any rule is violated
   */
  public static SegmentReader open(byte[] bytes, String source) {
    return new SegmentReader(SegmentBytes.of(Objects.requireNonNull(bytes, "bytes")), source);
  }

  private SegmentReader(SegmentBytes b, String source) {
    this.source = source;
    this.bytes = b;
    long size = b.size();
    long minimal = HEADER_SIZE + META_CHECK_SIZE + TRAILER_SIZE;
    // 1. Magic and version: nothing else can be interpreted without them.
    if (size < OFF_VERSION + 2) {
      throw new TruncatedSegmentException(
          source, size, "segment length", "at least " + minimal + " bytes", size + " bytes");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if ((byte) b.u8(i) != MAGIC[i]) {
        throw new CorruptSegmentException(
            source, i, "magic", hex(MAGIC), hex(b, 0, (int) Math.min(8, size)));
      }
    }
    this.version = b.u16(OFF_VERSION);
    if (version != VERSION_1 && version != VERSION_2) {
      throw new UnsupportedFormatVersionException(
          source, OFF_VERSION, "format version", VERSION_1 + " or " + VERSION_2, version);
    }
    if (size < minimal) {
      throw new TruncatedSegmentException(
          source, size, "segment length", "at least " + minimal + " bytes", size + " bytes");
    }
    // 2. Lengths implied by the header, then the checksums over the bytes.
    long commitCountField = b.u32(OFF_COMMIT_COUNT);
    long pageCountField = b.u32(OFF_PAGE_COUNT);
    long bodyLength = b.i64(OFF_BODY_LENGTH);
    if (bodyLength < 0 || bodyLength > Long.MAX_VALUE / 2) {
      throw fail(OFF_BODY_LENGTH, "body length", "0..2^62", bodyLength);
    }
    long expectedSize = bodyStart(commitCountField, pageCountField) + bodyLength + TRAILER_SIZE;
    if (size < expectedSize) {
      throw new TruncatedSegmentException(
          source, size, "segment length (from header counts)", expectedSize, size);
    }
    if (size > expectedSize) {
      throw new CorruptSegmentException(
          source, expectedSize, "segment length (from header counts)", expectedSize, size);
    }
    long trailer = size - TRAILER_SIZE;
    int endMagic = b.i32(trailer + 4);
    if (endMagic != END_MAGIC) {
      throw new CorruptSegmentException(
          source, trailer + 4, "end magic", hex32(END_MAGIC), hex32(endMagic));
    }
    CRC32C crc = new CRC32C();
    b.crc(crc, 0, trailer);
    int storedFileCrc = b.i32(trailer);
    if ((int) crc.getValue() != storedFileCrc) {
      throw new ChecksumMismatchException(
          source, trailer, "file CRC32C", hex32(storedFileCrc), hex32((int) crc.getValue()));
    }
    if (commitCountField < 1 || commitCountField > MAX_COUNT) {
      throw fail(OFF_COMMIT_COUNT, "commit count", "1.." + MAX_COUNT, commitCountField);
    }
    if (pageCountField > MAX_COUNT) {
      throw fail(OFF_PAGE_COUNT, "page count", "0.." + MAX_COUNT, pageCountField);
    }
    this.commitCount = (int) commitCountField;
    this.pageCount = (int) pageCountField;
    long metaEnd = metaEnd(commitCount, pageCount);
    crc.reset();
    b.crc(crc, 0, metaEnd);
    int storedMetaCrc = b.i32(metaEnd);
    if ((int) crc.getValue() != storedMetaCrc) {
      throw new ChecksumMismatchException(
          source, metaEnd, "metadata CRC32C", hex32(storedMetaCrc), hex32((int) crc.getValue()));
    }
    requireZero(metaEnd + 4, 4, "reserved bytes after the metadata CRC32C");
    // 3. Header fields.
    int flags = b.u16(OFF_FLAGS);
    if (flags != 0) {
      throw fail(OFF_FLAGS, "flags (none are defined)", 0, flags);
    }
    requireZero(OFF_RESERVED_15, 1, "reserved header byte");
    requireZero(OFF_RESERVED_68, 4, "reserved header bytes");
    requireZero(OFF_RESERVED_80, HEADER_SIZE - OFF_RESERVED_80, "reserved header bytes");
    int kindId = b.u8(OFF_KIND);
    this.kind =
        switch (kindId) {
          case 0 -> SegmentKind.INCREMENTAL;
          case 1 -> SegmentKind.SNAPSHOT;
          default -> throw fail(OFF_KIND, "kind", "0 (incremental) or 1 (snapshot)", kindId);
        };
    this.level = b.u8(OFF_LEVEL);
    int compressionId = b.u8(OFF_COMPRESSION);
    this.compression =
        switch (compressionId) {
          case 0 -> Compression.NONE;
          case 1 -> Compression.LZ4;
          default ->
              throw fail(OFF_COMPRESSION, "compression", "0 (none) or 1 (lz4)", compressionId);
        };
    this.pageSize = b.i32(OFF_PAGE_SIZE);
    if (!validPageSize(pageSize)) {
      throw fail(OFF_PAGE_SIZE, "page size", "a power of two in 512..65536", pageSize);
    }
    this.firstTxid = b.i64(OFF_FIRST_TXID);
    this.lastTxid = b.i64(OFF_LAST_TXID);
    this.dbSizePages = b.i64(OFF_DB_SIZE);
    this.checksumBefore = b.i64(OFF_CHECKSUM_BEFORE);
    this.checksumAfter = b.i64(OFF_CHECKSUM_AFTER);
    if (firstTxid < 1) {
      throw fail(OFF_FIRST_TXID, "first TXID", ">= 1", firstTxid);
    }
    if (lastTxid != firstTxid + commitCount - 1) {
      throw fail(
          OFF_LAST_TXID,
          "last TXID",
          "first TXID + commit count - 1 = " + (firstTxid + commitCount - 1),
          lastTxid);
    }
    if (kind == SegmentKind.SNAPSHOT) {
      if (commitCount != 1) {
        throw fail(OFF_COMMIT_COUNT, "commit count of a snapshot", 1, commitCount);
      }
      if (checksumBefore != 0) {
        throw fail(
            OFF_CHECKSUM_BEFORE, "checksum before of a snapshot", hex64(0), hex64(checksumBefore));
      }
    }
    // 4. Commit table.
    List<CommitRecord> list = new ArrayList<>(commitCount);
    long pos = HEADER_SIZE;
    for (int i = 0; i < commitCount; i++, pos += COMMIT_ENTRY_SIZE) {
      long txid = b.i64(pos + CE_TXID);
      long time = b.i64(pos + CE_TIME);
      long size2 = b.i64(pos + CE_DB_SIZE);
      long after = b.i64(pos + CE_CHECKSUM_AFTER);
      if (txid != firstTxid + i) {
        throw fail(pos + CE_TXID, "commit TXID (contiguous)", firstTxid + i, txid);
      }
      if (time < 0) {
        throw fail(pos + CE_TIME, "commit time (ms since the epoch)", ">= 0", time);
      }
      if (size2 < 0 || size2 > MAX_PAGE_NUMBER) {
        throw fail(pos + CE_DB_SIZE, "database size (pages)", "0..2^32-1", size2);
      }
      list.add(new CommitRecord(txid, time, size2, after));
    }
    this.commits = Collections.unmodifiableList(list);
    CommitRecord last = list.get(commitCount - 1);
    if (dbSizePages != last.dbSizePages()) {
      throw fail(
          OFF_DB_SIZE,
          "database size (equal to the last commit's)",
          last.dbSizePages(),
          dbSizePages);
    }
    if (checksumAfter != last.checksumAfter()) {
      throw fail(
          OFF_CHECKSUM_AFTER,
          "checksum after (equal to the last commit's)",
          hex64(last.checksumAfter()),
          hex64(checksumAfter));
    }
    // 5. Page index and per-page CRC32C.
    this.indexStart = pos;
    this.bodyStart = bodyStart(commitCount, pageCount);
    if (kind == SegmentKind.SNAPSHOT && pageCount != dbSizePages) {
      throw new OutOfOrderPagesException(
          source,
          OFF_PAGE_COUNT,
          "page count of a snapshot (every page 1..database size once)",
          dbSizePages,
          pageCount);
    }
    long expectedOffset = 0;
    long prevPage = 0;
    long prevTxid = 0;
    int deltaCount = 0;
    for (int i = 0; i < pageCount; i++, pos += INDEX_ENTRY_SIZE) {
      long pageNumber = b.u32(pos + IE_PAGE_NUMBER);
      int length = b.i32(pos + IE_STORED_LENGTH);
      long txid = b.i64(pos + IE_TXID);
      long offset = b.i64(pos + IE_BODY_OFFSET);
      int pageCrc = b.i32(pos + IE_CRC);
      boolean delta = false;
      if (version == VERSION_1) {
        requireZero(pos + IE_FLAGS, 4, "reserved bytes of page index entry " + i);
      } else {
        int entryFlags = b.u8(pos + IE_FLAGS);
        if ((entryFlags & ~ENTRY_DELTA) != 0) {
          throw fail(
              pos + IE_FLAGS,
              "flags of page index entry " + i + " (only bit 0, delta, is defined)",
              "0 or 1",
              entryFlags);
        }
        delta = entryFlags == ENTRY_DELTA;
        requireZero(
            pos + IE_RESERVED, INDEX_ENTRY_SIZE - IE_RESERVED,
            "reserved bytes of page index entry " + i);
      }
      if (txid < firstTxid || txid > lastTxid) {
        throw fail(
            pos + IE_TXID, "TXID of page index entry " + i, firstTxid + ".." + lastTxid, txid);
      }
      long sizeAtTxid = list.get((int) (txid - firstTxid)).dbSizePages();
      if (pageNumber < 1 || pageNumber > sizeAtTxid) {
        throw fail(
            pos + IE_PAGE_NUMBER,
            "page number of entry " + i + " (within the database size after TXID " + txid + ")",
            "1.." + sizeAtTxid,
            pageNumber);
      }
      if (pageNumber < prevPage || (pageNumber == prevPage && txid <= prevTxid)) {
        throw new OutOfOrderPagesException(
            source,
            pos,
            "page index order (page number, TXID) strictly increasing",
            "after (" + prevPage + ", " + prevTxid + ")",
            "(" + pageNumber + ", " + txid + ")");
      }
      if (kind == SegmentKind.SNAPSHOT && pageNumber != i + 1) {
        throw new OutOfOrderPagesException(
            source, pos, "snapshot page number of entry " + i, i + 1, pageNumber);
      }
      if (delta) {
        if (compression != Compression.LZ4) {
          throw fail(
              pos + IE_FLAGS,
              "delta flag of page index entry " + i + " (deltas need compression 1, LZ4)",
              0,
              1);
        }
        if (pageNumber != prevPage) { // also the first entry: prevPage is 0
          throw fail(
              pos + IE_FLAGS,
              "delta flag of page index entry "
                  + i
                  + " (a delta follows an entry of the same page, "
                  + pageNumber
                  + ")",
              0,
              1);
        }
        deltaCount++;
      }
      boolean lengthOk =
          compression == Compression.NONE
              ? length == pageSize
              : length >= 1 && length <= (delta ? pageSize - 1 : pageSize);
      if (!lengthOk) {
        throw fail(
            pos + IE_STORED_LENGTH,
            "stored length of entry " + i + (delta ? " (a delta is an LZ4 block)" : ""),
            compression == Compression.NONE
                ? pageSize
                : "1.." + (delta ? pageSize - 1 : pageSize),
            length);
      }
      if (offset != expectedOffset) {
        throw fail(pos + IE_BODY_OFFSET, "body offset of entry " + i, expectedOffset, offset);
      }
      if (length > bodyLength - offset) {
        throw fail(
            pos + IE_STORED_LENGTH,
            "stored length of entry " + i + " (within the body length " + bodyLength + ")",
            "<= " + (bodyLength - offset),
            length);
      }
      crc.reset();
      b.crc(crc, bodyStart + offset, length);
      if ((int) crc.getValue() != pageCrc) {
        throw new ChecksumMismatchException(
            source,
            pos + IE_CRC,
            "page CRC32C of entry " + i + " (page " + pageNumber + ", TXID " + txid + ")",
            hex32(pageCrc),
            hex32((int) crc.getValue()));
      }
      expectedOffset += length;
      prevPage = pageNumber;
      prevTxid = txid;
    }
    if (expectedOffset != bodyLength) {
      throw fail(
          OFF_BODY_LENGTH, "body length (sum of stored lengths)", expectedOffset, bodyLength);
    }
    if (version == VERSION_2 && deltaCount == 0) {
      throw fail(
          OFF_VERSION,
          "format version 2 without a delta entry (such a segment is written as version 1)",
          VERSION_1,
          version);
    }
  }

  private CorruptSegmentException fail(long offset, String what, Object expected, Object found) {
    return new CorruptSegmentException(source, offset, what, expected, found);
  }

  private void requireZero(long pos, int len, String what) {
    long at = bytes.firstNonZero(pos, len);
    if (at >= 0) {
      throw new CorruptSegmentException(
          source, at, what + " (reserved bytes are zero)", 0, bytes.u8(at));
    }
  }

  /** The name given at open (object key or file). */
  public String source() {
    return source;
  }

  /** Format version of this file: 1, or 2 if it holds delta entries. */
  public int formatVersion() {
    return version;
  }

  /** Incremental or snapshot (header byte 12). */
  public SegmentKind kind() {
    return kind;
  }

  /** Compaction level, 0..255 (0 for segments written by the primary). */
  public int level() {
    return level;
  }

  /** How page images are stored in this file. */
  public Compression compression() {
    return compression;
  }

  /** Page size in bytes. */
  public int pageSize() {
    return pageSize;
  }

  /** First TXID covered (the one the level-0 key is named by). */
  public long firstTxid() {
    return firstTxid;
  }

  /** Last TXID covered, inclusive. */
  public long lastTxid() {
    return lastTxid;
  }

  /** Database checksum at {@code firstTxid - 1} (0 for a snapshot). */
  public long checksumBefore() {
    return checksumBefore;
  }

  /** Database checksum after {@code lastTxid}. */
  public long checksumAfter() {
    return checksumAfter;
  }

  /** Database size in pages after {@code lastTxid}. */
  public long dbSizePages() {
    return dbSizePages;
  }

  /** Length of the segment in bytes. */
  public long sizeBytes() {
    return bytes.size();
  }

  /** One record per TXID, firstTxid..lastTxid (unmodifiable). */
  public List<CommitRecord> commits() {
    return commits;
  }

  /**
   * The record of commit {@code txid}.
   *
   * @throws IllegalArgumentException if {@code txid} is outside firstTxid..lastTxid
   */
  public CommitRecord commit(long txid) {
    if (txid < firstTxid || txid > lastTxid) {
      throw new IllegalArgumentException(
          source + ": TXID " + txid + " outside " + firstTxid + ".." + lastTxid);
    }
    return commits.get((int) (txid - firstTxid));
  }

  /** Number of page images. */
  public int pageCount() {
    return pageCount;
  }

  private long entry(int index) {
    Objects.checkIndex(index, pageCount);
    return indexStart + (long) index * INDEX_ENTRY_SIZE;
  }

  /** Page number of the i-th image (index order: page number, then TXID). */
  public long pageNumber(int index) {
    return bytes.u32(entry(index) + IE_PAGE_NUMBER);
  }

  /** TXID that wrote the i-th image. */
  public long pageTxid(int index) {
    return bytes.i64(entry(index) + IE_TXID);
  }

  /** Stored (possibly compressed) length of the i-th image in bytes. */
  public int storedLength(int index) {
    return bytes.i32(entry(index) + IE_STORED_LENGTH);
  }

  /**
   * Whether the i-th image is stored as a delta against the image of entry {@code i - 1} (the same
   * page; SPEC.md 2.5). Always false in a v1 segment.
   */
  public boolean isDelta(int index) {
    return version == VERSION_2 && bytes.u8(entry(index) + IE_FLAGS) == ENTRY_DELTA;
  }

  /**
   * Index of the newest image of {@code pageNumber} with {@code txid <= uptoTxid}, or -1 if this
   * segment holds none. Binary search: O(log pageCount).
   */
  public int find(long pageNumber, long uptoTxid) {
    int lo = 0;
    int hi = pageCount; // first index whose (page, txid) > (pageNumber, uptoTxid)
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      long p = pageNumber(mid);
      if (p < pageNumber || (p == pageNumber && pageTxid(mid) <= uptoTxid)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    int candidate = lo - 1;
    return candidate >= 0 && pageNumber(candidate) == pageNumber ? candidate : -1;
  }

  /**
   * The images that take a database from TXID {@code afterTxid} to {@code uptoTxid} (DESIGN rule
   * "apply up to any TXID inside a segment"): for each page number, the index of its newest image
   * with {@code afterTxid < txid <= uptoTxid}, in page order, leaving out pages beyond the database
   * size at {@code uptoTxid}. O(pageCount).
   *
   * @throws IllegalArgumentException unless {@code firstTxid - 1 <= afterTxid < uptoTxid <=
   *     lastTxid}
   */
  public int[] imagesToApply(long afterTxid, long uptoTxid) {
    if (afterTxid < firstTxid - 1 || uptoTxid <= afterTxid || uptoTxid > lastTxid) {
      throw new IllegalArgumentException(
          source
              + ": cannot apply ("
              + afterTxid
              + ", "
              + uptoTxid
              + "] from a segment covering "
              + firstTxid
              + ".."
              + lastTxid);
    }
    long size = commit(uptoTxid).dbSizePages();
    int[] out = new int[pageCount];
    int n = 0;
    int chosen = -1;
    long chosenPage = -1;
    for (int i = 0; i < pageCount; i++) {
      long page = pageNumber(i);
      if (page != chosenPage && chosen >= 0) {
        out[n++] = chosen;
        chosen = -1;
      }
      long txid = pageTxid(i);
      if (txid > afterTxid && txid <= uptoTxid && page <= size) {
        chosen = i; // later indexes of the same page have higher TXIDs
        chosenPage = page;
      }
    }
    if (chosen >= 0) {
      out[n++] = chosen;
    }
    return java.util.Arrays.copyOf(out, n);
  }

  /**
   * Decodes the i-th image into {@code dest} at {@code offset} (page-size bytes): decompresses it,
   * and for a delta entry also the entries of the same page before it, back to a whole image or to
   * the image this thread decoded last.
   *
   * @throws CorruptSegmentException if an LZ4 block (of this entry or of one it is a delta
   *     against) does not decode to exactly one page
   * @throws IndexOutOfBoundsException if {@code index} or the destination range is out of bounds
   */
  public void readPage(int index, byte[] dest, int offset) {
    entry(index);
    Objects.checkFromIndexSize(offset, pageSize, dest.length);
    if (version == VERSION_1) {
      decode(index, dest, offset, null); // no chains: nothing to cache
      return;
    }
    Buffers buf = BUFFERS.get();
    int start = index;
    boolean cached = false;
    while (isDelta(start)) { // a delta is never entry 0 (checked at open)
      start--;
      if (buf.lastId == id && buf.lastEntry == start) {
        cached = true;
        break;
      }
    }
    if (cached) {
      System.arraycopy(buf.last, 0, dest, offset, pageSize);
      start++;
    }
    for (int i = start; i <= index; i++) {
      decode(i, dest, offset, buf);
    }
    if (index + 1 < pageCount && isDelta(index + 1)) { // the next entry of a chain may follow
      System.arraycopy(dest, offset, buf.last, 0, pageSize);
      buf.lastId = id;
      buf.lastEntry = index;
    }
  }

  /**
   * Decodes entry {@code index} into {@code dest}: its whole image, or, for a delta, {@code dest}
   * (holding the previous entry's image) XOR the decoded block.
   */
  private void decode(int index, byte[] dest, int offset, Buffers buf) {
    long e = entry(index);
    int length = bytes.i32(e + IE_STORED_LENGTH);
    long at = bodyStart + bytes.i64(e + IE_BODY_OFFSET);
    boolean delta = isDelta(index);
    if (length == pageSize) { // raw: always so without compression, and LZ4's escape
      bytes.get(at, dest, offset, pageSize);
      return;
    }
    if (buf == null) {
      buf = BUFFERS.get();
    }
    byte[] out = delta ? buf.delta : dest;
    int outOffset = delta ? 0 : offset;
    int n;
    try {
      byte[] array = bytes.array();
      if (array != null) {
        n = LZ4.decompress(array, (int) at, length, out, outOffset, pageSize);
      } else {
        bytes.get(at, buf.stored, 0, length);
        n = LZ4.decompress(buf.stored, 0, length, out, outOffset, pageSize);
      }
    } catch (LZ4Exception ex) {
      throw new CorruptSegmentException(
          source,
          at,
          "LZ4 block of entry " + index + " (page " + pageNumber(index) + ")",
          "a block decoding to " + pageSize + " bytes",
          ex.getMessage(),
          ex);
    }
    if (n != pageSize) {
      throw new CorruptSegmentException(
          source,
          at,
          "LZ4 block of entry " + index + " (page " + pageNumber(index) + ") decoded length",
          pageSize,
          n);
    }
    if (delta) {
      xor(dest, offset, buf.delta, 0, dest, offset, pageSize);
    }
  }

  /** Decompresses the i-th image into a new array of page-size bytes. */
  public byte[] readPage(int index) {
    byte[] page = new byte[pageSize];
    readPage(index, page, 0);
    return page;
  }

  /**
   * Decodes every page image once (discarding the result), so that nothing can fail later: call
   * before applying pages in place one by one. One decode per entry (chains are read in order).
   *
   * @throws CorruptSegmentException if any LZ4 block (whole or delta) is malformed
   */
  public void verifyPages() {
    if (compression == Compression.NONE) {
      return; // open already checked every length and CRC32C
    }
    byte[] page = new byte[pageSize];
    for (int i = 0; i < pageCount; i++) {
      readPage(i, page, 0);
    }
  }

  /** Decodes everything into memory. Never returns a partial segment. */
  public Segment toSegment() {
    List<PageVersion> pages = new ArrayList<>(pageCount);
    for (int i = 0; i < pageCount; i++) {
      pages.add(new PageVersion(pageNumber(i), pageTxid(i), readPage(i)));
    }
    return new Segment(
        kind,
        level,
        pageSize,
        firstTxid,
        lastTxid,
        checksumBefore,
        commits,
        Collections.unmodifiableList(pages));
  }

  @Override
  public void close() {}

  private static String hex(byte[] a) {
    return "0x" + java.util.HexFormat.of().formatHex(a);
  }

  private static String hex(SegmentBytes b, int pos, int len) {
    byte[] a = new byte[len];
    b.get(pos, a, 0, len);
    return hex(a);
  }

  private static String hex32(int v) {
    return String.format("0x%08x", v);
  }

  private static String hex64(long v) {
    return DatabaseChecksum.toHex(v);
  }
}
