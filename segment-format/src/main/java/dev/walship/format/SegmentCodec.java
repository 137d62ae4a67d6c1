package dev.walship.format;

import static dev.walship.format.SegmentFormat.MAX_PAGE_NUMBER;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;

/**
 * In-memory encode and decode of whole segments (small segments, tests, golden vectors). Stateless
 * and thread-safe. The byte layout is SPEC.md's "Segment file".
 */
public final class SegmentCodec {
  private SegmentCodec() {}

  /**
   * Encodes {@code segment}; validates its invariants first. With LZ4, an image whose previous
   * index entry is the same page is stored as a delta against that image under the rule of
   * SPEC.md 2.5 (a small delta block, or one shorter than the whole), as {@link SegmentWriter} does; the result is format v2 if any image
   * is, v1 otherwise. Encoding is deterministic: the same segment and compression always give the
   * same bytes (with LZ4, on the same platform: the fast compressor is native where it loads; see
   * SPEC.md 2.5).
   *
   * @throws IllegalArgumentException naming the first violated rule (page size, TXID range and
   *     contiguity, page order, page number beyond the commit's database size, data length,
   *     snapshot shape)
   */
  public static byte[] encode(Segment segment, Compression compression) {
    return encode(segment, compression, false, true);
  }

  /**
   * As {@link #encode(Segment, Compression)}, with lz4-java's pure-Java reference compressor if
   * {@code reference} (the bytes the golden vectors hold, SPEC.md 2.5), and without any delta
   * (always format v1, as the v1 golden vectors were written) unless {@code deltas}.
   */
  static byte[] encode(
      Segment segment, Compression compression, boolean reference, boolean deltas) {
    Objects.requireNonNull(compression, "compression");
    validate(segment);
    List<PageVersion> pages = segment.pages();
    int n = pages.size();
    long[] pageNumbers = new long[n];
    long[] txids = new long[n];
    int[] lengths = new int[n];
    int[] crcs = new int[n];
    byte[] flags = new byte[n];
    byte[][] stored = new byte[n][];
    SegmentEncoder.PageStorer storer =
        new SegmentEncoder.PageStorer(compression, segment.pageSize(), reference);
    long total = 0;
    for (int i = 0; i < n; i++) {
      PageVersion p = pages.get(i);
      pageNumbers[i] = p.pageNumber();
      txids[i] = p.txid();
      byte[] base =
          deltas && i > 0 && pages.get(i - 1).pageNumber() == p.pageNumber()
              ? pages.get(i - 1).data()
              : null;
      storer.store(p.data(), 0, base, 0);
      lengths[i] = storer.length();
      crcs[i] = storer.crc();
      flags[i] = storer.delta() ? (byte) SegmentFormat.ENTRY_DELTA : 0;
      stored[i] =
          java.util.Arrays.copyOfRange(
              storer.array(), storer.offset(), storer.offset() + storer.length());
      total += lengths[i];
    }
    SegmentEncoder.Header header =
        new SegmentEncoder.Header(
            segment.kind(),
            segment.level(),
            compression,
            segment.pageSize(),
            segment.firstTxid(),
            segment.lastTxid(),
            segment.checksumBefore());
    long expected =
        SegmentFormat.bodyStart(segment.commits().size(), n) + total + SegmentFormat.TRAILER_SIZE;
    if (expected > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "segment of " + expected + " bytes is too large to encode in memory; use SegmentWriter");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) expected);
    try {
      SegmentEncoder.write(
          bytes,
          header,
          segment.commits(),
          n,
          pageNumbers,
          txids,
          lengths,
          crcs,
          flags,
          (i, out) -> out.write(stored[i], 0, stored[i].length));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
    }
    return bytes.toByteArray();
  }

  /** Strict decode; see {@link SegmentReader}. Never returns a partial segment. */
  public static Segment decode(byte[] bytes, String source) {
    try (SegmentReader r = SegmentReader.open(bytes, source)) {
      return r.toSegment();
    }
  }

  static void validate(Segment s) {
    Objects.requireNonNull(s, "segment");
    Objects.requireNonNull(s.kind(), "kind");
    checkHeader(s.kind(), s.level(), s.pageSize(), s.firstTxid(), s.checksumBefore());
    List<CommitRecord> commits = s.commits();
    if (commits == null || commits.isEmpty()) {
      throw new IllegalArgumentException("a segment holds at least one commit");
    }
    if (s.lastTxid() != s.firstTxid() + commits.size() - 1) {
      throw new IllegalArgumentException(
          "TXID range "
              + s.firstTxid()
              + ".."
              + s.lastTxid()
              + " does not match "
              + commits.size()
              + " commit records");
    }
    for (int i = 0; i < commits.size(); i++) {
      checkCommit(commits.get(i), s.firstTxid() + i);
    }
    if (s.kind() == SegmentKind.SNAPSHOT && commits.size() != 1) {
      throw new IllegalArgumentException(
          "a snapshot covers exactly one TXID, got " + s.firstTxid() + ".." + s.lastTxid());
    }
    List<PageVersion> pages = s.pages();
    Objects.requireNonNull(pages, "pages");
    if (pages.size() > SegmentFormat.MAX_COUNT) {
      throw new IllegalArgumentException("too many page images: " + pages.size());
    }
    long prevPage = 0;
    long prevTxid = 0;
    for (int i = 0; i < pages.size(); i++) {
      PageVersion p = pages.get(i);
      if (p.txid() < s.firstTxid() || p.txid() > s.lastTxid()) {
        throw new IllegalArgumentException(
            "page "
                + p.pageNumber()
                + " has TXID "
                + p.txid()
                + " outside the segment's range "
                + s.firstTxid()
                + ".."
                + s.lastTxid());
      }
      long dbSize = commits.get((int) (p.txid() - s.firstTxid())).dbSizePages();
      if (p.pageNumber() < 1 || p.pageNumber() > dbSize) {
        throw new IllegalArgumentException(
            "page "
                + p.pageNumber()
                + " at TXID "
                + p.txid()
                + " is outside the database size of "
                + dbSize
                + " pages after that commit");
      }
      if (p.pageNumber() < prevPage || (p.pageNumber() == prevPage && p.txid() <= prevTxid)) {
        throw new IllegalArgumentException(
            "pages must be sorted by (page number, TXID) without duplicates: ("
                + p.pageNumber()
                + ", "
                + p.txid()
                + ") follows ("
                + prevPage
                + ", "
                + prevTxid
                + ")");
      }
      if (p.data() == null || p.data().length != s.pageSize()) {
        throw new IllegalArgumentException(
            "page "
                + p.pageNumber()
                + " at TXID "
                + p.txid()
                + " holds "
                + (p.data() == null ? "no data" : p.data().length + " bytes")
                + ", expected the page size "
                + s.pageSize());
      }
      if (s.kind() == SegmentKind.SNAPSHOT && p.pageNumber() != i + 1) {
        throw new IllegalArgumentException(
            "a snapshot holds every page 1.."
                + s.dbSizePages()
                + " once; page "
                + (i + 1)
                + " is missing");
      }
      prevPage = p.pageNumber();
      prevTxid = p.txid();
    }
    if (s.kind() == SegmentKind.SNAPSHOT && pages.size() != s.dbSizePages()) {
      throw new IllegalArgumentException(
          "a snapshot holds every page 1.."
              + s.dbSizePages()
              + " once; it has "
              + pages.size()
              + " pages");
    }
  }

  static void checkHeader(
      SegmentKind kind, int level, int pageSize, long firstTxid, long checksumBefore) {
    Objects.requireNonNull(kind, "kind");
    DatabaseChecksum.checkPageSize(pageSize);
    if (level < 0 || level > 255) {
      throw new IllegalArgumentException("level must be in 0..255, got " + level);
    }
    if (firstTxid < 1) {
      throw new IllegalArgumentException("TXIDs start at 1, got firstTxid " + firstTxid);
    }
    if (kind == SegmentKind.SNAPSHOT && checksumBefore != 0) {
      throw new IllegalArgumentException(
          "a snapshot has no checksum before (must be 0), got "
              + DatabaseChecksum.toHex(checksumBefore));
    }
  }

  static void checkCommit(CommitRecord c, long expectedTxid) {
    Objects.requireNonNull(c, "commit");
    if (c.txid() != expectedTxid) {
      throw new IllegalArgumentException(
          "commit TXIDs must be contiguous: expected " + expectedTxid + ", got " + c.txid());
    }
    if (c.dbSizePages() < 0 || c.dbSizePages() > MAX_PAGE_NUMBER) {
      throw new IllegalArgumentException(
          "database size of TXID "
              + c.txid()
              + " must be in 0..2^32-1 pages, got "
              + c.dbSizePages());
    }
    if (c.commitTimeMillis() < 0) {
      throw new IllegalArgumentException(
          "commit time of TXID " + c.txid() + " must be >= 0 ms, got " + c.commitTimeMillis());
    }
  }
}
