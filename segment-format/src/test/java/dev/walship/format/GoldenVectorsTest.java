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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The committed v1 vectors: today's encoder reproduces them, today's decoder reads them. */
class GoldenVectorsTest {

  static Stream<Arguments> vectors() {
    List<Arguments> out = new ArrayList<>();
    for (Map.Entry<String, GoldenVectors.Vector> e : GoldenVectors.vectors().entrySet()) {
      out.add(Arguments.of(e.getKey(), e.getValue()));
    }
    return out.stream();
  }

  static byte[] committed(String name) throws IOException {
    try (InputStream in =
        GoldenVectorsTest.class.getResourceAsStream("/golden/v1/" + name + ".seg")) {
      assertNotNull(in, "golden vector " + name + ".seg is committed");
      return in.readAllBytes();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void encoderReproducesTheCommittedBytes(String name, GoldenVectors.Vector v) throws IOException {
    // The reference LZ4 compressor (SPEC.md 2.5): writers use the fast one, not always identical.
    assertArrayEquals(
        committed(name), SegmentCodec.encode(v.segment(), v.compression(), true), name);
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
