package dev.walship.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.walship.replica.hrana.HranaLimits;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wire format of the read server, checked on raw JSON (HRANA_3_SPEC.md): value encodings,
 * batches and their conditions, stored SQL, describe, autocommit state, batons, refusals, limits,
 * routing and the JSON error contract.
 */
class HranaProtocolTest {
  @TempDir Path tmp;
  private ServerFixture f;

  @BeforeEach
  void start() throws Exception {
    Path chinook = ServerFixture.chinookCopy(tmp);
    f = new ServerFixture(
        Map.of("chinook", ServerFixture.served("chinook", chinook, 9)),
        "chinook",
        new HranaLimits(Duration.ofMillis(300), 64 * 1024, Duration.ofSeconds(10), 4));
  }

  @AfterEach
  void stop() {
    f.close();
  }

  private JsonNode pipeline(String path, String body) throws Exception {
    HttpResponse<String> r = f.post(path, body);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("9", r.headers().firstValue("Walship-Txid").orElseThrow());
    return HranaJson.JSON.readTree(r.body());
  }

  private static String exec(String sql) {
    return "{\"type\":\"execute\",\"stmt\":{\"sql\":" + HranaJson.JSON.valueToTree(sql) + "}}";
  }

  @Test
  void valuesAreEncodedExactlyAsTheSpecSays() throws Exception {
    JsonNode r = pipeline("/v2/pipeline",
        "{\"baton\":null,\"requests\":[" + exec("SELECT i, f, t, b, n FROM walship_values ORDER BY rowid") + "]}");
    JsonNode result = r.path("results").path(0).path("response").path("result");
    JsonNode row = result.path("rows").path(0);
    assertEquals("{\"type\":\"integer\",\"value\":\"9007199254740993\"}", row.path(0).toString());
    assertEquals("{\"type\":\"float\",\"value\":3.25}", row.path(1).toString());
    assertEquals("text", row.path(2).path("type").asText());
    assertEquals("{\"type\":\"blob\",\"base64\":\"AAEC/f7/\"}", row.path(3).toString());
    assertEquals("{\"type\":\"null\"}", row.path(4).toString());
    assertEquals("{\"type\":\"blob\",\"base64\":\"\"}", result.path("rows").path(1).path(3).toString());
    assertEquals("-9223372036854775808", result.path("rows").path(1).path(0).path("value").asText());
    assertEquals("{\"name\":\"i\",\"decltype\":\"INTEGER\"}", result.path("cols").path(0).toString());
    assertEquals(0, result.path("affected_row_count").asInt());
    assertTrue(result.path("last_insert_rowid").isNull());
    assertEquals("9", result.path("replication_index").asText());
    assertTrue(r.path("baton").asText().startsWith("a."), "an autocommit stream holds no server state");
    assertTrue(r.path("base_url").isNull());
  }

  @Test
  void argumentsBindByPositionAndByName() throws Exception {
    JsonNode r = pipeline("/v2/pipeline", """
        {"baton":null,"requests":[
          {"type":"execute","stmt":{"sql":"SELECT ?, ?2, typeof(?3), ?4","args":[
            {"type":"integer","value":"-5"},{"type":"float","value":0.5},{"type":"blob","base64":"AAE"},{"type":"null"}]}},
          {"type":"execute","stmt":{"sql":"SELECT :a || @b || $c, :a","named_args":[
            {"name":":a","value":{"type":"text","value":"x"}},{"name":"b","value":{"type":"text","value":"y"}},
            {"name":"$c","value":{"type":"text","value":"z"}}]}},
          {"type":"execute","stmt":{"sql":"SELECT :nope","named_args":[{"name":"other","value":{"type":"null"}}]}},
          {"type":"close"}]}""");
    JsonNode row = r.path("results").path(0).path("response").path("result").path("rows").path(0);
    assertEquals("-5", row.path(0).path("value").asText());
    assertEquals(0.5, row.path(1).path("value").asDouble());
    assertEquals("blob", row.path(2).path("value").asText());
    assertEquals("null", row.path(3).path("type").asText());
    JsonNode named = r.path("results").path(1).path("response").path("result").path("rows").path(0);
    assertEquals("xyz", named.path(0).path("value").asText());
    assertEquals("x", named.path(1).path("value").asText());
    assertEquals("ARGS_INVALID", r.path("results").path(2).path("error").path("code").asText());
    assertTrue(r.path("baton").isNull(), "close ends the stream");
  }

