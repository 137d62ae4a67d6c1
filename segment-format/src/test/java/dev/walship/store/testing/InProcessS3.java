package dev.walship.store.testing;

import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

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
 * <p>Conditional writes are atomic like S3's: {@code If-None-Match: *} natively, {@code If-Match}
 * through {@link AtomicConditionalBlobStore} (S3Proxy 4.1.0 alone checks it non-atomically).
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
  private final Path baseDir;
  private final boolean deleteBaseDirOnClose;
  private final String bucket;
  private S3Proxy proxy;
  private BlobStore blobStore;
  private URI endpoint;
  private boolean perTest;

  private InProcessS3(String provider, Path baseDir, boolean deleteBaseDirOnClose) {
    this.provider = provider;
    this.baseDir = baseDir;
    this.deleteBaseDirOnClose = deleteBaseDirOnClose;
    this.bucket = "walship-test";
  }

  /** A server keeping objects in memory. Call {@link #start()} or register it as an extension. */
  public static InProcessS3 transientBackend() {
    return new InProcessS3("transient", null, false);
  }

  /** A server keeping objects under {@code directory} (created if missing, not deleted). */
  public static InProcessS3 filesystemBackend(Path directory) {
    return new InProcessS3("filesystem", directory, false);
  }

  /** A server keeping objects in a fresh temporary directory deleted on close. */
  public static InProcessS3 filesystemBackend() {
    try {
      return new InProcessS3("filesystem", Files.createTempDirectory("walship-s3proxy"), true);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Starts the server and creates the bucket; idempotent.
   *
   * @return this
   */
  public synchronized InProcessS3 start() {
    if (proxy != null) {
      return this;
    }
    Properties properties = new Properties();
    properties.setProperty("jclouds.identity", ACCESS_KEY);
    properties.setProperty("jclouds.credential", SECRET_KEY);
    if (baseDir != null) {
      try {
        Files.createDirectories(baseDir);
        properties.setProperty("jclouds.filesystem.basedir", baseDir.toRealPath().toString());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot create " + baseDir, e);
      }
    }
    try {
      blobStore = new AtomicConditionalBlobStore(BlobStores.create(provider, properties));
      if (!blobStore.containerExists(bucket)) {
        blobStore.createContainer(bucket);
      }
      S3Proxy server =
          S3Proxy.builder()
              .blobStore(blobStore)
              .endpoint(URI.create("http://127.0.0.1:0"))
              .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
              .ignoreUnknownHeaders(true)
              .v4MaxNonChunkedRequestSize(1L << 30)
              .stopTimeout(0)
              .build();
      server.start();
      if (!"STARTED".equals(server.getState())) {
        server.stop();
        throw new IllegalStateException("S3Proxy did not start: state " + server.getState());
      }
      proxy = server;
      endpoint = URI.create("http://127.0.0.1:" + server.getPort());
      return this;
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("cannot start S3Proxy (" + provider + " backend)", e);
    }
  }

  /** Stops the server (objects of the transient backend are gone); idempotent. */
  @Override
  public synchronized void close() {
    if (proxy == null) {
      return;
    }
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop S3Proxy on " + endpoint, e);
    } finally {
      proxy = null;
      if (blobStore != null) {
        blobStore.close();
        blobStore = null;
      }
      if (deleteBaseDirOnClose) {
        deleteRecursively(baseDir);
      }
    }
  }

  /** The server's endpoint, e.g. {@code http://127.0.0.1:41234}. */
  public URI endpoint() {
    requireStarted();
    return endpoint;
  }

  /** The one bucket the server holds. */
  public String bucket() {
    return bucket;
  }

  /** Static credentials the server accepts. */
  public AwsCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
  }

  /**
   * The target URL of {@code prefix} in the bucket: {@code
   * s3://walship-test/prefix?endpoint=http://127.0.0.1:PORT&path-style=true&region=us-east-1}. Open
   * it with {@code ObjectStores.open(url, credentials())}, or set {@code AWS_ACCESS_KEY_ID} /
   * {@code AWS_SECRET_ACCESS_KEY} to {@link #ACCESS_KEY}/{@link #SECRET_KEY} in a child process.
   */
  public String targetUrl(String prefix) {
    requireStarted();
    String p = prefix == null ? "" : prefix.replaceAll("^/+|/+$", "");
    return "s3://"
        + bucket
        + "/"
        + p
        + "?endpoint="
        + URLEncoder.encode(endpoint.toString(), StandardCharsets.UTF_8)
        + "&path-style=true&region=us-east-1";
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
    if (proxy == null) {
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
    return "InProcessS3[" + provider + (endpoint == null ? ", stopped" : ", " + endpoint) + "]";
  }

  private void requireStarted() {
    if (proxy == null) {
      throw new IllegalStateException(
          "InProcessS3 is not started: register it with @RegisterExtension on a static field or"
              + " call start()");
    }
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
