package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.store.testing.InProcessS3;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent runs as its own process and is SIGKILLed at random points while the app writes, then
 * restarted: no commit is lost, and no snapshot is taken beyond the initial one (the app's WAL
 * still holds everything the bucket lacks, so every restart resumes by checksum match).
 */
class AgentKillTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  @TempDir Path dir;
  Harness h;

  @BeforeEach
  void setUp() {
    h = new Harness(S3, dir);
  }

  @AfterEach
  void tearDown() {
    h.close();
  }

  /** The agents' output, kept for post-mortems. */
  private static final Path LOG = Path.of("target", "agent-kill-test.log");

  private Process startAgent(Path db) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(AgentMain.class.getName());
    cmd.add(db.toString());
    cmd.add(S3.targetUrl(h.prefix));
    cmd.add(dir.resolve("spool").toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("AWS_ACCESS_KEY_ID", InProcessS3.ACCESS_KEY);
    pb.environment().put("AWS_SECRET_ACCESS_KEY", InProcessS3.SECRET_KEY);
    return pb.start();
  }

  /** Copies the agent's output to {@link #LOG}; the latch opens when it printed "started". */
  private static CountDownLatch watch(Process p) {
    CountDownLatch started = new CountDownLatch(1);
    Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
        String line;
        while ((line = r.readLine()) != null) {
          Files.writeString(LOG, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
          if (line.equals("started")) {
            started.countDown();
          }
        }
      } catch (IOException e) {
        // process gone
      }
    });
    return started;
  }

  @Test
  void sigkilledAgentRestartsWithoutLosingCommitsOrSnapshotting() throws Exception {
    Path db = dir.resolve("app.db");
    Random random = new Random(42);
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicReference<Throwable> appError = new AtomicReference<>();
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql PRAGMA wal_autocheckpoint=100000"); // see the class comment
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      Thread writer =
          Thread.ofPlatform().start(() -> {
            try {
              while (writing.get()) {
                app.run("insert 2 200");
                Thread.sleep(10); // pacing the load (~150 commits/s), not waiting for a condition
              }
            } catch (Throwable t) {
              appError.set(t);
            }
          });
      for (int round = 0; round < 5; round++) {
        Process agent = startAgent(db);
        CountDownLatch started = watch(agent);
        // kill at a random point: in round 2 during start-up (resync, snapshot upload), else
        // while shipping (mid-upload, mid-checkpoint...)
        if (round != 2) {
          assertTrue(started.await(60, TimeUnit.SECONDS), "see target/agent-kill-test.log");
        }
        assertTrue(!agent.waitFor(50 + random.nextInt(1500), TimeUnit.MILLISECONDS),
            "agent exited on its own; see target/agent-kill-test.log");
        agent.destroyForcibly(); // SIGKILL
        agent.waitFor();
      }
      Process last = startAgent(db);
      assertTrue(watch(last).await(60, TimeUnit.SECONDS), "see target/agent-kill-test.log");
      writing.set(false);
      writer.join();
      assertEquals(null, appError.get());
      last.destroy(); // SIGTERM: drains, then exits
      assertTrue(last.waitFor(60, TimeUnit.SECONDS));
    }
    BucketReplay.Result r = h.assertBucketEqualsApp("app", db);
    assertEquals(1, r.snapshotsInL0(), "no snapshot beyond the initial one");
  }
}
