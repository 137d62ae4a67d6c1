package dev.walship.store;

/**
 * Opens an {@link ObjectStore} from a target URL.
 *
 * <ul>
 *   <li>{@code s3://bucket/prefix?endpoint=http://127.0.0.1:9000&path-style=true&region=us-east-1}
 *       — AWS SDK v2, default credential chain (env {@code AWS_ACCESS_KEY_ID}/{@code
 *       AWS_SECRET_ACCESS_KEY}, profile, instance role).
 *   <li>{@code file:///path/to/dir} — a local directory.
 * </ul>
 */
public final class ObjectStores {
  private ObjectStores() {}

  /**
   * @throws IllegalArgumentException if the URL's scheme or parameters are not understood
   */
  public static ObjectStore open(String targetUrl) {
    throw new UnsupportedOperationException("implemented by the object store work");
  }
}
