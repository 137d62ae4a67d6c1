package dev.walship.store;

import dev.walship.store.testing.InProcessS3;
import dev.walship.store.testing.ObjectStoreContract;
import java.util.UUID;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The object store contract on a real S3 server in this JVM (S3Proxy 4.1.0, transient backend),
 * with a 5 MiB multipart threshold so the large-file test goes through multipart upload, and
 * DeleteObjects batches of 50 keys so the delete test spans several batches.
 */
class S3ProxyObjectStoreTest implements ObjectStoreContract {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();

  @Override
  public ObjectStore newStore() {
    S3Target target = S3Target.parse(S3.targetUrl("contract-" + UUID.randomUUID()));
    return new S3ObjectStore(
        target,
        S3.credentials(),
        S3ObjectStore.Tuning.DEFAULT.withMultipart(5L << 20, 5L << 20).withDeleteBatchSize(50));
  }
}
