package dev.walship.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.walship.store.testing.FaultInjectingObjectStore;
import dev.walship.store.testing.ObjectStoreContract;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The object store contract holds over a flaky store once retried: a local directory behind the
 * fault injector (retryable errors, writes that land but report failure, truncated reads, slow
 * calls) behind {@link RetryingObjectStore}. No real waiting: the sleepers do nothing.
 */
class FaultyLocalObjectStoreTest implements ObjectStoreContract {
  @TempDir Path dir;
  private int stores;

  @Override
  public ObjectStore newStore() {
    long seed = 0x5eed + stores;
    ObjectStore local = ObjectStores.open(dir.resolve("store-" + stores++).toUri().toString());
    FaultInjectingObjectStore faulty =
        FaultInjectingObjectStore.builder(local, seed)
            .retryableErrorRate(0.15)
            .ambiguousWriteRate(0.10)
            .truncatedReadRate(0.10)
            .slowCalls(0.05, Duration.ofMillis(30))
            .sleeper(duration -> {})
            .build();
    return RetryingObjectStore.wrap(
        faulty,
        new RetryingObjectStore.Policy(12, Duration.ofMillis(1), Duration.ofMillis(20)),
        duration -> {},
        new Random(seed));
  }

  /**
   * getStream: RetryingObjectStore retries a failed open, but a body that breaks mid-way is not
   * retried: read throws IOException and the caller starts over.
   */
  @Test
  void getStreamRetriesTheOpenButNotABrokenBody() throws IOException {
    try (ObjectStore local = ObjectStores.open(dir.resolve("stream").toUri().toString())) {
      byte[] data = new byte[100_000];
      new Random(7).nextBytes(data);
      local.put("snapshots/0000000000000001.seg", data);
      FaultInjectingObjectStore faulty = FaultInjectingObjectStore.builder(local, 1).build();
      ObjectStore retrying = RetryingObjectStore.wrap(faulty,
          new RetryingObjectStore.Policy(5, Duration.ofMillis(1), Duration.ofMillis(2)),
          duration -> {}, new Random(1));
      faulty.failNext(2, true);
      try (InputStream in = retrying.getStream("snapshots/0000000000000001.seg").orElseThrow()) {
        assertArrayEquals(data, in.readAllBytes());
      }
      assertEquals(2, faulty.count(FaultInjectingObjectStore.Fault.RETRYABLE_ERROR));

      FaultInjectingObjectStore truncating =
          FaultInjectingObjectStore.builder(local, 2).truncatedReadRate(1.0).build();
      ObjectStore retryingTruncating = RetryingObjectStore.wrap(truncating,
          new RetryingObjectStore.Policy(5, Duration.ofMillis(1), Duration.ofMillis(2)),
          duration -> {}, new Random(2));
      try (InputStream in = retryingTruncating.getStream("snapshots/0000000000000001.seg").orElseThrow()) {
        assertThrows(IOException.class, in::readAllBytes);
      }
      assertEquals(1, truncating.count(FaultInjectingObjectStore.Fault.TRUNCATED_READ),
          "the broken body was not retried behind the caller's back");
    }
  }
}
