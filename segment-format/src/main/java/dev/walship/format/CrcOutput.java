package dev.walship.format;

import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/**
 * Buffered big-endian output that keeps two CRC32Cs of what passes through: one over the whole file
 * and one over the metadata region (until {@link #endMeta()}). Not thread-safe.
 */
final class CrcOutput {
  private final OutputStream out;
  private final byte[] buf = new byte[1 << 16];
  private int count;
  private final CRC32C fileCrc = new CRC32C();
  private final CRC32C metaCrc = new CRC32C();
  private boolean inMeta = true;
  private long written;

  CrcOutput(OutputStream out) {
    this.out = out;
  }

  void writeByte(int v) throws IOException {
    ensure(1);
    buf[count++] = (byte) v;
  }

  void writeShort(int v) throws IOException {
    ensure(2);
    buf[count++] = (byte) (v >>> 8);
    buf[count++] = (byte) v;
  }

  void writeInt(int v) throws IOException {
    ensure(4);
    buf[count++] = (byte) (v >>> 24);
    buf[count++] = (byte) (v >>> 16);
    buf[count++] = (byte) (v >>> 8);
    buf[count++] = (byte) v;
  }

  void writeLong(long v) throws IOException {
    writeInt((int) (v >>> 32));
    writeInt((int) v);
  }

  void writeZeros(int n) throws IOException {
    for (int i = 0; i < n; i++) {
      writeByte(0);
    }
  }

  void write(byte[] b, int off, int len) throws IOException {
    if (len > buf.length - count) {
      flushBuffer();
    }
    if (len > buf.length) {
      update(b, off, len);
      out.write(b, off, len);
      written += len;
    } else {
      System.arraycopy(b, off, buf, count, len);
      count += len;
    }
  }

  /** Ends the metadata region; returns its CRC32C. */
  int endMeta() throws IOException {
    flushBuffer();
    inMeta = false;
    return (int) metaCrc.getValue();
  }

  /** CRC32C of everything written so far. */
  int fileCrc() throws IOException {
    flushBuffer();
    return (int) fileCrc.getValue();
  }

  /** Total bytes written so far. */
  long position() {
    return written + count;
  }

  void flush() throws IOException {
    flushBuffer();
    out.flush();
  }

  private void ensure(int n) throws IOException {
    if (buf.length - count < n) {
      flushBuffer();
    }
  }

  private void flushBuffer() throws IOException {
    if (count > 0) {
      update(buf, 0, count);
      out.write(buf, 0, count);
      written += count;
      count = 0;
    }
  }

  private void update(byte[] b, int off, int len) {
    fileCrc.update(b, off, len);
    if (inMeta) {
      metaCrc.update(b, off, len);
    }
  }
}
