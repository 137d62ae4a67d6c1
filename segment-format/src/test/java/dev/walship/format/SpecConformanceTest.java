package dev.walship.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;

/**
 * SPEC.md, read literally: an independent parser written from the spec's tables (every offset is a
 * literal here, nothing comes from the codec's constants) decodes the golden vectors and random
 * segments and must agree with what the segments hold. If the spec and the code drift apart, this
 * fails.
 */
class SpecConformanceTest {

  @Test
  void goldenVectorsFollowTheSpecTables() throws Exception {
    for (Map.Entry<String, GoldenVectors.Vector> e : GoldenVectors.vectors().entrySet()) {
      byte[] bytes = GoldenVectorsTest.committed(e.getKey());
      checkAgainstSpec(bytes, e.getValue().segment(), e.getValue().compression());
      assertEquals(1, ByteBuffer.wrap(bytes).getShort(8));
    }
    for (Map.Entry<String, GoldenVectors.Capture> e : GoldenVectors.v2Captures().entrySet()) {
      byte[] bytes = GoldenVectorsTest.committed("v2", e.getKey());
      checkAgainstSpec(bytes, GoldenVectors.segmentOf(e.getValue()), Compression.LZ4);
      assertEquals(2, ByteBuffer.wrap(bytes).getShort(8));
    }
  }

  @Test
  void randomSegmentsFollowTheSpecTables() {
    for (long seed = 0; seed < 60; seed++) {
      Segment s = RandomSegments.generate(seed);
      for (Compression c : Compression.values()) {
        checkAgainstSpec(SegmentCodec.encode(s, c), s, c);
      }
    }
  }

  private static void checkAgainstSpec(byte[] bytes, Segment s, Compression compression) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN); // "all big-endian"
    // 2.2 Header
    assertArrayEquals(
        new byte[] {0x57, 0x53, 0x45, 0x47, 0x0D, 0x0A, 0x1A, 0x0A}, Arrays.copyOf(bytes, 8));
    short version = b.getShort(8);
    assertTrue(version == 1 || version == 2, "version " + version);
    assertEquals(0, b.getShort(10));
    assertEquals(s.kind() == SegmentKind.SNAPSHOT ? 1 : 0, b.get(12));
    assertEquals(s.level(), b.get(13) & 0xFF);
    assertEquals(compression == Compression.LZ4 ? 1 : 0, b.get(14));
    assertEquals(0, b.get(15));
    assertEquals(s.pageSize(), b.getInt(16));
    int c = b.getInt(20);
    assertEquals(s.commits().size(), c);
    assertEquals(s.firstTxid(), b.getLong(24));
    assertEquals(s.lastTxid(), b.getLong(32));
    assertEquals(s.dbSizePages(), b.getLong(40));
    assertEquals(s.checksumBefore(), b.getLong(48));
    assertEquals(s.checksumAfter(), b.getLong(56));
    int p = b.getInt(64);
    assertEquals(s.pages().size(), p);
    assertEquals(0, b.getInt(68));
    long bodyLength = b.getLong(72);
    for (int i = 80; i < 128; i++) {
      assertEquals(0, bytes[i], "reserved header byte " + i);
    }
    // 2.1 Layout
    int m = 128 + 32 * c + 32 * p;
    int bodyStart = m + 8;
    assertEquals(bodyStart + bodyLength + 8, bytes.length);
    // 2.3 Commit table
    for (int i = 0; i < c; i++) {
      int e = 128 + 32 * i;
      CommitRecord r = s.commits().get(i);
      assertEquals(r.txid(), b.getLong(e));
      assertEquals(r.commitTimeMillis(), b.getLong(e + 8));
      assertEquals(r.dbSizePages(), b.getLong(e + 16));
      assertEquals(r.checksumAfter(), b.getLong(e + 24));
    }
    // 2.4 Page index and 2.5 bodies
    long offset = 0;
    byte[] page = new byte[s.pageSize()];
    byte[] previous = null;
    int deltas = 0;
    for (int i = 0; i < p; i++) {
      int e = 128 + 32 * c + 32 * i;
      PageVersion v = s.pages().get(i);
      assertEquals(v.pageNumber(), b.getInt(e) & 0xFFFF_FFFFL);
      int stored = b.getInt(e + 4);
      assertEquals(v.txid(), b.getLong(e + 8));
      assertEquals(offset, b.getLong(e + 16));
      assertEquals(crc(bytes, bodyStart + (int) offset, stored), b.getInt(e + 24));
      int entryFlags = b.get(e + 28);
      assertEquals(0, b.get(e + 29) | b.getShort(e + 30), "reserved bytes 29-31");
      boolean delta = entryFlags == 1;
      assertTrue(entryFlags == 0 || (delta && version == 2), "entry flags " + entryFlags);
      int at = bodyStart + (int) offset;
      if (delta) { // an LZ4 block of (image XOR the previous entry's image, same page)
        assertEquals(Compression.LZ4, compression);
        assertTrue(i > 0 && s.pages().get(i - 1).pageNumber() == v.pageNumber());
        assertTrue(stored < s.pageSize());
        byte[] x = new byte[s.pageSize()];
        int n =
            LZ4Factory.safeInstance()
                .safeDecompressor()
                .decompress(bytes, at, stored, x, 0, s.pageSize());
        assertEquals(s.pageSize(), n);
        for (int k = 0; k < x.length; k++) {
          page[k] = (byte) (previous[k] ^ x[k]);
        }
        deltas++;
      } else if (stored == s.pageSize()) { // raw
        System.arraycopy(bytes, at, page, 0, stored);
      } else { // an LZ4 block decoding to exactly one page
        assertEquals(Compression.LZ4, compression);
        int n =
            LZ4Factory.safeInstance()
                .safeDecompressor()
                .decompress(bytes, at, stored, page, 0, s.pageSize());
        assertEquals(s.pageSize(), n);
      }
      assertArrayEquals(v.data(), page);
      previous = page.clone();
      offset += stored;
    }
    assertEquals(bodyLength, offset);
    assertEquals(version == 2, deltas > 0, "version 2 if and only if a delta entry");
    // 2.6 Metadata check, 2.7 Trailer
    assertEquals(crc(bytes, 0, m), b.getInt(m));
    assertEquals(0, b.getInt(m + 4));
    int t = bytes.length - 8;
    assertEquals(crc(bytes, 0, t), b.getInt(t));
    assertArrayEquals(new byte[] {0x47, 0x45, 0x53, 0x57}, Arrays.copyOfRange(bytes, t + 4, t + 8));
  }

  private static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }
}
