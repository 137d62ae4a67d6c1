package dev.walship.store;

import dev.walship.store.testing.ObjectStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The object store contract on a local directory. */
class LocalDirectoryObjectStoreTest implements ObjectStoreContract {
  @TempDir Path dir;
  private int stores;

  @Override
  public ObjectStore newStore() {
    return ObjectStores.open(dir.resolve("store-" + stores++).toUri().toString());
  }
}
