package dev.walship.store.testing;

import dev.walship.s3.EmbeddedS3Server;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.net.URI;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * A real S3 server (S3Proxy 4.1.0) running in this JVM on a loopback ephemeral port, with one
 * bucket, for tests and the embedded demo.
 *
 * <p>As a JUnit 5 extension on a static field (started once per test class, stopped after it; on an
 * instance field, one server per test):
 *
 * <pre>{@code
 * @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
 *
 * try (ObjectStore store = S3.open("my-test")) { ... }   // s3://bucket/my-test/...
 * String url = S3.targetUrl("db1");                       // pass to code under test...
 * AwsCredentialsProvider creds = S3.credentials();         // ...with these credentials
 * }</pre>
 *
 * <p>As a plain resource: {@code try (InProcessS3 s3 = InProcessS3.transientBackend().start())
 * {...}}. Backends: {@link #transientBackend()} keeps objects in memory (fast LIST with
 * start-after); {@link #filesystemBackend(Path)} keeps them under a directory (survives a restart
 * of the server on the same directory).
 *
 * <p>A JUnit face on {@link EmbeddedS3Server} (module embedded-s3, the demo's server too), with
 * fixed credentials so child processes can sign with them. Conditional writes are atomic like
 * S3's: {@code If-None-Match: *} natively, {@code If-Match} through the server's atomic wrapper
 * (S3Proxy 4.1.0 alone checks it non-atomically).
 *
 * <p>Thread-safe once started. Use a distinct prefix per test to keep tests independent.
 */
public final class InProcessS3
    implements AutoCloseable,
        BeforeAllCallback,
        AfterAllCallback,
        BeforeEachCallback,
        AfterEachCallback {
  /** Access key id the server accepts. */
  public static final String ACCESS_KEY = "walship-test";

  /** Secret access key the server accepts. */
  public static final String SECRET_KEY = "walship-test-secret";

  private final String provider;
  private final EmbeddedS3Server server;
  private boolean perTest;

  private InProcessS3(String provider, EmbeddedS3Server.Builder builder) {
    this.provider = provider;
    this.server = builder.bucket("walship-test").credentials(ACCESS_KEY, SECRET_KEY).build();
  }

  /** A server keeping objects in memory. Call {@link #start()} or register it as an extension. */
  public static InProcessS3 transientBackend() {
    return new InProcessS3("transient", EmbeddedS3Server.builder().transientBackend());
  }

  /** A server keeping objects under {@code directory} (created if missing, not deleted). */
  public static InProcessS3 filesystemBackend(Path directory) {
    return new InProcessS3("filesystem", EmbeddedS3Server.builder().filesystemBackend(directory));
  }

  /** A server keeping objects in a fresh temporary directory deleted on close. */
  public static InProcessS3 filesystemBackend() {
    return new InProcessS3(
        "filesystem", EmbeddedS3Server.builder().temporaryFilesystemBackend());
  }

  /**
   * Starts the server and creates the bucket; idempotent.
   *
   * @return this
   */
  public synchronized InProcessS3 start() {
    server.start();
    return this;
  }

  /** Stops the server (objects of the transient backend are gone); idempotent. */
  @Override
  public synchronized void close() {
    server.close();
  }

  /** The server's endpoint, e.g. {@code http://127.0.0.1:41234}. */
  public URI endpoint() {
    requireStarted();
    return server.endpoint();
  }

  /** The one bucket the server holds. */
  public String bucket() {
    return server.bucket();
  }

  /** Static credentials the server accepts. */
  public AwsCredentialsProvider credentials() {
    return server.credentials();
  }

  /**
   * The target URL of {@code prefix} in the bucket: {@code
   * s3://walship-test/prefix?endpoint=http://127.0.0.1:PORT&path-style=true&region=us-east-1}. Open
   * it with {@code ObjectStores.open(url, credentials())}, or set {@code AWS_ACCESS_KEY_ID} /
   * {@code AWS_SECRET_ACCESS_KEY} to {@link #ACCESS_KEY}/{@link #SECRET_KEY} in a child process.
   */
  public String targetUrl(String prefix) {
    requireStarted();
    return server.targetUrl(prefix);
  }

  /** Opens a store on {@code prefix} of the bucket (the caller closes it). */
  public ObjectStore open(String prefix) {
    return ObjectStores.open(targetUrl(prefix), credentials());
  }

  /** Opens a store on a fresh random prefix (the caller closes it). */
  public ObjectStore openFresh() {
    return open("t-" + UUID.randomUUID());
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  /** Registered on an instance field (no beforeAll): a fresh server per test. */
  @Override
  public synchronized void beforeEach(ExtensionContext context) {
    if (!server.isRunning()) {
      start();
      perTest = true;
    }
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) {
    if (perTest) {
      perTest = false;
      close();
    }
  }

  @Override
  public String toString() {
    return "InProcessS3["
        + provider
        + (server.isRunning() ? ", " + server.endpoint() : ", stopped")
        + "]";
  }

  private void requireStarted() {
    if (!server.isRunning()) {
      throw new IllegalStateException(
          "InProcessS3 is not started: register it with @RegisterExtension on a static field or"
              + " call start()");
    }
  }
}
