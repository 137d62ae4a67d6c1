package dev.walship.primary;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Objects;

/**
 * Read-only access to the main database file (source for the header fields:
 * https://www.sqlite.org/fileformat2.html#the_database_header).
 *
 * <p>The {@link FileChannel} is opened once and must not be closed while any SQLite connection of
 * this process has the file open: closing any descriptor of a file drops every POSIX lock the
 * process holds on it, including SQLite's. {@link #close()} is therefore called only after the
 * agent's connections are closed.
 *
 * <p>Not thread-safe: owned by the capture thread.
 */
final class DatabaseFile implements Closeable {
  static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private final Path path;
  private final FileChannel channel;
  private final Object fileKey;

  DatabaseFile(Path path) {
    this.path = path;
    try {
      this.channel = FileChannel.open(path, StandardOpenOption.READ);
      this.fileKey = fileKey(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + path, e);
    }
  }

  Path path() {
    return path;
  }

  /** True if the path now names a different file than the one opened (replaced underneath). */
  boolean replaced() {
    try {
      return !Objects.equals(fileKey, fileKey(path));
    } catch (IOException e) {
      return true; // deleted or unreadable: not the file we opened
    }
  }

  static Object fileKey(Path p) throws IOException {
    return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
  }

  long fileSize() {
    try {
      return channel.size();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stat " + path, e);
    }
  }

  /**
   * Reads the 100-byte header; null if the file is empty (a new database whose first pages still
   * live only in the WAL).
   *
   * @throws IllegalStateException if the file is not a SQLite database
   */
  byte[] header() {
    byte[] h = new byte[100];
    int n = read(h, 0, 100, 0);
    if (n == 0) {
      return null;
    }
    if (n < 100 || !Arrays.equals(h, 0, 16, MAGIC, 0, 16)) {
      throw new IllegalStateException(path + " is not a SQLite database (bad header)");
    }
    return h;
  }

  /** Page size from the header (bytes 16-17, where 1 means 65536); 0 for an empty file. */
  int pageSize() {
    byte[] h = header();
    if (h == null) {
      return 0;
    }
    int v = ((h[16] & 0xff) << 8) | (h[17] & 0xff);
    return v == 1 ? 65536 : v;
  }

  /**
   * Database size in pages: the in-header size (bytes 28-31) when valid (version-valid-for at
   * 92-95 equals the change counter at 24-27), else the file size divided by the page size.
   */
  long sizePages(int pageSize) {
    byte[] h = header();
    if (h == null) {
      return 0;
    }
    ByteBuffer bb = ByteBuffer.wrap(h);
    long inHeader = Integer.toUnsignedLong(bb.getInt(28));
    if (inHeader > 0 && bb.getInt(24) == bb.getInt(92)) {
      return inHeader;
    }
    return fileSize() / pageSize;
  }

  /**
   * Reads page {@code pageNumber} into {@code dest}; bytes beyond the end of the file read as
   * zeros.
   */
  void readPage(long pageNumber, byte[] dest, int pageSize) {
    int n = read(dest, 0, pageSize, (pageNumber - 1) * pageSize);
    Arrays.fill(dest, n, pageSize, (byte) 0);
  }

  private int read(byte[] dest, int off, int len, long position) {
    ByteBuffer bb = ByteBuffer.wrap(dest, off, len);
    long pos = position;
    try {
      while (bb.hasRemaining()) {
        int n = channel.read(bb, pos);
        if (n < 0) {
          break;
        }
        pos += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
    return len - bb.remaining();
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + path, e);
    }
  }
}
