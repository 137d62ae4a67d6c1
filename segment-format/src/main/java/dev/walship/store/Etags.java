package dev.walship.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** ETag helpers shared by the implementations. ETags are handled without surrounding quotes. */
final class Etags {
  private Etags() {}

  /** Strips the double quotes S3 puts around ETags (and a weak {@code W/} marker). */
  static String normalize(String etag) {
    if (etag == null) {
      return null;
    }
    String e = etag.startsWith("W/") ? etag.substring(2) : etag;
    if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
      e = e.substring(1, e.length() - 1);
    }
    return e;
  }

  /** The quoted form HTTP wants in {@code If-Match}. */
  static String quoted(String etag) {
    return "\"" + normalize(etag) + "\"";
  }

  /** A new MD5 digest (the single-part S3 ETag). */
  static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has MD5", e);
    }
  }

  static String md5Hex(byte[] data) {
    return HexFormat.of().formatHex(md5().digest(data));
  }

  static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }
}
