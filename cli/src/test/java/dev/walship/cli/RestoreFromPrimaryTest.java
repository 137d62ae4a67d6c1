package dev.walship.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.primary.DatabaseAgent;
import dev.walship.primary.DatabaseOptions;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restore and branch against segments the real primary agent writes: a separate sqlite3 process
 * commits marker rows to the app's database, the primary ships them to an in-process S3 server,
 * {@code walship restore} gives back exactly the prefix of markers at random TXIDs; a branch from
 * the middle, restored and shipped by a second primary with writes of its own, restores to its
 * own state while the parent restores unchanged; {@code walship verify} finds no problem.
 */
class RestoreFromPrimaryTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  @TempDir Path dir;

  /** The CLI opens s3:// URLs with the default credential chain: system properties here. */
  @BeforeAll
  static void credentials() {
    System.setProperty("aws.accessKeyId", InProcessS3.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", InProcessS3.SECRET_KEY);
  }

  @AfterAll
  static void clearCredentials() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }

  /** A sqlite3 process committing one marker row per statement. */
  static final class App implements AutoCloseable {
    final Process p;
    final Writer in;
    final BufferedReader out;
    int probe;

    App(Path db) throws IOException {
      p = new ProcessBuilder("sqlite3", "-batch", db.toString()).redirectErrorStream(true).start();
      in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
      out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      run(".timeout 10000");
    }

    void run(String sql) throws IOException {
      run(sql, List.of());
    }

    void run(String sql, List<String> expectedOutput) throws IOException {
      String tag = "ok-" + (++probe);
      in.write(sql + "\nSELECT '" + tag + "';\n");
      in.flush();
      List<String> lines = new ArrayList<>();
      for (String line; (line = out.readLine()) != null; ) {
        if (line.equals(tag)) {
          if (!lines.equals(expectedOutput)) {
            throw new IOException("sqlite3: " + lines);
          }
          return;
        }
        lines.add(line);
      }
      throw new IOException("sqlite3 exited: " + lines);
    }

    @Override
    public void close() throws IOException {
      in.write(".quit\n");
      in.flush();
      p.destroy();
    }
  }

  DatabaseAgent startPrimary(Path db, String name, ObjectStore store) {
    DatabaseOptions o = DatabaseOptions.of(db, S3.targetUrl("b"))
        .withName(name)
        .withSyncInterval(Duration.ZERO)
        .withSpoolDir(dir.resolve("spool-" + name));
    DatabaseAgent a = new DatabaseAgent(o, store, new SimpleMeterRegistry(), InstantSource.system());
    a.start();
    return a;
  }

  /** Commits markers {@code from..to}, one TXID each; returns the TXID of each marker. */
  static void commitMarkers(App app, DatabaseAgent agent, long from, long to) throws Exception {
    for (long k = from; k <= to; k++) {
      long before = agent.capturedTxid();
      app.run("INSERT INTO markers(seq) VALUES (" + k + ");");
      await().atMost(Duration.ofSeconds(10)).until(() -> agent.capturedTxid() > before);
      assertEquals(before + 1, agent.capturedTxid(), "one TXID per commit");
    }
    assertTrue(agent.awaitDurable(agent.capturedTxid(), 10_000), "durable");
  }

  static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  @Test
  void restoresAndBranchesWhatThePrimaryShipped() throws Exception {
    String url = S3.targetUrl("b");
    Path appDb = dir.resolve("app.db");
    long base;
    long last;
    try (ObjectStore store = S3.open("b")) {
      try (App app = new App(appDb)) {
        app.run("PRAGMA journal_mode=WAL;", List.of("wal"));
        app.run("CREATE TABLE markers(seq INTEGER PRIMARY KEY, pad BLOB DEFAULT (randomblob(700)));");
        DatabaseAgent agent = startPrimary(appDb, "app", store);
        try {
          base = agent.capturedTxid();
          commitMarkers(app, agent, 1, 60);
          last = agent.capturedTxid();
        } finally {
          agent.close();
        }
      }
      assertEquals(base + 60, last);

      Random r = new Random(5);
      for (int i = 0; i < 6; i++) {
        long t = base + r.nextInt(61);
        Path out = dir.resolve("app-" + t + ".db");
        RestoreCommandTest.Run run = RestoreCommandTest.run("restore", "--source", url, "--db", "app",
            "-o", out.toString(), "--txid", String.valueOf(t));
        assertEquals(0, run.exit(), run.err());
        assertEquals(range(1, t - base), RestoreCommandTest.markers(out), "markers at TXID " + t);
      }

      long branchAt = base + 30;
      RestoreCommandTest.Run run = RestoreCommandTest.run("branch", "--source", url, "--db", "app",
          "--to", "feature", "--txid", String.valueOf(branchAt));
      assertEquals(0, run.exit(), run.err());
      Path featureDb = dir.resolve("feature.db");
      run = RestoreCommandTest.run("restore", "--source", url, "--db", "feature", "-o",
          featureDb.toString(), "--journal-mode", "delete");
      assertEquals(0, run.exit(), run.err());
      assertEquals(range(1, 30), RestoreCommandTest.markers(featureDb));

      long featureLast;
      try (App app = new App(featureDb)) {
        DatabaseAgent agent = startPrimary(featureDb, "feature", store);
        try {
          // It continues the branch's lineage after the branch point: at TXID branchAt when the
          // restored file's checksum matches, or one past it with a resync snapshot when SQLite
          // rewrote unmasked header bytes (96-99, the writer's library version) on the way.
          long start = agent.capturedTxid();
          assertTrue(start == branchAt || start == branchAt + 1, "branch starts at " + start);
          commitMarkers(app, agent, 1001, 1010);
          featureLast = agent.capturedTxid();
        } finally {
          agent.close();
        }
      }
      List<Long> expected = new ArrayList<>(range(1, 30));
      expected.addAll(range(1001, 1010));
      Path featureOut = dir.resolve("feature-latest.db");
      run = RestoreCommandTest.run("restore", "--source", url, "--db", "feature", "-o", featureOut.toString());
      assertEquals(0, run.exit(), run.err());
      assertTrue(run.out().contains("TXID " + featureLast), run.out());
      assertEquals(expected, RestoreCommandTest.markers(featureOut));

      Path appOut = dir.resolve("app-latest.db");
      run = RestoreCommandTest.run("restore", "--source", url, "--db", "app", "-o", appOut.toString());
      assertEquals(0, run.exit(), run.err());
      assertEquals(range(1, 60), RestoreCommandTest.markers(appOut));

      run = RestoreCommandTest.run("verify", "--source", url, "--temp-dir", dir.toString());
      assertEquals(0, run.exit(), run.out() + run.err());
    }
  }
}
