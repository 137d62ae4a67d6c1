package dev.walship.format;

import java.io.Closeable;
import java.nio.file.Path;
import java.util.List;

/**
 * Strict reader of one segment: {@code open} verifies the file checksum and every structural rule
 * (magic, version, reserved bytes zero, sizes, ordering, TXID range) before giving access to
 * anything; a violation throws {@link CorruptSegmentException} (or a subclass) naming the source,
 * offset and expected versus found values. Page images are decompressed on demand, so a restore
 * can read only the versions it needs.
 *
 * <p>Safe for concurrent reads after {@code open}.
 */
public final class SegmentReader implements Closeable {

  /** Opens and verifies a segment file (memory-mapped). {@code source} names it in errors. */
  public static SegmentReader open(Path file, String source) {
    throw new UnsupportedOperationException("implemented by the segment format work");
  }

  /** Opens and verifies a segment held in memory. */
  public static SegmentReader open(byte[] bytes, String source) {
    throw new UnsupportedOperationException("implemented by the segment format work");
  }

  public SegmentKind kind() {
    throw new UnsupportedOperationException();
  }

  public int level() {
    throw new UnsupportedOperationException();
  }

  public int pageSize() {
    throw new UnsupportedOperationException();
  }

  public long firstTxid() {
    throw new UnsupportedOperationException();
  }

  public long lastTxid() {
    throw new UnsupportedOperationException();
  }

  public long checksumBefore() {
    throw new UnsupportedOperationException();
  }

  /** One record per TXID, firstTxid..lastTxid. */
  public List<CommitRecord> commits() {
    throw new UnsupportedOperationException();
  }

  /** Number of page images. */
  public int pageCount() {
    throw new UnsupportedOperationException();
  }

  /** Page number of the i-th image (index order: page number, then TXID). */
  public long pageNumber(int index) {
    throw new UnsupportedOperationException();
  }

  /** TXID that wrote the i-th image. */
  public long pageTxid(int index) {
    throw new UnsupportedOperationException();
  }

  /** Decompresses the i-th image into {@code dest} at {@code offset} (page-size bytes). */
  public void readPage(int index, byte[] dest, int offset) {
    throw new UnsupportedOperationException();
  }

  /** Decodes everything into memory. */
  public Segment toSegment() {
    throw new UnsupportedOperationException();
  }

  @Override
  public void close() {}
}
