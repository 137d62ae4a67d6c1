package dev.walship.format;

import java.util.List;

/**
 * A decoded segment held in memory. Large segments are written and read with {@link SegmentWriter}
 * and {@link SegmentReader} instead, which keep memory bounded.
 *
 * @param kind incremental or snapshot
 * @param level compaction level (0 for segments written by the primary)
 * @param pageSize page size in bytes (512..65536, a power of two)
 * @param firstTxid first TXID covered
 * @param lastTxid last TXID covered (inclusive)
 * @param checksumBefore database checksum at {@code firstTxid - 1} (0 for a snapshot)
 * @param commits one record per TXID from firstTxid to lastTxid, in order
 * @param pages page images sorted by (page number, TXID)
 */
public record Segment(
    SegmentKind kind,
    int level,
    int pageSize,
    long firstTxid,
    long lastTxid,
    long checksumBefore,
    List<CommitRecord> commits,
    List<PageVersion> pages) {

  /** Database size in pages after {@code lastTxid}. */
  public long dbSizePages() {
    return commits.get(commits.size() - 1).dbSizePages();
  }

  /** Database checksum after {@code lastTxid}. */
  public long checksumAfter() {
    return commits.get(commits.size() - 1).checksumAfter();
  }
}
