package dev.walship.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.walship.format.BucketLayout;
import dev.walship.format.SegmentReader;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PageApplierTest {
  @TempDir static Path dir;
  static ObjectStore store;
  static ReferenceShipper shipper;

  @BeforeAll
  static void ship() throws Exception {
    store = ObjectStores.open(dir.resolve("bucket").toUri().toString());
    shipper = ReferenceShipper.create(store, "app", dir, Instant.parse("2026-11-21T10:00:00Z").toEpochMilli(), new Random(5));
    shipper.run(80, 4, 0);
  }

  @AfterAll
  static void close() {
    shipper.close();
    store.close();
  }

  static SegmentReader read(String key) {
    return SegmentReader.open(store.get(key).orElseThrow().data(), key);
  }

  @Test
  void appliesEverySegmentOneByOneWithTheRecordedChecksums() {
    List<ObjectInfo> l0 = store.listAll(BucketLayout.levelPrefix("app", 0), null);
    try (PageApplier a = PageApplier.open(dir.resolve("one.db"), shipper.lineage.lineageId(), SegmentSource.none())) {
      for (ObjectInfo o : l0) {
        SegmentReader r = read(o.key());
        for (long t = Math.max(r.firstTxid(), a.txid() + 1); t <= r.lastTxid(); t++) {
          a.apply(o.key(), r, t);
          assertEquals(shipper.history.get(t).checksum(), a.checksum(), "state at " + t);
          assertEquals(a.checksum(), a.recomputeChecksum(), "file at " + t);
        }
      }
      assertEquals(shipper.txid(), a.txid());
    }
  }
}
