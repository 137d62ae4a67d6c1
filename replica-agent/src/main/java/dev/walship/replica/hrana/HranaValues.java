package dev.walship.replica.hrana;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Base64;

/**
 * Hrana {@code Value} in JSON (HRANA_3_SPEC.md, "Values"): {@code {"type":"null"}}, {@code
 * {"type":"integer","value":"<decimal string>"}}, {@code {"type":"float","value":<number>}},
 * {@code {"type":"text","value":"..."}}, {@code {"type":"blob","base64":"<unpadded>"}}.
 */
final class HranaValues {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final Base64.Encoder BASE64 = Base64.getEncoder().withoutPadding();

  private HranaValues() {}

  static ObjectNode nullValue() {
    return JSON.objectNode().put("type", "null");
  }

  static ObjectNode integer(long v) {
    return JSON.objectNode().put("type", "integer").put("value", Long.toString(v));
  }

  static ObjectNode real(double v) {
    return JSON.objectNode().put("type", "float").put("value", v);
  }

  static ObjectNode text(String v) {
    return JSON.objectNode().put("type", "text").put("value", v);
  }

  static ObjectNode blob(byte[] v) {
    return JSON.objectNode().put("type", "blob").put("base64", BASE64.encodeToString(v));
  }

  /**
   * Binds one Hrana value to parameter {@code index} (1-based).
   *
   * @throws HranaException code {@code HRANA_PROTO_ERROR} for a malformed value
   */
  static void bind(PreparedStatement ps, int index, JsonNode value) throws SQLException {
    if (value == null || !value.isObject()) {
      throw new HranaException("HRANA_PROTO_ERROR", "argument " + index + " is not a Hrana value");
    }
    String type = value.path("type").asText("");
    switch (type) {
      case "null" -> ps.setNull(index, Types.NULL);
      case "integer" -> {
        JsonNode v = value.get("value");
        try {
          ps.setLong(index, v.isNumber() ? v.longValue() : Long.parseLong(v.asText()));
        } catch (NumberFormatException | NullPointerException e) {
          throw new HranaException(
              "HRANA_PROTO_ERROR", "argument " + index + ": integer value is not a 64-bit integer");
        }
      }
      case "float" -> {
        JsonNode v = value.get("value");
        if (v == null || !(v.isNumber() || v.isTextual())) {
          throw new HranaException("HRANA_PROTO_ERROR", "argument " + index + ": float has no value");
        }
        ps.setDouble(index, v.isNumber() ? v.doubleValue() : Double.parseDouble(v.asText()));
      }
      case "text" -> ps.setString(index, value.path("value").asText());
      case "blob" -> {
        try {
          ps.setBytes(index, Base64.getDecoder().decode(value.path("base64").asText("")));
        } catch (IllegalArgumentException e) {
          throw new HranaException(
              "HRANA_PROTO_ERROR", "argument " + index + ": blob is not valid base64");
        }
      }
      default -> throw new HranaException(
          "HRANA_PROTO_ERROR", "argument " + index + ": unknown value type '" + type + "'");
    }
  }
}