  @Test
  void batchConditionsDecideWhichStepsRun() throws Exception {
    JsonNode r = pipeline("/v3/pipeline", """
        {"baton":null,"requests":[{"type":"batch","batch":{"steps":[
          {"stmt":{"sql":"SELECT 1"}},
          {"stmt":{"sql":"SELECT * FROM missing_table"}},
          {"condition":{"type":"ok","step":0},"stmt":{"sql":"SELECT 2"}},
          {"condition":{"type":"ok","step":1},"stmt":{"sql":"SELECT 3"}},
          {"condition":{"type":"error","step":1},"stmt":{"sql":"SELECT 4"}},
          {"condition":{"type":"not","cond":{"type":"error","step":0}},"stmt":{"sql":"SELECT 5"}},
          {"condition":{"type":"and","conds":[{"type":"ok","step":0},{"type":"ok","step":1}]},"stmt":{"sql":"SELECT 6"}},
          {"condition":{"type":"or","conds":[{"type":"ok","step":3},{"type":"ok","step":2}]},"stmt":{"sql":"SELECT 7"}},
          {"condition":{"type":"is_autocommit"},"stmt":{"sql":"SELECT 8"}},
          {"condition":{"type":"ok","step":3},"stmt":{"sql":"SELECT 9"}}
        ]}}]}""");
    JsonNode result = r.path("results").path(0).path("response").path("result");
    boolean[] ran = {true, false, true, false, true, true, false, true, true, false};
    for (int i = 0; i < ran.length; i++) {
      assertEquals(ran[i], !result.path("step_results").path(i).isNull(), "step " + i + ": " + result);
    }
    assertEquals("SQLITE_ERROR", result.path("step_errors").path(1).path("code").asText());
    assertTrue(result.path("step_errors").path(3).isNull(), "a skipped step has neither result nor error");
  }

  @Test
  void storedSqlDescribeSequenceAndAutocommitState() throws Exception {
    JsonNode r = pipeline("/v2/pipeline", """
        {"baton":null,"requests":[
          {"type":"store_sql","sql_id":7,"sql":"SELECT Name FROM Artist WHERE ArtistId = ?"},
          {"type":"execute","stmt":{"sql_id":7,"args":[{"type":"integer","value":"1"}]}},
          {"type":"describe","sql":"SELECT ArtistId AS id, Name FROM Artist WHERE ArtistId = :id AND Name = ?"},
          {"type":"describe","sql":"DELETE FROM Artist"},
          {"type":"sequence","sql":"SELECT 1; SELECT 2;"},
          {"type":"get_autocommit"},
          {"type":"close_sql","sql_id":7},
          {"type":"execute","stmt":{"sql_id":7}}
        ]}""");
    JsonNode res = r.path("results");
    assertEquals("store_sql", res.path(0).path("response").path("type").asText());
    assertEquals("AC/DC", res.path(1).path("response").path("result").path("rows").path(0).path(0).path("value").asText());
    JsonNode d = res.path(2).path("response").path("result");
    assertEquals(":id", d.path("params").path(0).path("name").asText());
    assertTrue(d.path("params").path(1).path("name").isNull());
    assertEquals("id", d.path("cols").path(0).path("name").asText());
    assertEquals("NVARCHAR(120)", d.path("cols").path(1).path("decltype").asText());
    assertTrue(d.path("is_readonly").asBoolean());
    assertFalse(d.path("is_explain").asBoolean());
    assertFalse(res.path(3).path("response").path("result").path("is_readonly").asBoolean());
    assertEquals("sequence", res.path(4).path("response").path("type").asText());
    assertTrue(res.path(5).path("response").path("is_autocommit").asBoolean());
    assertEquals("SQL_NOT_FOUND", res.path(7).path("error").path("code").asText());
  }

  @Test
  void transactionsKeepTheirStreamAcrossRequestsAndExpiredBatonsAreJsonErrors() throws Exception {
    JsonNode first = pipeline("/v2/pipeline",
        "{\"baton\":null,\"requests\":[" + exec("BEGIN TRANSACTION READONLY") + ",{\"type\":\"get_autocommit\"}]}");
    String baton = first.path("baton").asText();
    assertTrue(baton.startsWith("s."), first.toString());
    assertFalse(first.path("results").path(1).path("response").path("is_autocommit").asBoolean());
    JsonNode second = pipeline("/v2/pipeline",
        "{\"baton\":\"" + baton + "\",\"requests\":[" + exec("SELECT count(*) FROM Genre") + "," + exec("COMMIT") + ",{\"type\":\"get_autocommit\"}]}");
    assertEquals("25", second.path("results").path(0).path("response").path("result").path("rows").path(0).path(0).path("value").asText());
    assertTrue(second.path("results").path(2).path("response").path("is_autocommit").asBoolean());
    assertFalse(baton.equals(second.path("baton").asText()), "a baton is never reused");

    HttpResponse<String> reused = f.post("/v2/pipeline", "{\"baton\":\"" + baton + "\",\"requests\":[" + exec("SELECT 1") + "]}");
    assertEquals(400, reused.statusCode());
    assertEquals("application/json", reused.headers().firstValue("Content-Type").orElseThrow());
    assertEquals("STREAM_EXPIRED", HranaJson.JSON.readTree(reused.body()).path("code").asText());
  }

