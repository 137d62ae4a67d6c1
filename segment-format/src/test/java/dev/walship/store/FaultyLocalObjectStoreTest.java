package dev.walship.store;

import dev.walship.store.testing.FaultInjectingObjectStore;
import dev.walship.store.testing.ObjectStoreContract;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
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
}
