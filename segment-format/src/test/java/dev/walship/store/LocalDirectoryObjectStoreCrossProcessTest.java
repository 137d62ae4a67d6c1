package dev.walship.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two separate JVMs on one local directory store: create-only writes have exactly one winner per
 * key and If-Match increments lose no update (hard links and the lock file work across processes,
 * not just threads).
 */
class LocalDirectoryObjectStoreCrossProcessTest {
  @TempDir Path dir;

  @Test
  void twoProcessesRaceWithExactlyOneWinnerAndNoLostUpdate() throws Exception {
    int keys = 40;
    int increments = 15;
    try (ObjectStore store = ObjectStores.open(dir.toUri().toString())) {
      store.put("counter", "0".getBytes(StandardCharsets.UTF_8));
    }
    List<Process> children = new ArrayList<>();
    List<BufferedReader> outputs = new ArrayList<>();
    try {
      for (String writer : List.of("a", "b")) {
        Process p =
            new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    LocalStoreChildProcess.class.getName(),
                    dir.toString(),
                    writer,
                    Integer.toString(keys),
                    Integer.toString(increments))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        children.add(p);
        BufferedReader out =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        outputs.add(out);
      }
      for (BufferedReader out : outputs) {
        assertEquals("ready", out.readLine());
      }
      for (Process p : children) { // start both at once
        OutputStream in = p.getOutputStream();
        in.write("go\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
      }
      Map<String, String> winners = new HashMap<>();
      for (int i = 0; i < outputs.size(); i++) {
        String writer = i == 0 ? "a" : "b";
        for (String line; (line = outputs.get(i).readLine()) != null; ) {
          if (line.startsWith("won ")) {
            String previous = winners.put(line.substring(4), writer);
            assertEquals(null, previous, "two winners for race/" + line.substring(4));
          }
        }
      }
      for (Process p : children) {
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child finished");
        assertEquals(0, p.exitValue());
      }
      assertEquals(keys, winners.size(), "every key has exactly one winner");
      try (ObjectStore store = ObjectStores.open(dir.toUri().toString())) {
        for (Map.Entry<String, String> win : winners.entrySet()) {
          assertEquals(
              win.getValue() + "-" + win.getKey(),
              new String(
                  store.get("race/" + win.getKey()).orElseThrow().data(), StandardCharsets.UTF_8));
        }
        assertEquals(
            Integer.toString(2 * increments),
            new String(store.get("counter").orElseThrow().data(), StandardCharsets.UTF_8));
      }
    } finally {
      children.forEach(Process::destroyForcibly);
    }
  }
}
