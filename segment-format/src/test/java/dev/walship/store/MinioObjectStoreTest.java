package dev.walship.store;

import dev.walship.store.testing.ObjectStoreContract;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The object store contract on MinIO in a container. Needs a Docker engine: without one the whole
 * class is skipped and reported as such ("Docker is not available").
 */
@Testcontainers(disabledWithoutDocker = true)
class MinioObjectStoreTest implements ObjectStoreContract {
  private static final String BUCKET = "walship-contract";

  @Container
  static final MinIOContainer MINIO =
      new MinIOContainer("minio/minio:RELEASE.2025-04-22T22-12-26Z");

  @BeforeAll
  static void createBucket() {
    try (S3Client admin =
        S3Client.builder()
            .endpointOverride(URI.create(MINIO.getS3URL()))
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(credentials())
            .build()) {
      admin.createBucket(b -> b.bucket(BUCKET));
    }
  }

  private static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(
        AwsBasicCredentials.create(MINIO.getUserName(), MINIO.getPassword()));
  }

  @Override
  public ObjectStore newStore() {
    String url =
        "s3://"
            + BUCKET
            + "/contract-"
            + UUID.randomUUID()
            + "?endpoint="
            + URLEncoder.encode(MINIO.getS3URL(), StandardCharsets.UTF_8)
            + "&path-style=true";
    // MinIO enforces S3's 5 MiB minimum part size: 5 MiB parts, as for S3Proxy.
    return new S3ObjectStore(
        S3Target.parse(url),
        credentials(),
        S3ObjectStore.Tuning.DEFAULT.withMultipart(5L << 20, 5L << 20).withDeleteBatchSize(50));
  }
}
