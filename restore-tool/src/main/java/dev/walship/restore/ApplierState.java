package dev.walship.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The sidecar state of a {@link PageApplier} database, kept by {@link StateFile} in {@code
 * NAME.walship.state} beside the file (format 2: two checksummed slots holding this JSON; format
 * 1 was this JSON alone in {@code NAME.walship.json}, replaced by rename on every write).
 *
 * <pre>
 * {"format_version":2,"lineage_id":"..","txid":42,"checksum":"<16 hex>","page_size":4096,
 *  "pending":{"keys":["db/L0/..seg"],"from_txid":41,"upto_txid":42,"checksum_after":"..",
 *             "snapshot":false} | null,
 *  "failure":null | "why"}
 * </pre>
 *
 * @param lineageId lineage the file follows (null until the first apply names one)
 * @param txid last TXID whose pages are durable in the file (0: empty)
 * @param checksum database checksum at {@code txid}
 * @param pageSize bytes per page (0: empty)
 * @param pending an apply that may have been interrupted, or null
 * @param failure why the database was marked failed, or null
 */
record ApplierState(
    String lineageId, long txid, long checksum, int pageSize, Intent pending, String failure) {

  /**
   * What an apply was about to do, written before the first page is touched.
   *
   * @param keys object keys of the segments, in apply order
   * @param fromTxid TXID of the file before the apply (page versions after it are applied)
   * @param uptoTxid TXID the apply stops at (inclusive)
   * @param checksumAfter expected database checksum at {@code uptoTxid}
   * @param snapshot whether the first segment is a snapshot (every version is taken from it)
   */
  record Intent(
      List<String> keys, long fromTxid, long uptoTxid, long checksumAfter, boolean snapshot) {}

  static final ApplierState EMPTY = new ApplierState(null, 0, 0, 0, null, null);
  private static final ObjectMapper JSON = new ObjectMapper();

  ApplierState withPending(Intent intent) {
    return new ApplierState(lineageId, txid, checksum, pageSize, intent, failure);
  }

  ApplierState withFailure(String why) {
    return new ApplierState(lineageId, txid, checksum, pageSize, pending, why);
  }

  /** The state file of {@code dbFile} ({@link StateFile#pathFor}). */
  static Path pathFor(Path dbFile) {
    return StateFile.pathFor(dbFile);
  }

  /** Decodes the JSON form ({@code source} names the file, for messages). */
  static ApplierState fromJson(byte[] json, Path source) {
    try {
      JsonNode n = JSON.readTree(json);
      // format_version 1 is the JSON file of session 1; inside a StateFile slot the same fields
      // are written with format_version 2.
      int version = n.path("format_version").asInt();
      if (version != 1 && version != StateFile.FORMAT) {
        throw new IllegalStateException(
            source + ": unsupported format_version " + n.path("format_version"));
      }
      Intent intent = null;
      JsonNode p = n.path("pending");
      if (p.isObject()) {
        List<String> keys = new ArrayList<>();
        p.path("keys").forEach(k -> keys.add(k.asText()));
        intent =
            new Intent(
                List.copyOf(keys),
                p.path("from_txid").asLong(),
                p.path("upto_txid").asLong(),
                Long.parseUnsignedLong(p.path("checksum_after").asText(), 16),
                p.path("snapshot").asBoolean());
      }
      return new ApplierState(
          n.path("lineage_id").isTextual() ? n.path("lineage_id").asText() : null,
          n.path("txid").asLong(),
          Long.parseUnsignedLong(n.path("checksum").asText("0"), 16),
          n.path("page_size").asInt(),
          intent,
          n.path("failure").isTextual() ? n.path("failure").asText() : null);
    } catch (IOException e) {
      throw new IllegalStateException(source + ": applier state is not valid JSON", e);
    }
  }

  /** The JSON form, UTF-8 ({@code format_version} {@value StateFile#FORMAT}). */
  byte[] toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put("format_version", StateFile.FORMAT);
    n.put("lineage_id", lineageId);
    n.put("txid", txid);
    n.put("checksum", ChecksumChainException.hex(checksum));
    n.put("page_size", pageSize);
    if (pending == null) {
      n.putNull("pending");
    } else {
      ObjectNode p = n.putObject("pending");
      ArrayNode keys = p.putArray("keys");
      pending.keys().forEach(keys::add);
      p.put("from_txid", pending.fromTxid());
      p.put("upto_txid", pending.uptoTxid());
      p.put("checksum_after", ChecksumChainException.hex(pending.checksumAfter()));
      p.put("snapshot", pending.snapshot());
    }
    n.put("failure", failure);
    try {
      return JSON.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode applier state", e);
    }
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Some file systems refuse to open directories for fsync; the rename is still atomic.
      if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("win")) {
        throw e;
      }
    }
  }
}
