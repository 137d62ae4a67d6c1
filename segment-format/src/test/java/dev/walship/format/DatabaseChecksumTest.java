package dev.walship.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.SplittableRandom;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseChecksumTest {
  @TempDir Path tmp;

  @Test
  void xxh64MatchesTheSpecVectors() {
    // Reference values of the xxHash reference implementation (XXH64, seed 0).
    XXHash64 h = XXHashFactory.fastestInstance().hash64();
    assertEquals(0xEF46DB3751D8E999L, h.hash(new byte[0], 0, 0, 0));
    byte[] a = "a".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xD24EC4F1A98C6E5BL, h.hash(a, 0, 1, 0));
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0x44BC2CF5AD770999L, h.hash(abc, 0, 3, 0));
  }

  @Test
  void pageHashIsXxh64SeededWithThePageNumber() {
    byte[] page = new byte[4096];
    new Random(7).nextBytes(page);
    XXHash64 safe = XXHashFactory.safeInstance().hash64();
    for (long n : new long[] {2, 3, 1000, 0xFFFF_FFFFL}) {
      assertEquals(safe.hash(page, 0, page.length, n), DatabaseChecksum.pageHash(n, page));
    }
    assertNotEquals(DatabaseChecksum.pageHash(2, page), DatabaseChecksum.pageHash(3, page));
  }

  @Test
  void pinnedPageHashes() {
    // Golden values (also in SPEC.md), cross-checked with an independent implementation written
    // from xxhash_spec.md. Changing them breaks every checksum in every bucket.
    byte[] page = new byte[512];
    for (int i = 0; i < page.length; i++) {
      page[i] = (byte) i;
    }
    assertEquals(PINNED_PAGE_2, DatabaseChecksum.pageHash(2, page));
    assertEquals(PINNED_PAGE_1, DatabaseChecksum.pageHash(1, page));
  }

  static final long PINNED_PAGE_2 = 0x9927e995963565faL;
  static final long PINNED_PAGE_1 = 0x1855ef058797caeeL;

  @Test
  void page1IgnoresMaskedBytesOnly() {
    byte[] a = new byte[4096];
    new Random(1).nextBytes(a);
    byte[] b = a.clone();
    for (int i : new int[] {18, 19, 24, 25, 26, 27, 92, 93, 94, 95}) {
      b[i] ^= (byte) 0xA5;
    }
    assertEquals(DatabaseChecksum.pageHash(1, a), DatabaseChecksum.pageHash(1, b));
    byte[] masked = a.clone();
    for (int i : new int[] {18, 19, 24, 25, 26, 27, 92, 93, 94, 95}) {
      masked[i] = 0;
    }
    assertEquals(
        XXHashFactory.safeInstance().hash64().hash(masked, 0, masked.length, 1),
        DatabaseChecksum.pageHash(1, a));
    // every other byte counts, on page 1 and, for the masked offsets, on other pages
    for (int i : new int[] {0, 17, 20, 23, 28, 91, 96, 4095}) {
      byte[] c = a.clone();
      c[i] ^= 1;
      assertNotEquals(DatabaseChecksum.pageHash(1, a), DatabaseChecksum.pageHash(1, c), "" + i);
    }
    assertNotEquals(DatabaseChecksum.pageHash(2, a), DatabaseChecksum.pageHash(2, b));
    // the caller's array is not modified by masking
    assertEquals(a[18], b[18] ^ (byte) 0xA5);
  }

  @Test
  void offsetAndByteBufferFormsAgree() {
    byte[] page = new byte[1024];
    new Random(3).nextBytes(page);
    byte[] padded = new byte[1024 + 10];
    System.arraycopy(page, 0, padded, 5, 1024);
    for (long n : new long[] {1, 2, 77}) {
      long h = DatabaseChecksum.pageHash(n, page);
      assertEquals(h, DatabaseChecksum.pageHash(n, padded, 5, 1024));
      ByteBuffer heap = ByteBuffer.wrap(padded, 5, 1024);
      assertEquals(h, DatabaseChecksum.pageHash(n, heap));
      assertEquals(5, heap.position(), "position unchanged");
      ByteBuffer direct = ByteBuffer.allocateDirect(1024).put(page).flip();
      assertEquals(h, DatabaseChecksum.pageHash(n, direct));
    }
  }

  @Test
  void incrementalUpdateEqualsFullRecompute() throws Exception {
    int pageSize = 1024;
    SplittableRandom r = new SplittableRandom(11);
    byte[][] db = new byte[40][];
    for (int i = 0; i < 30; i++) {
      db[i] = RandomSegments.page(r, pageSize);
    }
    int size = 30;
    long checksum = full(db, size);
    for (int step = 0; step < 500; step++) {
      int op = r.nextInt(10);
      if (op == 0 && size > 0) { // shrink: pages beyond the new size are XORed out
        int newSize = r.nextInt(size);
        for (int p = newSize; p < size; p++) {
          checksum = DatabaseChecksum.update(checksum, p + 1, db[p], null);
          db[p] = null;
        }
        size = newSize;
      } else if (op == 1 && size < db.length) { // grow by one page
        db[size] = RandomSegments.page(r, pageSize);
        checksum = DatabaseChecksum.update(checksum, size + 1, null, db[size]);
        size++;
      } else if (size > 0) { // rewrite a page (page 1 often, with masked-byte changes)
        int p = r.nextInt(3) == 0 ? 0 : r.nextInt(size);
        byte[] next = RandomSegments.page(r, pageSize);
        checksum = DatabaseChecksum.update(checksum, p + 1, db[p], next);
        db[p] = next;
      }
      assertEquals(full(db, size), checksum, "step " + step);
    }
    Path file = tmp.resolve("db");
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (int p = 0; p < size; p++) {
        ch.write(ByteBuffer.wrap(db[p]));
      }
    }
    assertEquals(checksum, DatabaseChecksum.ofFile(file, pageSize));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      assertEquals(checksum, DatabaseChecksum.of(ch, pageSize, size));
      long prefix = size >= 2 ? full(db, 2) : 0;
      assertEquals(prefix, DatabaseChecksum.of(ch, pageSize, Math.min(size, 2)));
      assertThrows(IllegalArgumentException.class, () -> DatabaseChecksum.of(ch, pageSize, 1000));
    }
  }

  @Test
  void emptyDatabaseIsZeroAndLargeFilesSpanChunks() throws Exception {
    Path empty = Files.createFile(tmp.resolve("empty"));
    assertEquals(0, DatabaseChecksum.ofFile(empty, 4096));
    // 1.5 MiB of 512-byte pages: more than one 1 MiB read chunk
    int pageSize = 512;
    int pages = 3 * 1024;
    byte[] all = new byte[pages * pageSize];
    new Random(5).nextBytes(all);
    Path file = Files.write(tmp.resolve("big"), all);
    long expected = 0;
    for (int p = 0; p < pages; p++) {
      expected ^= DatabaseChecksum.pageHash(p + 1, all, p * pageSize, pageSize);
    }
    assertEquals(expected, DatabaseChecksum.ofFile(file, pageSize));
  }

  @Test
  void rejectsBadArguments() throws Exception {
    Path odd = Files.write(tmp.resolve("odd"), new byte[1000]);
    assertThrows(IllegalArgumentException.class, () -> DatabaseChecksum.ofFile(odd, 512));
    assertThrows(IllegalArgumentException.class, () -> DatabaseChecksum.ofFile(odd, 1000));
    assertThrows(IllegalArgumentException.class, () -> DatabaseChecksum.pageHash(0, new byte[8]));
    assertThrows(
        IllegalArgumentException.class, () -> DatabaseChecksum.pageHash(2, new byte[8], 4, 8));
  }

  @Test
  void hexIsSixteenLowerCaseDigits() {
    assertEquals("00000000000000ff", DatabaseChecksum.toHex(255));
    assertEquals("ffffffffffffffff", DatabaseChecksum.toHex(-1));
    assertEquals(-1L, DatabaseChecksum.fromHex("ffffffffffffffff"));
    assertEquals(0x0123456789abcdefL, DatabaseChecksum.fromHex("0123456789abcdef"));
    for (String bad : new String[] {"FF00000000000000", "ff", "0x00000000000000", "", null}) {
      assertThrows(IllegalArgumentException.class, () -> DatabaseChecksum.fromHex(bad), bad);
    }
  }

  private static long full(byte[][] db, int size) {
    long c = 0;
    for (int p = 0; p < size; p++) {
      c ^= DatabaseChecksum.pageHash(p + 1, db[p]);
    }
    return c;
  }
}