  @Test
  void writesAttachExtensionsAndWritablePragmasAreRefusedBeforeExecution() throws Exception {
    String[][] refused = {
      {"INSERT INTO Artist (Name) VALUES ('x')", "SQLITE_READONLY"},
      {"WITH x AS (SELECT 1) DELETE FROM Artist", "SQLITE_READONLY"},
      {"REPLACE INTO Artist (ArtistId, Name) VALUES (1, 'x')", "SQLITE_READONLY"},
      {"CREATE TABLE t (x)", "SQLITE_READONLY"},
      {"DROP TABLE Artist", "SQLITE_READONLY"},
      {"VACUUM INTO '/tmp/walship-stolen.db'", "SQLITE_READONLY"},
      {"PRAGMA journal_mode = WAL", "SQLITE_READONLY"},
      {"PRAGMA writable_schema", "SQLITE_READONLY"},
      {"ATTACH DATABASE ':memory:' AS m", "SQLITE_AUTH"},
      {"SELECT load_extension('/tmp/evil.so')", "SQLITE_AUTH"},
      {"BEGIN IMMEDIATE", "SQLITE_READONLY"},
    };
    for (String[] c : refused) {
      JsonNode r = pipeline("/v2/pipeline", "{\"baton\":null,\"requests\":[" + exec(c[0]) + "]}");
      assertEquals(c[1], r.path("results").path(0).path("error").path("code").asText(), c[0] + " -> " + r);
    }
    JsonNode ok = pipeline("/v2/pipeline", "{\"baton\":null,\"requests\":["
        + exec("WITH x AS (SELECT replace('ab', 'a', 'c') AS v) SELECT v FROM x") + ","
        + exec("PRAGMA table_info(Artist)") + "," + exec("SELECT count(*) FROM Artist") + "]}");
    assertEquals("cb", ok.path("results").path(0).path("response").path("result").path("rows").path(0).path(0).path("value").asText());
    assertEquals("ok", ok.path("results").path(1).path("type").asText());
    assertEquals("275", ok.path("results").path(2).path("response").path("result").path("rows").path(0).path(0).path("value").asText());
    assertFalse(java.nio.file.Files.exists(Path.of("/tmp/walship-stolen.db")));
  }

  @Test
  void queryTimeAndResponseSizeAreLimited() throws Exception {
    JsonNode r = pipeline("/v2/pipeline", "{\"baton\":null,\"requests\":["
        + exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c") + ","
        + exec("SELECT * FROM Track") + "," + exec("SELECT 42") + "]}");
    assertEquals("QUERY_TIMEOUT", r.path("results").path(0).path("error").path("code").asText(), r.toString());
    assertTrue(r.path("results").path(0).path("error").path("message").asText().contains("300 ms"));
    assertEquals("RESPONSE_TOO_LARGE", r.path("results").path(1).path("error").path("code").asText());
    assertEquals("ok", r.path("results").path(2).path("type").asText(), "the pipeline goes on after a failed request");
  }

  @Test
  void routingHealthAndJsonErrors() throws Exception {
    assertEquals(200, f.get("/v2").statusCode());
    assertEquals(200, f.get("/v3").statusCode());
    assertEquals(200, f.get("/db/chinook/v3").statusCode());
    assertEquals(200, f.get("/health").statusCode());
    JsonNode routed = pipeline("/db/chinook/v2/pipeline", "{\"baton\":null,\"requests\":[" + exec("SELECT 1") + "]}");
    assertEquals("ok", routed.path("results").path(0).path("type").asText());
    HttpResponse<String> missing = f.post("/db/nope/v2/pipeline", "{\"baton\":null,\"requests\":[]}");
    assertEquals(404, missing.statusCode());
    assertEquals("application/json", missing.headers().firstValue("Content-Type").orElseThrow());
    HttpResponse<String> garbage = f.post("/v2/pipeline", "not json");
    assertEquals(400, garbage.statusCode());
    assertEquals("application/json", garbage.headers().firstValue("Content-Type").orElseThrow());
    assertTrue(HranaJson.JSON.readTree(garbage.body()).path("message").isTextual());
    JsonNode unknown = pipeline("/v2/pipeline", "{\"baton\":null,\"requests\":[{\"type\":\"open_cursor\"}]}");
    assertEquals("error", unknown.path("results").path(0).path("type").asText());
    JsonNode status = HranaJson.JSON.readTree(f.get("/v1/status").body());
    assertEquals(9, status.path("databases").path(0).path("txid").asLong());
  }
}
