package dev.walship.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The lineage manifest {@code {db}/lineage.json} (team decision 6):
 *
 * <pre>
 * {"format_version":1,"db":"name","lineage_id":"uuid","page_size":4096,"created_ms":..,
 *  "parent":null | {"db":"orig","lineage_id":"..","txid":N,"checksum":"<16 hex>"}}
 * </pre>
 *
 * @param db database name (the key prefix)
 * @param lineageId unique id of this lineage
 * @param pageSize bytes per page (0 if not known yet)
 * @param createdMs creation time, ms since the epoch
 * @param parent the branch point, or null for a root lineage
 */
public record Lineage(String db, String lineageId, int pageSize, long createdMs, Parent parent) {

  /**
   * Where a branch starts: its own segments begin at {@code txid + 1} with checksumBefore equal to
   * {@code checksum}.
   *
   * @param db parent database name
   * @param lineageId parent lineage id
   * @param txid last parent TXID the branch includes
   * @param checksum parent database checksum at {@code txid}
   */
  public record Parent(String db, String lineageId, long txid, long checksum) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Parses a manifest; {@code source} names it in errors. */
  public static Lineage parse(byte[] json, String source) {
    try {
      JsonNode n = JSON.readTree(json);
      if (n == null || !n.isObject() || !n.path("db").isTextual() || !n.path("lineage_id").isTextual()) {
        throw new IllegalArgumentException(source + ": not a lineage manifest");
      }
      Parent parent = null;
      JsonNode p = n.path("parent");
      if (p.isObject()) {
        parent = new Parent(
            p.path("db").asText(),
            p.path("lineage_id").asText(),
            p.path("txid").asLong(),
            Long.parseUnsignedLong(p.path("checksum").asText(), 16));
      }
      return new Lineage(
          n.path("db").asText(),
          n.path("lineage_id").asText(),
          n.path("page_size").asInt(),
          n.path("created_ms").asLong(),
          parent);
    } catch (IOException | NumberFormatException e) {
      throw new IllegalArgumentException(source + ": cannot parse lineage manifest: " + e.getMessage(), e);
    }
  }

  /** The manifest's JSON bytes. */
  public byte[] toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put("format_version", 1);
    n.put("db", db);
    n.put("lineage_id", lineageId);
    n.put("page_size", pageSize);
    n.put("created_ms", createdMs);
    if (parent == null) {
      n.putNull("parent");
    } else {
      ObjectNode p = n.putObject("parent");
      p.put("db", parent.db());
      p.put("lineage_id", parent.lineageId());
      p.put("txid", parent.txid());
      p.put("checksum", ChecksumChainException.hex(parent.checksum()));
    }
    try {
      return JSON.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
