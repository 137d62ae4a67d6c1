package dev.walship.s3;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * An S3 server holding one bucket, as seen by code that only needs to reach it: {@link
 * EmbeddedS3Server} (in this JVM) or {@link EmbeddedS3Process} (in a child JVM).
 */
public interface BucketServer extends AutoCloseable {
  /** The server's endpoint, e.g. {@code http://127.0.0.1:41234}. */
  URI endpoint();

  /** The one bucket the server holds. */
  String bucket();

  /** Credentials the server accepts; pass them to the store, never print them. */
  AwsCredentialsProvider credentials();

  /**
   * The walship target URL of {@code prefix} in the bucket: {@code
   * s3://BUCKET/PREFIX?endpoint=...&path-style=true&region=us-east-1}. Holds no secret.
   */
  String targetUrl(String prefix);

  /** Stops the server; idempotent. */
  @Override
  void close();
}
