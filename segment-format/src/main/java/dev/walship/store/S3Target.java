package dev.walship.store;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A parsed {@code s3://bucket/prefix?endpoint=..&path-style=..&region=..} target URL.
 *
 * @param bucket the bucket name
 * @param prefix the key prefix every object key is put under: empty, or ending with {@code /}
 * @param endpoint endpoint override ({@code http(s)://host:port}), or null for AWS
 * @param pathStyle whether to address the bucket in the path instead of the host name
 * @param region the signing region, or null to use the SDK's region chain
 */
record S3Target(String bucket, String prefix, URI endpoint, boolean pathStyle, String region) {
  static final Set<String> PARAMETERS = Set.of("endpoint", "path-style", "region");

  static S3Target parse(String targetUrl) {
    URI uri = parseUri(targetUrl);
    if (!"s3".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("not an s3:// target URL: " + targetUrl);
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException(
          "credentials do not belong in the target URL (use the AWS default credential chain: "
              + "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile, instance role): "
              + redact(uri));
    }
    if (uri.getRawFragment() != null) {
      throw new IllegalArgumentException("target URL must not have a #fragment: " + targetUrl);
    }
    String bucket = uri.getAuthority();
    if (bucket == null || bucket.isEmpty()) {
      throw new IllegalArgumentException("s3 target URL names no bucket: " + targetUrl);
    }
    if (!bucket.matches("[a-z0-9][a-z0-9.\\-_]{1,254}")) {
      throw new IllegalArgumentException(
          "not a valid bucket name '" + bucket + "' in " + targetUrl);
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    while (path.startsWith("/")) {
      path = path.substring(1);
    }
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (!path.isEmpty()) {
      ObjectKeys.check(path);
    }
    String prefix = path.isEmpty() ? "" : path + "/";

    Map<String, String> params = parseQuery(uri, targetUrl);
    URI endpoint = null;
    if (params.containsKey("endpoint")) {
      endpoint = parseUri(params.get("endpoint"));
      String scheme = endpoint.getScheme();
      if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)
          || endpoint.getHost() == null) {
        throw new IllegalArgumentException(
            "endpoint must be an http(s)://host[:port] URL, got '" + params.get("endpoint") + "'");
      }
    }
    boolean pathStyle = false;
    if (params.containsKey("path-style")) {
      String v = params.get("path-style").toLowerCase(Locale.ROOT);
      if (!v.equals("true") && !v.equals("false")) {
        throw new IllegalArgumentException("path-style must be true or false, got '" + v + "'");
      }
      pathStyle = v.equals("true");
    }
    String region = params.get("region");
    if (region != null && !region.matches("[a-z0-9\\-]+")) {
      throw new IllegalArgumentException("not a valid region '" + region + "'");
    }
    if (region == null && endpoint != null) {
      region = "us-east-1";
    }
    return new S3Target(bucket, prefix, endpoint, pathStyle, region);
  }

  /** The full S3 key of a store key. */
  String fullKey(String key) {
    return prefix + key;
  }

  /** {@code s3://bucket/fullKey}, for messages. */
  String location(String key) {
    return "s3://" + bucket + "/" + fullKey(key);
  }

  String describe() {
    StringBuilder sb = new StringBuilder("s3://").append(bucket).append('/').append(prefix);
    sb.append(" (");
    sb.append(endpoint == null ? "AWS" : "endpoint " + endpoint);
    if (pathStyle) {
      sb.append(", path-style");
    }
    if (region != null) {
      sb.append(", region ").append(region);
    }
    return sb.append(')').toString();
  }

  private static URI parseUri(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("target URL must not be empty");
    }
    try {
      return new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("malformed URL '" + url + "': " + e.getMessage(), e);
    }
  }

  private static Map<String, String> parseQuery(URI uri, String targetUrl) {
    Map<String, String> params = new LinkedHashMap<>();
    String query = uri.getRawQuery();
    if (query == null || query.isEmpty()) {
      return params;
    }
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name =
          URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      if (!PARAMETERS.contains(name)) {
        throw new IllegalArgumentException(
            "unknown parameter '"
                + name
                + "' in target URL "
                + redact(uri)
                + "; known: "
                + String.join(", ", PARAMETERS.stream().sorted().toList()));
      }
      if (value.isEmpty()) {
        throw new IllegalArgumentException("parameter '" + name + "' has no value in " + targetUrl);
      }
      if (params.put(name, value) != null) {
        throw new IllegalArgumentException("parameter '" + name + "' given twice in " + targetUrl);
      }
    }
    return params;
  }

  private static String redact(URI uri) {
    return uri.getScheme()
        + "://"
        + (uri.getHost() == null ? "?" : uri.getHost())
        + (uri.getRawPath() == null ? "" : uri.getRawPath());
  }
}
