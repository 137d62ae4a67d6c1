package dev.walship.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class OrderedDownloadsTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  @TempDir Path dir;
  static final long PART = 4L << 20;

  @Test
  void aLargeObjectIsFetchedAsParallelRangedPartsByteForByte() throws Exception {
    byte[] data = new byte[(int) (PART * 2 + 12345)];
    new Random(3).nextBytes(data);
    ExecutorService parts = Executors.newFixedThreadPool(3);
    try (ObjectStore store = S3.openFresh()) {
      store.put("db/snapshots/big.seg", data);
      Path file = dir.resolve("big.seg");
      OrderedDownloads.download(store, new OrderedDownloads.Item("db/snapshots/big.seg", data.length), file, parts, PART);
      assertArrayEquals(data, Files.readAllBytes(file));

      MissingObjectException missing = assertThrows(MissingObjectException.class, () ->
          OrderedDownloads.download(store, new OrderedDownloads.Item("db/gone.seg", data.length),
              dir.resolve("gone.seg"), parts, PART));
      assertEquals("db/gone.seg", missing.key());
    } finally {
      parts.shutdownNow();
    }
  }
}
