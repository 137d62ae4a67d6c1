package dev.walship.restore;

import dev.walship.format.CommitRecord;
import dev.walship.format.SegmentKind;
import dev.walship.store.ObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The fixed 128-byte header and the commit table at the front of a segment (segment-format SPEC.md,
 * "Segment file": big-endian header fields, then one 32-byte commit entry per TXID), read with
 * ranged GETs so planning a restore never downloads whole segments. Nothing read here is trusted
 * for applying: the full object is verified by {@code SegmentReader} before any page is used.
 *
 * @param key object key
 * @param kind incremental or snapshot
 * @param pageSize bytes per page
 * @param firstTxid first TXID covered
 * @param lastTxid last TXID covered (inclusive)
 * @param checksumBefore database checksum before firstTxid
 * @param commits one record per TXID (empty unless requested)
 */
record SegmentHeader(
    String key,
    SegmentKind kind,
    int pageSize,
    long firstTxid,
    long lastTxid,
    long checksumBefore,
    List<CommitRecord> commits) {

  static final int HEADER_SIZE = 128;
  static final int COMMIT_ENTRY_SIZE = 32;
  private static final byte[] MAGIC = {0x57, 0x53, 0x45, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

  /**
   * Reads the header (and the commit table if {@code withCommits}) of {@code key}.
   *
   * @throws MissingObjectException if the object is absent
   * @throws dev.walship.format.CorruptSegmentException if the header is not a v1 or v2 segment
   *     header
   */
  static SegmentHeader read(ObjectStore store, String key, boolean withCommits) {
    int guess = withCommits ? HEADER_SIZE + 64 * COMMIT_ENTRY_SIZE : HEADER_SIZE;
    byte[] head = store.getRange(key, 0, guess).orElseThrow(() -> new MissingObjectException(key));
    if (head.length < HEADER_SIZE) {
      throw new dev.walship.format.CorruptSegmentException(
          key + ": " + head.length + " bytes is shorter than a segment header");
    }
    ByteBuffer b = ByteBuffer.wrap(head);
    for (int i = 0; i < MAGIC.length; i++) {
      if (head[i] != MAGIC[i]) {
        throw new dev.walship.format.CorruptSegmentException(key + ": bad magic at offset " + i);
      }
    }
    int version = b.getShort(8) & 0xffff;
    if (version != 1 && version != 2) { // v2 differs only in the page index (delta entries)
      throw new dev.walship.format.CorruptSegmentException(key + ": unsupported version " + version);
    }
    SegmentKind kind = b.get(12) == 1 ? SegmentKind.SNAPSHOT : SegmentKind.INCREMENTAL;
    int pageSize = b.getInt(16);
    int commitCount = b.getInt(20);
    long first = b.getLong(24);
    long last = b.getLong(32);
    long before = b.getLong(48);
    if (last < first || commitCount != last - first + 1) {
      throw new dev.walship.format.CorruptSegmentException(
          key + ": header TXIDs " + first + ".." + last + " disagree with commit count " + commitCount);
    }
    List<CommitRecord> commits = List.of();
    if (withCommits) {
      long need = HEADER_SIZE + (long) commitCount * COMMIT_ENTRY_SIZE;
      byte[] table = head;
      if (head.length < need) {
        table = store.getRange(key, 0, need).orElseThrow(() -> new MissingObjectException(key));
        if (table.length < need) {
          throw new dev.walship.format.CorruptSegmentException(key + ": commit table truncated");
        }
      }
      ByteBuffer t = ByteBuffer.wrap(table);
      List<CommitRecord> list = new ArrayList<>(commitCount);
      for (int i = 0; i < commitCount; i++) {
        int off = HEADER_SIZE + i * COMMIT_ENTRY_SIZE;
        list.add(new CommitRecord(t.getLong(off), t.getLong(off + 8), t.getLong(off + 16), t.getLong(off + 24)));
      }
      commits = List.copyOf(list);
    }
    return new SegmentHeader(key, kind, pageSize, first, last, before, commits);
  }
}
