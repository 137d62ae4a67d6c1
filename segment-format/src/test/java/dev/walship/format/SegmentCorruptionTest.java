package dev.walship.format;

import static dev.walship.format.SegmentFormat.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Strictness: damaged bytes never decode. Tampering that keeps the CRCs valid ("resealed") shows
 * that each structural rule is checked on its own, not only caught by the checksum.
 */
class SegmentCorruptionTest {

  /**
   * Small valid segments: incremental with several commits, a snapshot, a zero-page commit (v1),
   * and a v2 segment with delta chains, a rewritten and a dropped image.
   */
  static Stream<Arguments> smallSegments() {
    List<Arguments> out = new ArrayList<>();
    for (Compression c : Compression.values()) {
      out.add(Arguments.of("incremental-" + c, SegmentCodec.encode(incremental(), c)));
      out.add(Arguments.of("snapshot-" + c, SegmentCodec.encode(snapshot(), c)));
      out.add(Arguments.of("no-pages-" + c, SegmentCodec.encode(noPages(), c)));
    }
    out.add(Arguments.of("deltas-LZ4", deltas()));
    return out.stream();
  }

  /**
   * A v2 segment, entries (2,0x30) (2,0x31)d (2,0x32)d (2,0x33)d (3,0x30) (3,0x32)d (d: delta;
   * {@link GoldenVectors#deltaRewriteDrop()}).
   */
  static byte[] deltas() {
    byte[] b =
        SegmentCodec.encode(
            GoldenVectors.segmentOf(GoldenVectors.deltaRewriteDrop()), Compression.LZ4);
    assertEquals(VERSION_2, ByteBuffer.wrap(b).getShort(OFF_VERSION));
    return b;
  }

  static Segment incremental() {
    SplittableRandom r = new SplittableRandom(42);
    return new Segment(
        SegmentKind.INCREMENTAL,
        0,
        512,
        7,
        9,
        0x1111_2222_3333_4444L,
        List.of(
            new CommitRecord(7, 1_700_000_000_000L, 3, 0xAAAAL),
            new CommitRecord(8, 1_700_000_000_005L, 4, 0xBBBBL),
            new CommitRecord(9, 1_700_000_000_009L, 2, 0xCCCCL)),
        List.of(
            new PageVersion(1, 7, RandomSegments.page(r, 512)),
            new PageVersion(1, 9, filled(512, 'x')),
            new PageVersion(2, 8, RandomSegments.page(r, 512)),
            new PageVersion(4, 8, new byte[512])));
  }

  static Segment snapshot() {
    List<PageVersion> pages =
        List.of(new PageVersion(1, 5, filled(512, 'a')), new PageVersion(2, 5, filled(512, 'b')));
    long checksum = 0;
    for (PageVersion p : pages) {
      checksum ^= DatabaseChecksum.pageHash(p.pageNumber(), p.data());
    }
    return new Segment(
        SegmentKind.SNAPSHOT,
        0,
        512,
        5,
        5,
        0,
        List.of(new CommitRecord(5, 1_700_000_000_000L, 2, checksum)),
        pages);
  }

  static Segment noPages() {
    return new Segment(
        SegmentKind.INCREMENTAL,
        0,
        1024,
        3,
        3,
        0x55L,
        List.of(new CommitRecord(3, 1_700_000_000_000L, 1, 0x66L)),
        List.of());
  }

