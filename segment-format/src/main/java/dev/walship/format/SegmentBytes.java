package dev.walship.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Random access to a segment's bytes, held in an array or memory-mapped. A file larger than one
 * mapping is mapped in overlapping chunks so that any read of up to {@link #OVERLAP} bytes lies
 * within one chunk. Reads are absolute (no shared position), so concurrent readers are safe.
 */
final class SegmentBytes {
  static final long CHUNK = 1L << 30;

  /** At least the largest stored page (65536) plus one index entry. */
  static final int OVERLAP = 1 << 17;

  private final ByteBuffer[] chunks;
  private final long chunkSize;
  private final long size;
  private final byte[] array; // non-null when backed by one heap array

  private SegmentBytes(ByteBuffer[] chunks, long chunkSize, long size, byte[] array) {
    this.chunks = chunks;
    this.chunkSize = chunkSize;
    this.size = size;
    this.array = array;
  }

  static SegmentBytes of(byte[] bytes) {
    return new SegmentBytes(
        new ByteBuffer[] {ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN)},
        Long.MAX_VALUE, // one chunk, whatever the array's length
        bytes.length,
        bytes);
  }

  static SegmentBytes map(FileChannel ch) throws IOException {
    return map(ch, CHUNK);
  }

  /**
   * Maps {@code ch} in chunks of {@code chunkSize} bytes (plus the overlap); tests use small ones.
   */
  static SegmentBytes map(FileChannel ch, long chunkSize) throws IOException {
    long size = ch.size();
    int n = (int) Math.max(1, (size + chunkSize - 1) / chunkSize);
    ByteBuffer[] chunks = new ByteBuffer[n];
    for (int i = 0; i < n; i++) {
      long start = i * chunkSize;
      long len = Math.min(size - start, chunkSize + OVERLAP);
      chunks[i] = ch.map(FileChannel.MapMode.READ_ONLY, start, Math.max(0, len));
    }
    return new SegmentBytes(chunks, chunkSize, size, null);
  }

  long size() {
    return size;
  }

  /** The backing array when the bytes are one heap array, else null. */
  byte[] array() {
    return array;
  }

  private ByteBuffer chunk(long pos) {
    return chunks[(int) (pos / chunkSize)];
  }

  private int within(long pos) {
    return (int) (pos % chunkSize);
  }

  int u8(long pos) {
    return chunk(pos).get(within(pos)) & 0xFF;
  }

  int u16(long pos) {
    return chunk(pos).getShort(within(pos)) & 0xFFFF;
  }

  int i32(long pos) {
    return chunk(pos).getInt(within(pos));
  }

  long u32(long pos) {
    return i32(pos) & 0xFFFF_FFFFL;
  }

  long i64(long pos) {
    return chunk(pos).getLong(within(pos));
  }

  /** Copies {@code len <= OVERLAP} bytes at {@code pos}. */
  void get(long pos, byte[] dst, int off, int len) {
    chunk(pos).get(within(pos), dst, off, len);
  }

  /** A view of {@code len <= OVERLAP} bytes at {@code pos} (position 0, limit len). */
  ByteBuffer slice(long pos, int len) {
    return chunk(pos).slice(within(pos), len);
  }

  /** Feeds bytes [pos, pos + len) to {@code crc}. */
  void crc(CRC32C crc, long pos, long len) {
    long p = pos;
    long end = pos + len;
    while (p < end) {
      ByteBuffer c = chunk(p);
      int w = within(p);
      int n = (int) Math.min(end - p, chunkSize - w);
      crc.update(c.slice(w, n));
      p += n;
    }
  }

  /** True if bytes [pos, pos + len) are all zero. */
  boolean allZero(long pos, int len) {
    for (int i = 0; i < len; i++) {
      if (u8(pos + i) != 0) {
        return false;
      }
    }
    return true;
  }

  /** Offset of the first nonzero byte in [pos, pos + len), or -1. */
  long firstNonZero(long pos, int len) {
    for (int i = 0; i < len; i++) {
      if (u8(pos + i) != 0) {
        return pos + i;
      }
    }
    return -1;
  }
}
