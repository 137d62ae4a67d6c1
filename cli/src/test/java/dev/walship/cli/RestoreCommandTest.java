package dev.walship.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.walship.format.RetentionHorizon;
import dev.walship.restore.ShipFixture;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The restore, branch, ls and verify commands end to end on a local-directory bucket. */
class RestoreCommandTest {
  @TempDir static Path dir;
  static String url;
  static long last;

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Walship.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @BeforeAll
  static void ship() throws Exception {
    Path bucket = Files.createDirectories(dir.resolve("bucket"));
    url = bucket.toUri().toString();
    try (ObjectStore store = ObjectStores.open(url)) {
      last = ShipFixture.ship(store, Files.createDirectories(dir.resolve("work")), "app", 40);
    }
  }

  static List<Long> markers(Path db) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
        rs.next();
        assertEquals("ok", rs.getString(1));
      }
      List<Long> m = new ArrayList<>();
      try (ResultSet rs = st.executeQuery("SELECT seq FROM markers ORDER BY seq")) {
        while (rs.next()) {
          m.add(rs.getLong(1));
        }
      }
      return m;
    }
  }

  static String journalMode(Path db) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void restoresLatestATxidAndATimestampAndRefusesToOverwrite() throws Exception {
    Path latest = dir.resolve("latest.db");
    Run r = run("restore", "--source", url, "-o", latest.toString(), "--progress", "log");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("TXID " + last), r.out());
    assertEquals(ShipFixture.markersAt(last), markers(latest));
    assertEquals("wal", journalMode(latest));

    Path at20 = dir.resolve("at20.db");
    r = run("restore", "--source", url, "--db", "app", "-o", at20.toString(), "--txid", "20",
        "--journal-mode", "delete");
    assertEquals(0, r.exit(), r.err());
    assertEquals(ShipFixture.markersAt(20), markers(at20));
    assertEquals("delete", journalMode(at20));

    Path ts = dir.resolve("ts.db");
    r = run("restore", "--source", url, "-o", ts.toString(), "--timestamp", "2026-11-21T10:00:33.900Z");
    assertEquals(0, r.exit(), r.err());
    assertEquals(ShipFixture.markersAt(33), markers(ts));

    r = run("restore", "--source", url, "-o", at20.toString(), "--txid", "30");
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("--force"), r.err());
    assertEquals(ShipFixture.markersAt(20), markers(at20));
    r = run("restore", "--source", url, "-o", at20.toString(), "--txid", "30", "--force");
    assertEquals(0, r.exit(), r.err());
    assertEquals(ShipFixture.markersAt(30), markers(at20));
  }

  @Test
  void aTargetOutsideHistoryNamesTheNearestPointAndWritesNothing() throws Exception {
    Path out = dir.resolve("outside.db");
    Run r = run("restore", "--source", url, "-o", out.toString(), "--txid", String.valueOf(last + 10));
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("nearest restore points: TXID " + last), r.err());
    assertFalse(Files.exists(out));
    r = run("restore", "--source", url, "-o", out.toString(), "--timestamp", "2026-11-21T09:00:00Z");
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("before the first commit"), r.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void branchesListsAndVerifiesAndReportsCorruptionByKey() throws Exception {
    Path copy = Files.createDirectories(dir.resolve("copy"));
    copyTree(dir.resolve("bucket"), copy);
    String copyUrl = copy.toUri().toString();
    Run r = run("branch", "--source", copyUrl, "--db", "app", "--to", "feature", "--txid", "20");
    assertEquals(0, r.exit(), r.err());
    assertEquals(1, run("branch", "--source", copyUrl, "--db", "app", "--to", "feature").exit());

    r = run("ls", "--source", copyUrl, "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode dbs = new ObjectMapper().readTree(r.out());
    assertEquals(2, dbs.size());
    assertEquals("app", dbs.get(0).path("db").asText());
    assertEquals("feature", dbs.get(0).path("branches").get(0).asText());
    assertEquals(last, dbs.get(0).path("last_txid").asLong());
    assertEquals("2026-11-21T10:00:01Z", dbs.get(0).path("first_commit").asText());
    assertEquals(20, dbs.get(1).path("parent").path("txid").asLong());
    r = run("ls", "--source", copyUrl);
    assertTrue(r.out().contains("app@20"), r.out());

    Path feature = dir.resolve("feature.db");
    r = run("restore", "--source", copyUrl, "--db", "feature", "-o", feature.toString());
    assertEquals(0, r.exit(), r.err());
    assertEquals(ShipFixture.markersAt(20), markers(feature));

    r = run("verify", "--source", copyUrl, "--temp-dir", dir.toString());
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("app: OK"), r.out());

    Path victim;
    try (Stream<Path> s = Files.list(copy.resolve("app").resolve("L0"))) {
      victim = s.sorted().toList().get(2);
    }
    byte[] b = Files.readAllBytes(victim);
    b[b.length / 2] ^= 0x40;
    Files.write(victim, b);
    String key = "app/L0/" + victim.getFileName();
    r = run("verify", "--source", copyUrl, "--db", "app", "--temp-dir", dir.toString());
    assertEquals(1, r.exit());
    assertTrue(r.out().contains(key), r.out());
    Path broken = dir.resolve("broken.db");
    long inVictim = Long.parseLong(victim.getFileName().toString().substring(0, 16), 16);
    r = run("restore", "--source", copyUrl, "-o", broken.toString(), "--db", "app", "--txid",
        String.valueOf(inVictim));
    assertEquals(1, r.exit());
    assertTrue(r.err().contains(key), r.err());
    assertFalse(Files.exists(broken));
  }

  @Test
  void lsShowsTheRetentionHorizonWithoutCountingItAndVerifyReportsACorruptOne() throws Exception {
    Path copy = Files.createDirectories(dir.resolve("horizon-copy"));
    copyTree(dir.resolve("bucket"), copy);
    String copyUrl = copy.toUri().toString();
    JsonNode before = new ObjectMapper().readTree(run("ls", "--source", copyUrl, "--json").out()).get(0);
    assertTrue(before.path("retention_horizon_txid").isNull(), before.toString());
    assertTrue(run("ls", "--source", copyUrl).out().lines().skip(1).findFirst().orElseThrow()
        .matches(".* - +" + before.path("objects").asInt() + " .*"), "no horizon: '-'");

    Path horizon = copy.resolve("app").resolve("retention.json");
    Files.write(horizon, RetentionHorizon.of("app", 12, 1_700_000_000_000L).toJson());
    Run r = run("ls", "--source", copyUrl, "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode after = new ObjectMapper().readTree(r.out()).get(0);
    assertEquals(12, after.path("retention_horizon_txid").asLong(), r.out());
    assertEquals(before.path("objects").asInt(), after.path("objects").asInt(), "not a data object");
    assertEquals(before.path("bytes").asLong(), after.path("bytes").asLong(), "not a data object");
    r = run("ls", "--source", copyUrl);
    assertTrue(r.out().lines().skip(1).findFirst().orElseThrow()
        .matches(".* 12 +" + before.path("objects").asInt() + " .*"), r.out());
    r = run("verify", "--source", copyUrl, "--db", "app", "--temp-dir", dir.toString());
    assertEquals(0, r.exit(), r.out() + r.err());

    Files.writeString(horizon, "{\"format_version\":1,\"db\":\"app\",\"txid\":");
    r = run("verify", "--source", copyUrl, "--db", "app", "--temp-dir", dir.toString());
    assertEquals(1, r.exit(), r.out());
    assertTrue(r.out().contains("app/retention.json"), r.out());
    r = run("ls", "--source", copyUrl, "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode corrupt = new ObjectMapper().readTree(r.out()).get(0);
    assertTrue(corrupt.path("retention_horizon_txid").isNull(), r.out());
    assertTrue(corrupt.path("retention_horizon_problem").asText().contains("app/retention.json"),
        r.out());
  }

  static void copyTree(Path from, Path to) throws Exception {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }
}
