package dev.walship.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The database checksum: XOR over all pages of a 64-bit hash of (page number, page bytes), with
 * page 1's per-file bytes masked. Because XOR is its own inverse it updates incrementally: {@code
 * new = old ^ pageHash(n, oldImage) ^ pageHash(n, newImage)}; a page that does not exist
 * contributes nothing, so an empty database has checksum 0.
 *
 * <p>The page hash is XXH64 (xxHash spec: github.com/Cyan4973/xxHash, doc/xxhash_spec.md, as
 * implemented by lz4-java's {@code XXHashFactory.fastestInstance().hash64()}) of the page image
 * with seed = the 1-based page number. For page 1 the bytes at offsets 18-19 (file format
 * write/read versions: WAL versus rollback journal), 24-27 (file change counter) and 92-95
 * (version-valid-for) are hashed as zero, because they legitimately differ between two copies of
 * the same database (see SQLite's "Database File Format", section 1.3). SPEC.md, "Database
 * checksum", is the normative description.
 *
 * <p>Stateless and thread-safe. Hashing a page other than page 1 allocates nothing; page 1 is
 * masked in a per-thread scratch copy.
 */
public final class DatabaseChecksum {
  private static final XXHash64 XXH64 = XXHashFactory.fastestInstance().hash64();
  private static final int MAX_PAGE_SIZE = 65536;
  private static final ThreadLocal<byte[]> PAGE1_SCRATCH =
      ThreadLocal.withInitial(() -> new byte[MAX_PAGE_SIZE]);
  private static final HexFormat HEX = HexFormat.of();

  private DatabaseChecksum() {}

  /**
   * Hash of one page image.
   *
   * @param pageNumber 1-based page number
   * @param page buffer holding the image
   * @param offset start of the image in {@code page}
   * @param pageSize image length in bytes (at most 65536)
   * @throws IllegalArgumentException if the page number is below 1 or the range is out of bounds
   */
  public static long pageHash(long pageNumber, byte[] page, int offset, int pageSize) {
    if (pageNumber < 1) {
      throw new IllegalArgumentException("page numbers start at 1, got " + pageNumber);
    }
    if (offset < 0 || pageSize < 0 || pageSize > page.length - offset) {
      throw new IllegalArgumentException(
          "page range [" + offset + ", +" + pageSize + ") outside array of " + page.length);
    }
    if (pageNumber != 1) {
      return XXH64.hash(page, offset, pageSize, pageNumber);
    }
    if (pageSize > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("page size " + pageSize + " exceeds " + MAX_PAGE_SIZE);
    }
    byte[] copy = PAGE1_SCRATCH.get();
    System.arraycopy(page, offset, copy, 0, pageSize);
    maskPage1(copy, pageSize);
    return XXH64.hash(copy, 0, pageSize, 1);
  }

  /** Same as {@link #pageHash(long, byte[], int, int)} over the whole array. */
  public static long pageHash(long pageNumber, byte[] page) {
    return pageHash(pageNumber, page, 0, page.length);
  }

  /**
   * Hash of the page image in {@code page} from its position to its limit. The buffer's position
   * and limit are not changed.
   */
  public static long pageHash(long pageNumber, ByteBuffer page) {
    if (pageNumber < 1) {
      throw new IllegalArgumentException("page numbers start at 1, got " + pageNumber);
    }
    int length = page.remaining();
    if (pageNumber != 1) {
      return XXH64.hash(page, page.position(), length, pageNumber);
    }
    if (length > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException("page size " + length + " exceeds " + MAX_PAGE_SIZE);
    }
    byte[] copy = PAGE1_SCRATCH.get();
    page.get(page.position(), copy, 0, length);
    maskPage1(copy, length);
    return XXH64.hash(copy, 0, length, 1);
  }

  private static void maskPage1(byte[] copy, int length) {
    zero(copy, length, 18, 20);
    zero(copy, length, 24, 28);
    zero(copy, length, 92, 96);
  }

  private static void zero(byte[] a, int length, int from, int to) {
    for (int i = from; i < to && i < length; i++) {
      a[i] = 0;
    }
  }

  /**
   * Incremental update for one page changing from {@code oldImage} to {@code newImage}. A null
   * image means the page does not exist on that side (growth or shrink).
   *
   * @param checksum the database checksum before the change
   * @return the database checksum after the change
   */
  public static long update(long checksum, long pageNumber, byte[] oldImage, byte[] newImage) {
    long c = checksum;
    if (oldImage != null) {
      c ^= pageHash(pageNumber, oldImage);
    }
    if (newImage != null) {
      c ^= pageHash(pageNumber, newImage);
    }
    return c;
  }

  /**
   * Checksum of every page of a database file: the file's length must be a multiple of {@code
   * pageSize}, and every page in it counts.
   *
   * <p>Opens and closes its own file descriptor. Never call this on a SQLite file that this process
   * also has open through SQLite: closing any descriptor of a file drops all of the process's POSIX
   * locks on it. Use {@link #of(FileChannel, int, long)} with the channel you already hold instead.
   *
   * @throws IllegalArgumentException if the file length is not a multiple of the page size
   * @throws UncheckedIOException if the file cannot be read
   */
  public static long ofFile(Path file, int pageSize) {
    checkPageSize(pageSize);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size % pageSize != 0) {
        throw new IllegalArgumentException(
            file + ": length " + size + " is not a multiple of the page size " + pageSize);
      }
      return of(ch, pageSize, size / pageSize);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + file, e);
    }
  }

  /**
   * Checksum of pages 1..{@code pageCount} read with positional reads from {@code channel} (its
   * position is not changed and it is not closed).
   *
   * @throws IllegalArgumentException if the channel holds fewer than {@code pageCount} pages
   * @throws UncheckedIOException if reading fails
   */
  public static long of(FileChannel channel, int pageSize, long pageCount) {
    checkPageSize(pageSize);
    if (pageCount < 0) {
      throw new IllegalArgumentException("page count must be >= 0, got " + pageCount);
    }
    int pagesPerChunk = Math.max(1, (1 << 20) / pageSize);
    byte[] chunk = new byte[pagesPerChunk * pageSize];
    ByteBuffer buf = ByteBuffer.wrap(chunk);
    long checksum = 0;
    long page = 1;
    try {
      while (page <= pageCount) {
        int pages = (int) Math.min(pagesPerChunk, pageCount - page + 1);
        int bytes = pages * pageSize;
        buf.clear().limit(bytes);
        long pos = (page - 1) * pageSize;
        while (buf.hasRemaining()) {
          int n = channel.read(buf, pos + buf.position());
          if (n < 0) {
            throw new IllegalArgumentException(
                "file ends at byte "
                    + (pos + buf.position())
                    + " but "
                    + pageCount
                    + " pages of "
                    + pageSize
                    + " bytes were expected");
          }
        }
        for (int i = 0; i < pages; i++) {
          checksum ^= pageHash(page + i, chunk, i * pageSize, pageSize);
        }
        page += pages;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading database pages", e);
    }
    return checksum;
  }

  /** The 16-character lower-case hex form used in JSON objects and messages. */
  public static String toHex(long checksum) {
    return HEX.toHexDigits(checksum);
  }

  /**
   * Parses the 16-character hex form ({@link #toHex(long)}).
   *
   * @throws IllegalArgumentException if {@code hex} is not exactly 16 lower-case hex digits
   */
  public static long fromHex(String hex) {
    if (hex == null || hex.length() != 16) {
      throw new IllegalArgumentException("checksum must be 16 lower-case hex digits, got " + hex);
    }
    for (int i = 0; i < 16; i++) {
      char c = hex.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new IllegalArgumentException("checksum must be 16 lower-case hex digits, got " + hex);
      }
    }
    return HexFormat.fromHexDigitsToLong(hex);
  }

  static void checkPageSize(int pageSize) {
    if (pageSize < 512 || pageSize > MAX_PAGE_SIZE || Integer.bitCount(pageSize) != 1) {
      throw new IllegalArgumentException(
          "page size must be a power of two in 512..65536, got " + pageSize);
    }
  }
}
