package dev.walship.s3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Properties;
import java.util.stream.Stream;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A real S3 server (S3Proxy 4.1.0) running in this JVM on loopback, holding one bucket: the
 * embedded S3 of {@code walship demo} and {@code walship bench}, and the always-on S3 of the tests
 * (segment-format's {@code InProcessS3} delegates here).
 *
 * <pre>{@code
 * try (EmbeddedS3Server s3 = EmbeddedS3Server.builder().transientBackend().start()) {
 *   String url = s3.targetUrl("demo");          // s3://walship/demo?endpoint=http://127.0.0.1:PORT&...
 *   ObjectStore store = ObjectStores.open(url, s3.credentials());
 * }
 * }</pre>
 *
 * <p>S3Proxy speaks real S3 over HTTP (SigV2/SigV4 authentication, ListObjectsV2 with {@code
 * start-after}, ranged GET, multipart, atomic {@code If-None-Match: *} and {@code If-Match}).
 * Backends: {@code transient} keeps objects in memory (fast {@code start-after} LISTs, gone on
 * close); {@code filesystem} keeps them under a directory (survives a restart on the same
 * directory). Unless given, the secret key is random per server, so nothing secret needs to be
 * printed or configured: pass {@link #credentials()} to the code that signs requests.
 *
 * <p>Conditional writes are atomic like S3's: {@code If-None-Match: *} natively, {@code If-Match}
 * through {@link AtomicConditionalBlobStore} (S3Proxy 4.1.0 alone checks it non-atomically).
 *
 * <p>Thread-safe once started. {@link #close()} stops the server and releases its port.
 */
public final class EmbeddedS3Server implements BucketServer {
  /** Bucket created unless the builder names another. */
  public static final String DEFAULT_BUCKET = "walship";

  private final String provider;
  private final Path baseDir;
  private final boolean deleteBaseDirOnClose;
  private final String bucket;
  private final String host;
  private final int port;
  private final String accessKey;
  private final String secretKey;
  private S3Proxy proxy;
  private BlobStore blobStore;
  private URI endpoint;

  private EmbeddedS3Server(Builder b) {
    this.provider = b.provider;
    this.baseDir = b.baseDir;
    this.deleteBaseDirOnClose = b.deleteBaseDirOnClose;
    this.bucket = b.bucket;
    this.host = b.host;
    this.port = b.port;
    this.accessKey = b.accessKey;
    this.secretKey = b.secretKey != null ? b.secretKey : randomSecret();
  }

  /** A builder: transient backend, bucket {@value #DEFAULT_BUCKET}, 127.0.0.1, ephemeral port. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs a transient-backend server in its own process until standard input closes, so that a
   * benchmark can keep the bucket server's CPU out of the JVM it measures. Usage: {@code java -cp
   * CLASSPATH dev.walship.s3.EmbeddedS3Server ACCESS_KEY SECRET_KEY}. Prints one line, {@code
   * endpoint http://127.0.0.1:PORT}, once the server accepts requests.
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: EmbeddedS3Server ACCESS_KEY SECRET_KEY");
      System.exit(2);
    }
    try (EmbeddedS3Server s3 =
        builder().transientBackend().credentials(args[0], args[1]).start()) {
      System.out.println("endpoint " + s3.endpoint());
      System.out.flush();
      while (System.in.read() >= 0) {
        // runs until the parent closes our standard input (or dies)
      }
    }
  }

  /**
   * Starts the server and creates the bucket if missing. Idempotent.
   *
   * @return this
   * @throws IllegalStateException if S3Proxy cannot start (port taken, bad directory)
   */
  public synchronized EmbeddedS3Server start() {
    if (proxy != null) {
      return this;
    }
    Properties properties = new Properties();
    properties.setProperty("jclouds.identity", accessKey);
    properties.setProperty("jclouds.credential", secretKey);
    if (baseDir != null) {
      try {
        Files.createDirectories(baseDir);
        properties.setProperty("jclouds.filesystem.basedir", baseDir.toRealPath().toString());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create S3 directory " + baseDir, e);
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
              .endpoint(URI.create("http://" + host + ":" + port))
              .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
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
      endpoint = URI.create("http://" + host + ":" + server.getPort());
      return this;
    } catch (RuntimeException e) {
      releaseBlobStore();
      throw e;
    } catch (Exception e) {
      releaseBlobStore();
      throw new IllegalStateException(
          "cannot start S3Proxy (" + provider + " backend) on " + host + ":" + port, e);
    }
  }

  /** Stops the server (a transient backend's objects are gone); idempotent. */
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
      releaseBlobStore();
      if (deleteBaseDirOnClose) {
        deleteRecursively(baseDir);
      }
    }
  }

  /** True between {@link #start()} and {@link #close()}. */
  public synchronized boolean isRunning() {
    return proxy != null;
  }

  /** The server's endpoint, e.g. {@code http://127.0.0.1:41234}. */
  @Override
  public synchronized URI endpoint() {
    requireStarted();
    return endpoint;
  }

  /** The TCP port the server listens on. */
  public int port() {
    return endpoint().getPort();
  }

  /** The one bucket the server holds. */
  @Override
  public String bucket() {
    return bucket;
  }

  /** The access key id (not secret; shown in logs is fine). */
  public String accessKeyId() {
    return accessKey;
  }

  /** Credentials the server accepts; pass them to the store, never print them. */
  @Override
  public AwsCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey));
  }

  /**
   * The walship target URL of {@code prefix} in the bucket: {@code
   * s3://BUCKET/PREFIX?endpoint=http%3A%2F%2F127.0.0.1%3APORT&path-style=true&region=us-east-1}.
   * Holds no secret. Leading and trailing slashes of {@code prefix} are dropped; null or empty
   * means the bucket root.
   */
  @Override
  public String targetUrl(String prefix) {
    requireStarted();
    String p = prefix == null ? "" : prefix.replaceAll("^/+|/+$", "");
    return "s3://"
        + bucket
        + "/"
        + p
        + "?endpoint="
        + URLEncoder.encode(endpoint().toString(), StandardCharsets.UTF_8)
        + "&path-style=true&region=us-east-1";
  }

  @Override
  public String toString() {
    return "EmbeddedS3Server["
        + provider
        + ", bucket "
        + bucket
        + (proxy == null ? ", stopped" : ", " + endpoint)
        + "]";
  }

  private void requireStarted() {
    if (proxy == null) {
      throw new IllegalStateException("the embedded S3 server is not started: call start()");
    }
  }

  private void releaseBlobStore() {
    if (blobStore != null) {
      blobStore.close();
      blobStore = null;
    }
  }

  private static String randomSecret() {
    byte[] b = new byte[24];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  /** Configures an {@link EmbeddedS3Server}; not thread-safe. */
  public static final class Builder {
    private String provider = "transient";
    private Path baseDir;
    private boolean deleteBaseDirOnClose;
    private String bucket = DEFAULT_BUCKET;
    private String host = "127.0.0.1";
    private int port;
    private String accessKey = "walship";
    private String secretKey;

    private Builder() {}

    /** Objects in memory, gone when the server stops (the default). */
    public Builder transientBackend() {
      provider = "transient";
      baseDir = null;
      deleteBaseDirOnClose = false;
      return this;
    }

    /** Objects under {@code directory} (created if missing, kept on close). */
    public Builder filesystemBackend(Path directory) {
      provider = "filesystem";
      baseDir = Objects.requireNonNull(directory, "directory");
      deleteBaseDirOnClose = false;
      return this;
    }

    /** Objects under a fresh temporary directory, deleted on close. */
    public Builder temporaryFilesystemBackend() {
      try {
        provider = "filesystem";
        baseDir = Files.createTempDirectory("walship-s3");
        deleteBaseDirOnClose = true;
        return this;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a temporary directory", e);
      }
    }

    /** The bucket to create (S3 naming rules: lower case, digits, '-', '.'; 3 to 63 chars). */
    public Builder bucket(String name) {
      if (name == null || !name.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
        throw new IllegalArgumentException("invalid bucket name '" + name + "'");
      }
      bucket = name;
      return this;
    }

    /** Interface to listen on (default 127.0.0.1; the server is meant for loopback). */
    public Builder host(String h) {
      host = Objects.requireNonNull(h, "host");
      return this;
    }

    /** TCP port (0, the default, picks a free ephemeral port). */
    public Builder port(int p) {
      if (p < 0 || p > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + p);
      }
      port = p;
      return this;
    }

    /** Fixed credentials (for child processes that read them from the environment). */
    public Builder credentials(String accessKeyId, String secretAccessKey) {
      if (accessKeyId == null || accessKeyId.isEmpty() || secretAccessKey == null
          || secretAccessKey.isEmpty()) {
        throw new IllegalArgumentException("access key id and secret must not be empty");
      }
      accessKey = accessKeyId;
      secretKey = secretAccessKey;
      return this;
    }

    /** The configured, not yet started server. */
    public EmbeddedS3Server build() {
      return new EmbeddedS3Server(this);
    }

    /** Builds and starts the server. */
    public EmbeddedS3Server start() {
      return build().start();
    }
  }
}
