package dev.walship.store;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * Opens an {@link ObjectStore} from a target URL.
 *
 * <ul>
 *   <li>{@code s3://bucket/prefix?endpoint=http://127.0.0.1:9000&path-style=true&region=us-east-1}
 *       — AWS SDK v2, default credential chain (env {@code AWS_ACCESS_KEY_ID}/{@code
 *       AWS_SECRET_ACCESS_KEY}, profile, instance role). All parameters are optional: {@code
 *       endpoint} overrides the AWS endpoint (S3Proxy, MinIO, ...), {@code path-style} ({@code
 *       true}/{@code false}, default false) puts the bucket in the path, {@code region} defaults to
 *       {@code us-east-1} when an endpoint is given and to the SDK's region chain otherwise. The
 *       prefix may be empty; object keys are stored under {@code prefix/}. Secrets never go in the
 *       URL: use the credential chain or {@link #open(String, AwsCredentialsProvider)}.
 *   <li>{@code file:///path/to/dir} — a local directory (created if missing), no parameters.
 * </ul>
 *
 * <p>Opening does no network I/O; a missing bucket or bad credentials surface on the first request
 * as a non-retryable {@link ObjectStoreException} naming the bucket.
 */
public final class ObjectStores {
  private ObjectStores() {}

  /**
   * Opens the store named by {@code targetUrl}; S3 targets use the AWS default credential chain.
   *
   * @throws IllegalArgumentException if the URL's scheme or parameters are not understood
   */
  public static ObjectStore open(String targetUrl) {
    return open(targetUrl, null);
  }

  /**
   * Opens the store named by {@code targetUrl}, S3 targets signing with {@code credentials} (for
   * tests and the embedded demo: {@code StaticCredentialsProvider.create(
   * AwsBasicCredentials.create(id, secret))}). {@code credentials} null means the default chain;
   * {@code file://} targets ignore it.
   *
   * @throws IllegalArgumentException if the URL's scheme or parameters are not understood
   */
  public static ObjectStore open(String targetUrl, AwsCredentialsProvider credentials) {
    Objects.requireNonNull(targetUrl, "targetUrl");
    String lower = targetUrl.strip().toLowerCase(java.util.Locale.ROOT);
    if (lower.startsWith("s3://")) {
      S3Target target = S3Target.parse(targetUrl.strip());
      AwsCredentialsProvider provider =
          credentials != null ? credentials : DefaultCredentialsProvider.builder().build();
      return new S3ObjectStore(target, provider, S3ObjectStore.Tuning.DEFAULT);
    }
    if (lower.startsWith("file:")) {
      return new LocalDirectoryObjectStore(localPath(targetUrl.strip()));
    }
    throw new IllegalArgumentException(
        "unsupported target URL '"
            + targetUrl
            + "': expected s3://bucket/prefix[?endpoint=..&path-style=..&region=..] or"
            + " file:///dir");
  }

  static Path localPath(String targetUrl) {
    URI uri;
    try {
      uri = new URI(targetUrl);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("malformed URL '" + targetUrl + "': " + e.getMessage(), e);
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "file:// target URLs take no parameters or fragment: " + targetUrl);
    }
    if (uri.isOpaque() || uri.getPath() == null || !uri.getPath().startsWith("/")) {
      throw new IllegalArgumentException(
          "file target URL must be absolute, like file:///var/lib/walship: " + targetUrl);
    }
    if (uri.getAuthority() != null && !uri.getAuthority().equals("localhost")) {
      throw new IllegalArgumentException(
          "file target URL must name a local path (file:///dir), not host '"
              + uri.getAuthority()
              + "': "
              + targetUrl);
    }
    Path dir = Path.of(uri.getPath());
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new ObjectStoreException("cannot create store directory " + dir + ": " + e, false, e);
    }
    return dir;
  }
}
