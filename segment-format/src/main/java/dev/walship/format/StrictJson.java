package dev.walship.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.Set;

/**
 * Strict reading of the small JSON bucket objects: exactly the known fields, each of the right
 * type. Package-private; the value types expose {@code toJson()} and {@code fromJson(..)}.
 */
final class StrictJson {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private final String source;
  private final JsonNode node;
  private final String path;

  private StrictJson(String source, JsonNode node, String path) {
    this.source = source;
    this.node = node;
    this.path = path;
  }

  static StrictJson parse(byte[] json, String source, Set<String> fields) {
    if (json == null) {
      throw new InvalidBucketObjectException(source, "no content");
    }
    JsonNode n;
    try {
      n = MAPPER.readTree(json);
    } catch (IOException e) {
      throw new InvalidBucketObjectException(source, "not valid JSON: " + e.getMessage(), e);
    }
    return of(source, n, "", fields);
  }

  static StrictJson of(String source, JsonNode n, String path, Set<String> fields) {
    if (n == null || !n.isObject()) {
      throw new InvalidBucketObjectException(
          source, "expected a JSON object" + at(path) + ", found " + describe(n));
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!fields.contains(f)) {
        throw new InvalidBucketObjectException(
            source, "unknown field \"" + path + f + "\" (known: " + fields + ")");
      }
    }
    for (String f : fields) {
      if (!n.has(f)) {
        throw new InvalidBucketObjectException(source, "missing field \"" + path + f + "\"");
      }
    }
    return new StrictJson(source, n, path);
  }

  /** Checks {@code format_version} first, so a newer object fails with a clear message. */
  static void requireVersion(byte[] json, String source, int supported) {
    JsonNode n;
    try {
      n = MAPPER.readTree(json);
    } catch (IOException e) {
      throw new InvalidBucketObjectException(source, "not valid JSON: " + e.getMessage(), e);
    }
    if (n != null && n.isObject() && n.has("format_version")) {
      JsonNode v = n.get("format_version");
      if (!v.canConvertToExactIntegral() || v.asLong() != supported) {
        throw new InvalidBucketObjectException(
            source,
            "unsupported format_version "
                + v
                + " (this walship reads "
                + supported
                + "): written by a newer walship; upgrade before using this bucket");
      }
    }
  }

  private static String at(String path) {
    return path.isEmpty() ? "" : " at \"" + path.substring(0, path.length() - 1) + "\"";
  }

  private static String describe(JsonNode n) {
    return n == null || n.isMissingNode() ? "nothing" : n.getNodeType().toString().toLowerCase();
  }

  private JsonNode field(String name) {
    return node.get(name);
  }

  private InvalidBucketObjectException bad(String name, String expected, JsonNode v) {
    return new InvalidBucketObjectException(
        source, "field \"" + path + name + "\": expected " + expected + ", found " + v);
  }

  String string(String name) {
    JsonNode v = field(name);
    if (!v.isTextual() || v.asText().isEmpty()) {
      throw bad(name, "a non-empty string", v);
    }
    return v.asText();
  }

  long longValue(String name, long min) {
    JsonNode v = field(name);
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min) {
      throw bad(name, "an integer >= " + min, v);
    }
    return v.asLong();
  }

  int intValue(String name, int min) {
    JsonNode v = field(name);
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
      throw bad(name, "an integer >= " + min, v);
    }
    return v.asInt();
  }

  long checksum(String name) {
    JsonNode v = field(name);
    if (!v.isTextual()) {
      throw bad(name, "a 16-digit lower-case hex string", v);
    }
    try {
      return DatabaseChecksum.fromHex(v.asText());
    } catch (IllegalArgumentException e) {
      throw bad(name, "a 16-digit lower-case hex string", v);
    }
  }

  /** A nested object, or null if the field is JSON null. */
  StrictJson objectOrNull(String name, Set<String> fields) {
    JsonNode v = field(name);
    if (v.isNull()) {
      return null;
    }
    return of(source, v, path + name + ".", fields);
  }

  InvalidBucketObjectException invalid(String message) {
    return new InvalidBucketObjectException(source, message);
  }

  static byte[] write(ObjectNode n) {
    try {
      return MAPPER.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("serializing " + n, e); // an ObjectNode always serializes
    }
  }
}
