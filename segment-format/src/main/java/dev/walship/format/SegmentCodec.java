package dev.walship.format;

/** In-memory encode and decode of whole segments (small segments, tests, golden vectors). */
public final class SegmentCodec {
  private SegmentCodec() {}

  /** Encodes {@code segment}; validates its invariants first (IllegalArgumentException). */
  public static byte[] encode(Segment segment, Compression compression) {
    throw new UnsupportedOperationException("implemented by the segment format work");
  }

  /** Strict decode; see {@link SegmentReader}. */
  public static Segment decode(byte[] bytes, String source) {
    try (SegmentReader r = SegmentReader.open(bytes, source)) {
      return r.toSegment();
    }
  }
}
