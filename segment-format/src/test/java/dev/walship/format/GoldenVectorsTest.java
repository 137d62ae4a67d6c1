package dev.walship.format;

import static dev.walship.format.SegmentAssertions.assertSameSegment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The committed v1 and v2 vectors: today's encoder (and, for v2, today's SegmentWriter fed the
 * captured writes) reproduces them, today's decoder reads them.
 */
class GoldenVectorsTest {
  @TempDir Path tmp;


  static Stream<Arguments> vectors() {
    List<Arguments> out = new ArrayList<>();
    for (Map.Entry<String, GoldenVectors.Vector> e : GoldenVectors.vectors().entrySet()) {
      out.add(Arguments.of(e.getKey(), e.getValue()));
    }
    return out.stream();
  }

  static Stream<Arguments> v2Captures() {
    List<Arguments> out = new ArrayList<>();
    for (Map.Entry<String, GoldenVectors.Capture> e : GoldenVectors.v2Captures().entrySet()) {
      out.add(Arguments.of(e.getKey(), e.getValue()));
    }
    return out.stream();
  }

  static byte[] committed(String name) throws IOException {
    return committed("v1", name);
  }

  /** As {@link #committed(String, String)}, for callers that cannot throw IOException. */
  static byte[] committedUnchecked(String version, String name) {
    try {
      return committed(version, name);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static byte[] committed(String version, String name) throws IOException {
    try (InputStream in =
        GoldenVectorsTest.class.getResourceAsStream("/golden/" + version + "/" + name + ".seg")) {
      assertNotNull(in, "golden vector " + version + "/" + name + ".seg is committed");
      return in.readAllBytes();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void encoderReproducesTheCommittedBytes(String name, GoldenVectors.Vector v) throws IOException {
    // The reference LZ4 compressor (SPEC.md 2.5): writers use the fast one, not always identical.
    // v1 has no deltas: the encoder reproduces the v1 bytes when told not to write any.
    assertArrayEquals(
        committed(name), SegmentCodec.encode(v.segment(), v.compression(), true, false), name);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void aV1VectorWithoutDeltaGainIsStillWrittenAsV1(String name, GoldenVectors.Vector v)
      throws IOException {
    byte[] withDeltas = SegmentCodec.encode(v.segment(), v.compression(), true, true);
    try (SegmentReader r = SegmentReader.open(withDeltas, name)) {
      boolean anyDelta = false;
      for (int i = 0; i < r.pageCount(); i++) {
        anyDelta |= r.isDelta(i);
      }
      if (anyDelta) {
        assertEquals(2, r.formatVersion(), name);
      } else {
        assertEquals(1, r.formatVersion(), name);
        assertArrayEquals(committed(name), withDeltas, name);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("v2Captures")
  void v2EncoderReproducesTheCommittedBytes(String name, GoldenVectors.Capture c)
      throws IOException {
    assertArrayEquals(committed("v2", name), GoldenVectors.encodeV2(c), name);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("v2Captures")
  void v2WriterFedTheCaptureReproducesTheCommittedBytes(String name, GoldenVectors.Capture c)
      throws IOException {
    for (int spoolBuffer : new int[] {1, 1 << 20}) {
      try (SegmentWriter w =
          GoldenVectors.writer(c, tmp, spoolBuffer, SegmentWriter.DELTA_BASE_BYTES, true)) {
        GoldenVectors.feed(c, w);
        assertArrayEquals(committed("v2", name), w.finish(), name);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("v2Captures")
  void v2DecoderReadsTheCapturedImages(String name, GoldenVectors.Capture c) throws IOException {
    byte[] bytes = committed("v2", name);
    Segment expected = GoldenVectors.segmentOf(c);
    assertSameSegment(expected, SegmentCodec.decode(bytes, name));
    try (SegmentReader r = SegmentReader.open(bytes, name)) {
      assertEquals(2, r.formatVersion());
      assertEquals(Compression.LZ4, r.compression());
      // Random access (each entry alone, in reverse, on a fresh thread cache) reads the same.
      for (int i = r.pageCount() - 1; i >= 0; i--) {
        assertArrayEquals(expected.pages().get(i).data(), r.readPage(i), name + " entry " + i);
      }
    }
  }

  @Test
  void theV2VectorsHoldTheCasesTheyDocument() throws IOException {
    try (SegmentReader r =
        SegmentReader.open(committed("v2", "delta-chain-lz4"), "delta-chain-lz4")) {
      // (1,0x20) (1,0x25) (2,0x20..0x25) (3,0x21) (3,0x23) (4,0x22)
      assertEquals(11, r.pageCount());
      boolean[] delta = new boolean[r.pageCount()];
      for (int i = 0; i < r.pageCount(); i++) {
        delta[i] = r.isDelta(i);
      }
      assertArrayEquals(
          new boolean[] {false, true, false, true, true, true, true, true, false, false, false},
          delta);
      assertEquals(r.pageSize(), r.storedLength(9), "page 3 at 0x23: random bytes, stored raw");
      for (int i = 3; i <= 7; i++) {
        assertTrue(r.storedLength(i) < 80, "a 40-byte row costs under 80 bytes: " + r.storedLength(i));
      }
    }
    try (SegmentReader r =
        SegmentReader.open(committed("v2", "delta-rewrite-drop-lz4"), "delta-rewrite-drop-lz4")) {
      // (2,0x30) (2,0x31) (2,0x32) (2,0x33) (3,0x30) (3,0x32): page 3's 0x31 image was dropped
      assertEquals(6, r.pageCount());
      assertEquals(3, r.pageNumber(5));
      assertEquals(0x32, r.pageTxid(5));
      assertTrue(r.isDelta(1) && r.isDelta(2) && r.isDelta(3) && r.isDelta(5));
      assertTrue(!r.isDelta(0) && !r.isDelta(4));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void decoderReadsTheCommittedBytes(String name, GoldenVectors.Vector v) throws IOException {
    byte[] bytes = committed(name);
    assertSameSegment(v.segment(), SegmentCodec.decode(bytes, name));
    try (SegmentReader r = SegmentReader.open(bytes, name)) {
      assertEquals(v.compression(), r.compression());
    }
  }

  @Test
  void theSnapshotVectorCarriesItsTrueDatabaseChecksum() throws IOException {
    Segment s = SegmentCodec.decode(committed("snapshot-lz4"), "snapshot-lz4");
    long checksum = 0;
    for (PageVersion p : s.pages()) {
      checksum ^= DatabaseChecksum.pageHash(p.pageNumber(), p.data());
    }
    assertEquals(s.checksumAfter(), checksum);
  }

  @Test
  void theLz4VectorMixesRawAndCompressedPages() throws IOException {
    try (SegmentReader r = SegmentReader.open(committed("incremental-lz4"), "v")) {
      boolean raw = false;
      boolean compressed = false;
      for (int i = 0; i < r.pageCount(); i++) {
        raw |= r.storedLength(i) == r.pageSize();
        compressed |= r.storedLength(i) < r.pageSize();
      }
      assertTrue(raw && compressed, "covers both stored forms");
    }
  }
}
