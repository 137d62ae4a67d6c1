package dev.walship.replica;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** A bare Hrana-over-HTTP JSON client for tests: one statement per pipeline. */
final class HranaJson {
  static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final String pipelineUrl;

  HranaJson(String baseUrl) {
    this.pipelineUrl = baseUrl + "/v2/pipeline";
  }

  /** Result of one query: the Walship-Txid header, the HTTP status and the parsed body. */
  record Answer(int status, long txid, JsonNode body, String stalled) {
    JsonNode result() {
      return body.path("results").path(0).path("response").path("result");
    }

    JsonNode rows() {
      return result().path("rows");
    }

    /** Integer value at row r, column c. */
    long integer(int r, int c) {
      JsonNode v = rows().path(r).path(c).path("value");
      if (!v.isTextual()) {
        throw new AssertionError("no integer at row " + r + " column " + c + " in " + body);
      }
      return Long.parseLong(v.asText());
    }

    String errorCode() {
      JsonNode e = body.path("results").path(0).path("error");
      return e.isMissingNode() ? body.path("code").asText(null) : e.path("code").asText(null);
    }
  }

  Answer query(String sql, String... headers) throws Exception {
    ObjectNode req = JSON.createObjectNode();
    req.putNull("baton");
    ArrayNode requests = req.putArray("requests");
    requests.addObject().put("type", "execute").putObject("stmt").put("sql", sql);
    requests.addObject().put("type", "close");
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(pipelineUrl))
            .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(req)))
            .header("Content-Type", "application/json");
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    long txid =
        r.headers().firstValue(ReplicaHttpServer.TXID_HEADER).map(Long::parseLong).orElse(-1L);
    return new Answer(
        r.statusCode(),
        txid,
        JSON.readTree(r.body()),
        r.headers().firstValue(ReplicaHttpServer.STALLED_HEADER).orElse(null));
  }
}
