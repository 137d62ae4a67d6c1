package dev.walship.format;

import static dev.walship.format.SegmentFormat.*;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * Writes the bytes of a segment from already validated, already sorted parts: format v2 if any
 * entry is a delta, v1 otherwise (SPEC.md 4). Shared by {@link SegmentCodec} (in memory) and {@link
 * SegmentWriter} (spooled). Package-private.
 */
final class SegmentEncoder {
  private SegmentEncoder() {}

  /** Copies the stored bytes of page image {@code index} to {@code out}. */
  interface Bodies {
    void copy(int index, CrcOutput out) throws IOException;
  }

  /** Header fields that do not come from the commit table or the page index. */
  record Header(
      SegmentKind kind,
      int level,
      Compression compression,
      int pageSize,
      long firstTxid,
      long lastTxid,
      long checksumBefore) {}

  /**
   * Writes a complete segment to {@code os} (not closed) and returns the number of bytes written.
   * Entries must already be in index order; {@code lengths} and {@code crcs} describe stored bytes,
   * {@code flags} the entry flags (null: none; any {@link SegmentFormat#ENTRY_DELTA} makes the
   * segment v2). The caller guarantees the delta rules: LZ4, and the previous entry is the same
   * page and the image the delta was computed against.
   */
  static long write(
      OutputStream os,
      Header h,
      List<CommitRecord> commits,
      int pageCount,
      long[] pageNumbers,
      long[] txids,
      int[] lengths,
      int[] crcs,
      byte[] flags,
      Bodies bodies)
      throws IOException {
    CommitRecord last = commits.get(commits.size() - 1);
    long bodyLength = 0;
    boolean deltas = false;
    for (int i = 0; i < pageCount; i++) {
      bodyLength += lengths[i];
      deltas |= flags != null && flags[i] != 0;
    }
    CrcOutput out = new CrcOutput(os);
    out.write(MAGIC, 0, MAGIC.length);
    out.writeShort(deltas ? VERSION_2 : VERSION_1);
    out.writeShort(0); // flags: none defined
    out.writeByte(kindId(h.kind()));
    out.writeByte(h.level());
    out.writeByte(compressionId(h.compression()));
    out.writeByte(0);
    out.writeInt(h.pageSize());
    out.writeInt(commits.size());
    out.writeLong(h.firstTxid());
    out.writeLong(h.lastTxid());
    out.writeLong(last.dbSizePages());
    out.writeLong(h.checksumBefore());
    out.writeLong(last.checksumAfter());
    out.writeInt(pageCount);
    out.writeInt(0);
    out.writeLong(bodyLength);
    out.writeZeros(HEADER_SIZE - OFF_RESERVED_80);
    for (CommitRecord c : commits) {
      out.writeLong(c.txid());
      out.writeLong(c.commitTimeMillis());
      out.writeLong(c.dbSizePages());
      out.writeLong(c.checksumAfter());
    }
    long offset = 0;
    for (int i = 0; i < pageCount; i++) {
      out.writeInt((int) pageNumbers[i]);
      out.writeInt(lengths[i]);
      out.writeLong(txids[i]);
      out.writeLong(offset);
      out.writeInt(crcs[i]);
      out.writeByte(flags == null ? 0 : flags[i]);
      out.writeZeros(INDEX_ENTRY_SIZE - IE_RESERVED);
      offset += lengths[i];
    }
    int metaCrc = out.endMeta();
    out.writeInt(metaCrc);
    out.writeInt(0);
    for (int i = 0; i < pageCount; i++) {
      bodies.copy(i, out);
    }
    int fileCrc = out.fileCrc();
    out.writeInt(fileCrc);
    out.writeInt(END_MAGIC);
    out.flush();
    return out.position();
  }

