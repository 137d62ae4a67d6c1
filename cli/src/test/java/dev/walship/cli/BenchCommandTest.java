package dev.walship.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A very short {@code walship bench}: every figure is in the JSON, with its raw limit beside it. */
class BenchCommandTest {

  @Test
  void shortBenchReportsEveryFigureWithItsRawLimit(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("bench.json");
    StringWriter out = new StringWriter();
    CommandLine cl = Walship.commandLine();
    cl.setOut(new PrintWriter(out, true));
    int code = cl.execute("bench", "--duration", "2s", "--idle", "2s", "--databases", "3",
        "--out", json.toString());
    System.out.println(out);
    assertEquals(0, code, out.toString());
    JsonNode r = new ObjectMapper().readTree(json.toFile());
    JsonNode t = r.path("throughput");
    assertTrue(t.path("without_agent_commits_per_s").asDouble() > 0, r.toString());
    assertTrue(t.path("with_agent_commits_per_s").asDouble() > 0, r.toString());
    assertTrue(t.path("with_agent_run").path("txids_match_commits").asBoolean(), r.toString());
    assertTrue(t.path("with_agent_continuous_commits_per_s").asDouble() > 0, r.toString());
    assertTrue(t.path("with_agent_continuous_run").path("txids_match_commits").asBoolean(), r.toString());
    for (String k : List.of("max_rate", "fixed_rate")) {
      JsonNode l = r.path("lag").path(k);
      assertTrue(l.path("txids_match_commits").asBoolean(), k + ": " + l);
      assertEquals(l.path("commits").asLong(), l.path("commit_to_durable_ms").path("count").asLong(), k);
      assertEquals(l.path("commits").asLong(), l.path("commit_to_visible_ms").path("count").asLong(), k);
      assertTrue(l.path("commit_to_visible_ms").path("p50").asDouble()
          >= 0, k);
    }
    assertTrue(r.path("lag").path("raw_s3_put_16kib_ms").path("p50").asDouble() > 0);
    JsonNode d = r.path("requests").path("defaults");
    assertEquals(0.0, d.path("idle_primary_per_minute").asDouble(), "an idle primary makes no request");
    assertTrue(d.has("idle_replica_per_minute") && d.has("busy_primary_per_hour"), d.toString());
    assertTrue(r.path("requests").path("max_rate").path("primary_per_1000_commits").asDouble() > 0);
    JsonNode rs = r.path("restore");
    assertTrue(rs.path("restore_mib_per_s").asDouble() > 0 && rs.path("raw_get_mib_per_s").asDouble() > 0, rs.toString());
    JsonNode rd = r.path("reads");
    assertTrue(rd.path("hrana_reads_per_s").asDouble() > 0 && rd.path("jdbc_reads_per_s").asDouble() > 0, rd.toString());
    JsonNode m = r.path("rss");
    assertTrue(m.path("agent_1_db_mib").asDouble() > 10 && m.path("agent_3_db_mib").asDouble() > 10, m.toString());
    assertTrue(out.toString().contains("raw limit (same run)"), out.toString());
  }
}
