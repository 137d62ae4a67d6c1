package dev.walship.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal Hrana-over-HTTP client sending exactly what {@code @libsql/client} sends for {@code
 * client.execute(sql)}: {@code POST <base>/v2/pipeline} with {@code {"baton":null,"requests":[
 * {"type":"execute","stmt":{"sql":...}},{"type":"close"}]}}. Thread-safe.
 */
final class HranaClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One answered query.
   *
   * @param txid the replica's {@code Walship-Txid} header (-1 if absent)
   * @param rows the rows, each value as its Hrana text ({@code "value"}; null for SQL NULL)
   */
  record Result(long txid, List<List<String>> rows) {}

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();

  /**
   * Runs one statement on the replica at {@code baseUrl}.
   *
   * @throws IOException on a transport error, a non-200 status or a Hrana error result (the
   *     message says which)
   */
  Result execute(String baseUrl, String sql) throws IOException, InterruptedException {
    ObjectNode body = JSON.createObjectNode();
    body.putNull("baton");
    var requests = body.putArray("requests");
    requests.addObject().put("type", "execute").putObject("stmt").put("sql", sql);
    requests.addObject().put("type", "close");
    HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl + "/v2/pipeline"))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
        .build();
    HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
    if (resp.statusCode() != 200) {
      throw new IOException("HTTP " + resp.statusCode() + " from " + baseUrl + ": "
          + new String(resp.body(), java.nio.charset.StandardCharsets.UTF_8));
    }
    JsonNode first = JSON.readTree(resp.body()).path("results").path(0);
    if (!"ok".equals(first.path("type").asText())) {
      throw new IOException("Hrana error from " + baseUrl + ": " + first.path("error"));
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode row : first.path("response").path("result").path("rows")) {
      List<String> values = new ArrayList<>();
      for (JsonNode v : row) {
        values.add(v.path("type").asText().equals("null") ? null : v.path("value").asText());
      }
      rows.add(values);
    }
    long txid = resp.headers().firstValueAsLong("Walship-Txid").orElse(-1);
    return new Result(txid, rows);
  }
}