  /**
   * Turns page images into stored bytes: LZ4 (one block per page, kept only when shorter than the
   * page, otherwise raw) or raw; with a base image (LZ4 only), an LZ4 block of (image XOR base)
   * instead when that block is shorter than the whole stored form (SPEC.md 2.5). Reuses its
   * buffers; not thread-safe.
   */
  static final class PageStorer {
    /**
     * What writers use: lz4-java's fastest instance (the native LZ4 library through JNI where it
     * loads, about 3-8x faster than pure Java on 4 KiB pages; pure Java elsewhere). Its blocks are
     * valid LZ4 but not always byte-identical to the reference compressor's (SPEC.md 2.5).
     */
    private static final LZ4Compressor FAST = LZ4Factory.fastestInstance().fastCompressor();

    /**
     * The reference compressor, lz4-java's pure-Java safe instance: the same output on every
     * platform and JVM; the golden vectors were written with it (SPEC.md 2.5).
     */
    private static final LZ4Compressor REFERENCE = LZ4Factory.safeInstance().fastCompressor();

    /**
     * A delta block of at most 1/16 of the page is stored without compressing the whole image:
     * the common case (a few rows changed) then costs one compression, not two (SPEC.md 2.5).
     */
    static final int SMALL_DELTA = 16;

    private final LZ4Compressor lz4;
    private final Compression compression;
    private final int pageSize;
    private final byte[] scratch;
    private byte[] xor; // image XOR base; allocated on the first delta attempt
    private byte[] deltaScratch;
    private final CRC32C crc = new CRC32C();
    private byte[] storedArray;
    private int storedOffset;
    private int storedLength;
    private int storedCrc;
    private boolean delta;

    PageStorer(Compression compression, int pageSize) {
      this(compression, pageSize, false);
    }

    /** @param reference use the reference compressor (golden vectors) instead of the fast one */
    PageStorer(Compression compression, int pageSize, boolean reference) {
      this.lz4 = reference ? REFERENCE : FAST;
      this.compression = compression;
      this.pageSize = pageSize;
      this.scratch =
          compression == Compression.LZ4 ? new byte[lz4.maxCompressedLength(pageSize)] : null;
    }

    /** Prepares the whole stored form of {@code page[offset, offset + pageSize)}. */
    void store(byte[] page, int offset) {
      store(page, offset, null, 0);
    }

    /**
     * Prepares the stored form of {@code page[offset, offset + pageSize)}: whole, or, if {@code
     * base} is not null and the compression is LZ4, a delta against {@code base[baseOffset,
     * baseOffset + pageSize)} when its block is at most 1/16 of the page (then the whole image is
     * not compressed at all) or strictly shorter than the whole stored form (SPEC.md 2.5).
     */
    void store(byte[] page, int offset, byte[] base, int baseOffset) {
      delta = false;
      if (compression != Compression.LZ4) {
        setStored(page, offset, pageSize);
        return;
      }
      int d = -1;
      if (base != null) {
        if (xor == null) {
          xor = new byte[pageSize];
          deltaScratch = new byte[scratch.length];
        }
        SegmentFormat.xor(page, offset, base, baseOffset, xor, 0, pageSize);
        d = lz4.compress(xor, 0, pageSize, deltaScratch, 0, deltaScratch.length);
        if (d <= pageSize / SMALL_DELTA) {
          setDelta(d);
          return;
        }
      }
      int n = lz4.compress(page, offset, pageSize, scratch, 0, scratch.length);
      if (d >= 0 && d < Math.min(n, pageSize)) {
        setDelta(d);
      } else if (n < pageSize) {
        setStored(scratch, 0, n);
      } else {
        setStored(page, offset, pageSize);
      }
    }

    private void setDelta(int length) {
      setStored(deltaScratch, 0, length);
      delta = true;
    }

    private void setStored(byte[] a, int off, int len) {
      storedArray = a;
      storedOffset = off;
      storedLength = len;
      crc.reset();
      crc.update(a, off, len);
      storedCrc = (int) crc.getValue();
    }

    byte[] array() {
      return storedArray;
    }

    int offset() {
      return storedOffset;
    }

    int length() {
      return storedLength;
    }

    int crc() {
      return storedCrc;
    }

    /** Whether the prepared form is a delta (entry flag {@link SegmentFormat#ENTRY_DELTA}). */
    boolean delta() {
      return delta;
    }
  }
}