  static byte[] filled(int n, char c) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) c);
    return b;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("smallSegments")
  void everySingleBitFlipIsDetected(String name, byte[] valid) {
    SegmentCodec.decode(valid, name); // sanity: the original is valid
    for (int bit = 0; bit < valid.length * 8; bit++) {
      byte[] bad = valid.clone();
      bad[bit / 8] ^= (byte) (1 << (bit % 8));
      int b = bit;
      assertThrows(
          CorruptSegmentException.class,
          () -> SegmentCodec.decode(bad, name),
          () -> name + ": flip of bit " + b + " (byte " + b / 8 + ") was not detected");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("smallSegments")
  void truncationAtEveryOffsetIsDetected(String name, byte[] valid) {
    for (int len = 0; len < valid.length; len++) {
      byte[] bad = java.util.Arrays.copyOf(valid, len);
      TruncatedSegmentException e =
          assertThrows(TruncatedSegmentException.class, () -> SegmentCodec.decode(bad, name));
      assertEquals(name, e.source());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("smallSegments")
  void trailingBytesAreDetected(String name, byte[] valid) {
    byte[] longer = java.util.Arrays.copyOf(valid, valid.length + 1);
    CorruptSegmentException e =
        assertThrows(CorruptSegmentException.class, () -> SegmentCodec.decode(longer, name));
    assertEquals(valid.length, e.offset(), e.getMessage());
  }

  // ---- Resealed tampering: each rule on its own ----

  /** Recomputes every page CRC32C, the metadata CRC32C and the file CRC32C of {@code b}. */
  static byte[] reseal(byte[] b) {
    ByteBuffer buf = ByteBuffer.wrap(b);
    long commits = buf.getInt(OFF_COMMIT_COUNT) & 0xFFFF_FFFFL;
    long pages = buf.getInt(OFF_PAGE_COUNT) & 0xFFFF_FFFFL;
    int metaEnd = (int) metaEnd(commits, pages);
    int bodyStart = (int) bodyStart(commits, pages);
    for (int i = 0; i < pages; i++) {
      int e = (int) (HEADER_SIZE + commits * COMMIT_ENTRY_SIZE + (long) i * INDEX_ENTRY_SIZE);
      int len = buf.getInt(e + IE_STORED_LENGTH);
      long off = buf.getLong(e + IE_BODY_OFFSET);
      if (len > 0 && off >= 0 && bodyStart + off + len <= b.length - TRAILER_SIZE) {
        buf.putInt(e + IE_CRC, crc(b, (int) (bodyStart + off), len));
      }
    }
    buf.putInt(metaEnd, crc(b, 0, metaEnd));
    buf.putInt(b.length - TRAILER_SIZE, crc(b, 0, b.length - TRAILER_SIZE));
    return b;
  }

  static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  static int commitEntry(int i) {
    return HEADER_SIZE + i * COMMIT_ENTRY_SIZE;
  }

  static int indexEntry(byte[] b, int i) {
    int commits = ByteBuffer.wrap(b).getInt(OFF_COMMIT_COUNT);
    return HEADER_SIZE + commits * COMMIT_ENTRY_SIZE + i * INDEX_ENTRY_SIZE;
  }

  static <T extends CorruptSegmentException> T assertRejected(
      Class<T> type, byte[] valid, Consumer<ByteBuffer> tamper, String messagePart) {
    byte[] b = valid.clone();
    tamper.accept(ByteBuffer.wrap(b));
    reseal(b);
    T e = assertThrows(type, () -> SegmentCodec.decode(b, "bucket/db/L0/x.seg"));
    assertTrue(
        e.getMessage().contains(messagePart),
        "message should mention '" + messagePart + "': " + e.getMessage());
    assertTrue(e.getMessage().startsWith("bucket/db/L0/x.seg: "), e.getMessage());
    assertTrue(e.getMessage().contains("expected"), e.getMessage());
    assertTrue(e.offset() >= 0 && e.offset() < b.length, "offset " + e.offset());
    return e;
  }

  @Test
  void resealHelperKeepsValidSegmentsValid() {
    for (Compression c : Compression.values()) {
      byte[] valid = SegmentCodec.encode(incremental(), c);
      byte[] copy = reseal(valid.clone());
      assertEquals(java.util.Arrays.toString(valid), java.util.Arrays.toString(copy));
    }
  }

  @Test
  void everyReservedByteMustBeZero() {
    byte[] valid = SegmentCodec.encode(incremental(), Compression.LZ4);
    List<Integer> reserved = new ArrayList<>();
    reserved.add(OFF_RESERVED_15);
    for (int i = OFF_RESERVED_68; i < OFF_RESERVED_68 + 4; i++) {
      reserved.add(i);
    }
    for (int i = OFF_RESERVED_80; i < HEADER_SIZE; i++) {
      reserved.add(i);
    }
    for (int e = 0; e < 4; e++) {
      for (int i = 0; i < 4; i++) {
        reserved.add(indexEntry(valid, e) + IE_FLAGS + i); // v1: no entry flags
      }
    }
    int metaEnd = indexEntry(valid, 4);
    for (int i = 4; i < 8; i++) {
      reserved.add(metaEnd + i);
    }
    for (int at : reserved) {
      CorruptSegmentException e =
          assertRejected(
              CorruptSegmentException.class, valid, b -> b.put(at, (byte) 0x40), "reserved");
      assertEquals(at, e.offset(), e.getMessage());
    }
    byte[] v2 = deltas();
    for (int e = 0; e < 6; e++) {
      for (int i = 0; i < 3; i++) {
        int at = indexEntry(v2, e) + IE_RESERVED + i;
        CorruptSegmentException x =
            assertRejected(
                CorruptSegmentException.class, v2, b -> b.put(at, (byte) 0x40), "reserved");
        assertEquals(at, x.offset(), x.getMessage());
      }
    }
  }

  @Test
  void deltaRulesAreEnforced() {
    byte[] v2 = deltas();
    Class<CorruptSegmentException> c = CorruptSegmentException.class;
    for (int bad : new int[] {2, 3, 0x80, 0xFF}) {
      assertRejected(
          c, v2, b -> b.put(indexEntry(v2, 1) + IE_FLAGS, (byte) bad), "flags of page index entry 1");
    }
    // the first entry, and an entry after another page's, cannot be deltas
    assertRejected(c, v2, b -> b.put(indexEntry(v2, 0) + IE_FLAGS, (byte) 1), "delta flag");
    assertRejected(c, v2, b -> b.put(indexEntry(v2, 4) + IE_FLAGS, (byte) 1), "same page");
    // a v1 segment cannot hold one: the byte is reserved there
    assertRejected(c, v2, b -> b.putShort(OFF_VERSION, (short) VERSION_1), "reserved");
    // v2 needs at least one delta
    byte[] v1 = SegmentCodec.encode(incremental(), Compression.LZ4);
    assertEquals(VERSION_1, ByteBuffer.wrap(v1).getShort(OFF_VERSION));
    assertRejected(
        c, v1, b -> b.putShort(OFF_VERSION, (short) VERSION_2), "version 2 without a delta");
    // deltas need LZ4: entries (1,7) (1,9) of the uncompressed incremental segment
    byte[] none = SegmentCodec.encode(incremental(), Compression.NONE);
    assertRejected(
        c,
        none,
        b -> {
          b.putShort(OFF_VERSION, (short) VERSION_2);
          b.put(indexEntry(none, 1) + IE_FLAGS, (byte) 1);
        },
        "deltas need compression 1");
    // a delta is an LZ4 block, never raw. In the chain vector, entry 9 is page 3 at 0x23 stored
    // raw (random bytes) and entry 8 is page 3 at 0x21.
    byte[] chain = GoldenVectorsTest.committedUnchecked("v2", "delta-chain-lz4");
    assertEquals(512, ByteBuffer.wrap(chain).getInt(indexEntry(chain, 9) + IE_STORED_LENGTH));
    assertRejected(
        c, chain, b -> b.put(indexEntry(chain, 9) + IE_FLAGS, (byte) 1), "a delta is an LZ4 block");
  }

  @Test
  void malformedDeltaBlockFailsOnReadNeverPartially() {
    byte[] bad = deltas();
    ByteBuffer buf = ByteBuffer.wrap(bad);
    int e = indexEntry(bad, 2); // (2,0x32), a delta in the middle of page 2's chain
    int len = buf.getInt(e + IE_STORED_LENGTH);
    int at = indexEntry(bad, 6) + META_CHECK_SIZE + (int) buf.getLong(e + IE_BODY_OFFSET);
    for (int i = 0; i < len; i++) {
      bad[at + i] = (byte) 0xFF;
    }
    reseal(bad);
    try (SegmentReader r = SegmentReader.open(bad, "s")) {
      assertTrue(r.isDelta(2));
      r.readPage(1);
      r.readPage(4);
      r.readPage(5);
      for (int i : new int[] {2, 3}) { // the entry and the one decoded through it
        CorruptSegmentException x =
            assertThrows(CorruptSegmentException.class, () -> r.readPage(i));
        assertTrue(x.getMessage().contains("LZ4 block of entry 2"), x.getMessage());
      }
      assertThrows(CorruptSegmentException.class, r::verifyPages);
      assertThrows(CorruptSegmentException.class, r::toSegment);
    }
  }

  @Test
  void flagsMustBeZero() {
    byte[] valid = SegmentCodec.encode(incremental(), Compression.NONE);
    assertRejected(
        CorruptSegmentException.class, valid, b -> b.putShort(OFF_FLAGS, (short) 1), "flags");
  }

  @Test
  void unsupportedVersionIsTypedEvenWithoutValidChecksums() {
    byte[] valid = SegmentCodec.encode(incremental(), Compression.NONE);
    for (int v : new int[] {0, 3, 0xFFFF}) {
      byte[] b = valid.clone();
      ByteBuffer.wrap(b).putShort(OFF_VERSION, (short) v);
      UnsupportedFormatVersionException e =
          assertThrows(UnsupportedFormatVersionException.class, () -> SegmentCodec.decode(b, "s"));
      assertTrue(e.getMessage().contains("expected 1 or 2, found " + v), e.getMessage());
      assertRejected(
          UnsupportedFormatVersionException.class,
          valid,
          x -> x.putShort(OFF_VERSION, (short) v),
          "format version");
    }
  }

  @Test
  void badMagicIsRejected() {
    byte[] valid = SegmentCodec.encode(noPages(), Compression.NONE);
    assertRejected(CorruptSegmentException.class, valid, b -> b.put(0, (byte) 'X'), "magic");
    assertRejected(
        CorruptSegmentException.class,
        valid,
        b -> b.put(b.capacity() - 1, (byte) 'X'),
        "end magic");
  }

  @Test
  void checksumsAreTyped() {
    byte[] valid = SegmentCodec.encode(incremental(), Compression.NONE);
    int bodyStart = indexEntry(valid, 4) + META_CHECK_SIZE;
    byte[] body = valid.clone();
    body[bodyStart + 3] ^= 1;
    ChecksumMismatchException file =
        assertThrows(ChecksumMismatchException.class, () -> SegmentCodec.decode(body, "s"));
    assertTrue(file.getMessage().contains("file CRC32C"), file.getMessage());
    // with the file CRC fixed, the metadata and page CRCs still catch their regions
    ByteBuffer.wrap(body).putInt(body.length - 8, crc(body, 0, body.length - 8));
    ChecksumMismatchException page =
        assertThrows(ChecksumMismatchException.class, () -> SegmentCodec.decode(body, "s"));
    assertTrue(page.getMessage().contains("page CRC32C of entry 0"), page.getMessage());
    byte[] meta = valid.clone();
    meta[commitEntry(1) + CE_TIME + 7] ^= 1;
    ByteBuffer.wrap(meta).putInt(meta.length - 8, crc(meta, 0, meta.length - 8));
    ChecksumMismatchException m =
        assertThrows(ChecksumMismatchException.class, () -> SegmentCodec.decode(meta, "s"));
    assertTrue(m.getMessage().contains("metadata CRC32C"), m.getMessage());
  }

  @Test
  void pageOrderIsEnforced() {
    byte[] valid = SegmentCodec.encode(incremental(), Compression.NONE);
    // entries: (1,7) (1,9) (2,8) (4,8). Swap the TXIDs of the first two: (1,9) (1,7).
    assertRejected(
        OutOfOrderPagesException.class,
        valid,
        b -> {
          b.putLong(indexEntry(valid, 0) + IE_TXID, 9);
          b.putLong(indexEntry(valid, 1) + IE_TXID, 7);
        },
        "page index order");
    // a duplicate (page, TXID)
    assertRejected(
        OutOfOrderPagesException.class,
        valid,
        b -> b.putLong(indexEntry(valid, 1) + IE_TXID, 7),
        "page index order");
    // page numbers going down: (2,8) then (1,8)... set entry 3's page to 1
    assertRejected(
        OutOfOrderPagesException.class,
        valid,
        b -> b.putInt(indexEntry(valid, 3) + IE_PAGE_NUMBER, 1),
        "page index order");
    byte[] snap = SegmentCodec.encode(snapshot(), Compression.NONE);
    assertRejected(
        OutOfOrderPagesException.class,
        snap,
        b -> {
          b.putInt(indexEntry(snap, 0) + IE_PAGE_NUMBER, 2);
          b.putInt(indexEntry(snap, 1) + IE_PAGE_NUMBER, 3);
          b.putLong(commitEntry(0) + CE_DB_SIZE, 3);
          b.putLong(OFF_DB_SIZE, 3);
        },
        "snapshot");
  }

  @Test
  void headerAndTableRulesAreEnforced() {
    byte[] inc = SegmentCodec.encode(incremental(), Compression.LZ4);
    byte[] snap = SegmentCodec.encode(snapshot(), Compression.NONE);
    Class<CorruptSegmentException> c = CorruptSegmentException.class;
    assertRejected(c, inc, b -> b.put(OFF_KIND, (byte) 2), "kind");
    assertRejected(c, inc, b -> b.put(OFF_COMPRESSION, (byte) 2), "compression");
    assertRejected(c, inc, b -> b.putInt(OFF_PAGE_SIZE, 1000), "page size");
    assertRejected(c, inc, b -> b.putInt(OFF_PAGE_SIZE, 256), "page size");
    assertRejected(c, inc, b -> b.putLong(OFF_LAST_TXID, 10), "last TXID");
    assertRejected(c, inc, b -> b.putLong(OFF_DB_SIZE, 5), "database size");
    assertRejected(c, inc, b -> b.putLong(OFF_CHECKSUM_AFTER, 1), "checksum after");
    assertRejected(c, inc, b -> b.putLong(commitEntry(1) + CE_TXID, 9), "commit TXID");
    assertRejected(c, inc, b -> b.putLong(commitEntry(1) + CE_TIME, -1), "commit time");
    assertRejected(c, inc, b -> b.putLong(commitEntry(0) + CE_DB_SIZE, -1), "database size");
    assertRejected(
        c,
        inc,
        b -> {
          b.putLong(OFF_FIRST_TXID, 0);
          b.putLong(OFF_LAST_TXID, 2);
        },
        "first TXID");
    // page 4 written at TXID 8 (size 4); shrink TXID 8's size to 3
    assertRejected(c, inc, b -> b.putLong(commitEntry(1) + CE_DB_SIZE, 3), "page number");
    assertRejected(c, inc, b -> b.putLong(indexEntry(inc, 0) + IE_TXID, 6), "TXID of page");
    assertRejected(c, inc, b -> b.putLong(indexEntry(inc, 0) + IE_TXID, 10), "TXID of page");
    assertRejected(c, inc, b -> b.putInt(indexEntry(inc, 0) + IE_PAGE_NUMBER, 0), "page number");
    assertRejected(c, inc, b -> b.putLong(indexEntry(inc, 1) + IE_BODY_OFFSET, 1), "body offset");
    assertRejected(
        c, inc, b -> b.putLong(OFF_COMMIT_COUNT, 0), "segment length"); // also zeroes page count
    assertRejected(c, snap, b -> b.putLong(OFF_CHECKSUM_BEFORE, 1), "checksum before");
    byte[] none = SegmentCodec.encode(incremental(), Compression.NONE);
    assertRejected(
        c, none, b -> b.putInt(indexEntry(none, 0) + IE_STORED_LENGTH, 511), "stored length");
  }

  @Test
  void malformedLz4BlockFailsOnReadNeverPartially() {
    byte[] valid = SegmentCodec.encode(incremental(), Compression.LZ4);
    int e = indexEntry(valid, 1); // page 1 at TXID 9: 'x' * 512 compresses to a few bytes
    ByteBuffer buf = ByteBuffer.wrap(valid);
    int len = buf.getInt(e + IE_STORED_LENGTH);
    assertTrue(len < 512, "the test needs a compressed page, got length " + len);
    int at = indexEntry(valid, 4) + META_CHECK_SIZE + (int) buf.getLong(e + IE_BODY_OFFSET);
    byte[] bad = valid.clone();
    for (int i = 0; i < len; i++) {
      bad[at + i] = (byte) 0xFF; // a literal run that overruns the block
    }
    reseal(bad);
    try (SegmentReader r = SegmentReader.open(bad, "s")) { // CRCs are valid: open succeeds
      r.readPage(0);
      CorruptSegmentException x = assertThrows(CorruptSegmentException.class, () -> r.readPage(1));
      assertTrue(x.getMessage().contains("LZ4 block of entry 1"), x.getMessage());
      assertThrows(CorruptSegmentException.class, r::verifyPages);
      assertThrows(CorruptSegmentException.class, r::toSegment);
    }
    assertThrows(CorruptSegmentException.class, () -> SegmentCodec.decode(bad, "s"));
  }

  @Test
  void everyFailureIsACorruptSegmentException() {
    // The subclasses let callers narrow, but "never apply" needs only the base type.
    for (Class<?> type :
        List.of(
            TruncatedSegmentException.class,
            UnsupportedFormatVersionException.class,
            ChecksumMismatchException.class,
            OutOfOrderPagesException.class)) {
      assertTrue(CorruptSegmentException.class.isAssignableFrom(type), type.getName());
    }
    try {
      SegmentCodec.decode(new byte[0], "empty");
      fail("empty input decoded");
    } catch (CorruptSegmentException e) {
      assertInstanceOf(TruncatedSegmentException.class, e);
      assertEquals("empty", e.source());
    }
  }
}
