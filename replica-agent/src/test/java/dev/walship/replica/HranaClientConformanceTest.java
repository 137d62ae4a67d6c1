package dev.walship.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.replica.hrana.HranaLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code @libsql/client} (pinned in src/test/node/package-lock.json) against the read
 * server over a Chinook copy: positional and named args, every value type (64-bit integers beyond
 * 2^53, blobs), batch in read mode, read transactions, refused writes. Runs {@code npm ci} itself
 * when node_modules is missing; skipped (with the reason) only when {@code node} is not installed.
 */
class HranaClientConformanceTest {
  private static final Path NODE_DIR = Paths.get("src", "test", "node");

  @Test
  void realLibsqlClientPassesEveryCheck(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(
        onPath("node"), "node is not installed: the @libsql/client conformance run needs nodejs");
    ensureNodeModules();
    Path file = ServerFixture.chinookCopy(dir);
    try (ServerFixture f =
        new ServerFixture(Map.of("chinook", ServerFixture.served("chinook", file, 42)), "chinook",
            HranaLimits.defaults())) {
      Result root = node("conformance.mjs", f.baseUrl());
      assertEquals(0, root.exit, root.output);
      assertTrue(root.output.contains("ALL OK"), root.output);
      Result routed = node("conformance.mjs", f.baseUrl() + "/db/chinook/");
      assertEquals(0, routed.exit, routed.output);
      assertEquals(0, f.streams.size(), "every stream the client opened was closed");
    }
  }

  private record Result(int exit, String output) {}

  private static Result node(String script, String url) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("node", script, url)
            .directory(NODE_DIR.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(-1, "node timed out\n" + out);
    }
    return new Result(p.exitValue(), out);
  }

  private static void ensureNodeModules() throws IOException, InterruptedException {
    if (Files.isDirectory(NODE_DIR.resolve("node_modules/@libsql/client"))) {
      return;
    }
    Assumptions.assumeTrue(onPath("npm"), "npm is not installed: cannot install @libsql/client");
    Process p =
        new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
            .directory(NODE_DIR.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "npm ci timed out");
    assertEquals(0, p.exitValue(), "npm ci failed:\n" + out);
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Paths.get(dir, command))) {
        return true;
      }
    }
    return false;
  }
}
