package dev.walship.store;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;

/**
 * Rules every {@link ObjectStore} applies to keys, so that a key valid on one implementation is
 * valid on all of them: non-empty, at most 1,024 UTF-8 bytes (the S3 limit), {@code /} separated,
 * no leading or trailing {@code /}, no empty, {@code .} or {@code ..} segment, no backslash or
 * control character, and no segment starting with {@code .walship-} (reserved for the local
 * directory store's temporary and lock files).
 */
final class ObjectKeys {
  /** Lexicographic order of the keys' UTF-8 bytes, which is code point order (S3 list order). */
  static final Comparator<String> ORDER = ObjectKeys::compareCodePoints;

  static final String RESERVED_SEGMENT_PREFIX = ".walship-";

  private ObjectKeys() {}

  /**
   * @throws IllegalArgumentException naming the key and the rule it breaks
   */
  static String check(String key) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("object key must not be empty");
    }
    if (key.getBytes(StandardCharsets.UTF_8).length > 1024) {
      throw new IllegalArgumentException("object key longer than 1024 UTF-8 bytes: " + key);
    }
    if (key.startsWith("/") || key.endsWith("/")) {
      throw new IllegalArgumentException(
          "object key must not start or end with '/': '" + key + "'");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '\\') {
        throw new IllegalArgumentException(
            "object key contains a control character or backslash at index "
                + i
                + ": '"
                + key
                + "'");
      }
    }
    for (String segment : key.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException(
            "object key has an empty, '.' or '..' segment: '" + key + "'");
      }
      if (segment.startsWith(RESERVED_SEGMENT_PREFIX)) {
        throw new IllegalArgumentException(
            "object key segment starting with '"
                + RESERVED_SEGMENT_PREFIX
                + "' is reserved: '"
                + key
                + "'");
      }
    }
    return key;
  }

  /** A list prefix may be empty or end with '/'; otherwise it follows the key character rules. */
  static String checkPrefix(String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      return "";
    }
    if (prefix.startsWith("/")) {
      throw new IllegalArgumentException("list prefix must not start with '/': '" + prefix + "'");
    }
    if (prefix.contains("..") || prefix.contains("\\")) {
      throw new IllegalArgumentException(
          "list prefix must not contain '..' or '\\': '" + prefix + "'");
    }
    return prefix;
  }

  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
