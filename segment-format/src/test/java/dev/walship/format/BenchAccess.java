package dev.walship.format;

import java.nio.file.Path;

/** Test-only access for benchmarks in other packages to package-private writer options. */
public final class BenchAccess {
  private BenchAccess() {}

  /**
   * An incremental LZ4 SegmentWriter (default spool buffer) that writes deltas if {@code deltas}
   * (the default base memory bound) or, if not, exactly what a v1-only writer wrote.
   */
  public static SegmentWriter incrementalLz4(
      int pageSize, long firstTxid, Path spoolDir, boolean deltas) {
    return SegmentWriter.create(
        SegmentKind.INCREMENTAL,
        0,
        pageSize,
        firstTxid,
        0,
        Compression.LZ4,
        spoolDir,
        4 << 20,
        deltas ? SegmentWriter.DELTA_BASE_BYTES : 0,
        false);
  }
}
