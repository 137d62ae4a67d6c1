package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.format.BucketLayout;
import dev.walship.format.DatabaseChecksum;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentReader;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Reference "materialize the bucket into a file" for tests: applies every level-0 segment of a
 * database in TXID order, checking contiguity, the pre-apply checksum of incremental segments and
 * the post-apply checksum of every segment.
 */
final class BucketReplay {
  private BucketReplay() {}

  /** What the replay found. */
  record Result(long lastTxid, long checksum, int pageSize, int segments, int snapshotsInL0) {}

  static Result replay(ObjectStore store, String db, Path out) {
    List<ObjectInfo> keys = store.listAll(BucketLayout.levelPrefix(db, 0), null);
    assertTrue(!keys.isEmpty(), "no segments for " + db);
    long last = 0;
    long checksum = 0;
    int pageSize = 0;
    int snapshots = 0;
    try {
      Files.deleteIfExists(out);
      Path tmp = Files.createTempFile(out.getParent(), "seg", ".tmp");
      try (FileChannel ch =
          FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.READ,
              StandardOpenOption.WRITE)) {
        for (ObjectInfo o : keys) {
          assertTrue(store.getToFile(o.key(), tmp));
          try (SegmentReader r = SegmentReader.open(tmp, o.key())) {
            if (last != 0) {
              assertEquals(last + 1, r.firstTxid(), "TXID gap before " + o.key());
            }
            assertEquals(BucketLayout.level0Key(db, r.firstTxid()), o.key());
            pageSize = r.pageSize();
            if (r.kind() == SegmentKind.SNAPSHOT) {
              snapshots++;
              ch.truncate(0);
            } else {
              assertEquals(checksum, r.checksumBefore(), "pre-apply checksum of " + o.key());
            }
            byte[] page = new byte[pageSize];
            int n = r.pageCount();
            for (int i = 0; i < n; i++) {
              if (i + 1 < n && r.pageNumber(i + 1) == r.pageNumber(i)) {
                continue; // an older version of the same page
              }
              r.readPage(i, page, 0);
              ch.write(ByteBuffer.wrap(page), (r.pageNumber(i) - 1) * pageSize);
            }
            ch.truncate(r.dbSizePages() * pageSize);
            checksum = DatabaseChecksum.of(ch, pageSize, r.dbSizePages());
            assertEquals(r.checksumAfter(), checksum, "post-apply checksum of " + o.key());
            last = r.lastTxid();
          }
        }
        ch.force(true);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Result(last, checksum, pageSize, keys.size(), snapshots);
  }
}
