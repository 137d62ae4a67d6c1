package dev.walship.store;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A separate process writing to a local directory store, for {@link
 * LocalDirectoryObjectStoreCrossProcessTest}. Args: directory, writer id, keys, increments. Prints
 * "ready", waits for a line on stdin, then races: create-only writes of {@code race/N} (prints "won
 * N" for each key it created), then If-Match increments of {@code counter}.
 */
public final class LocalStoreChildProcess {
  private LocalStoreChildProcess() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    String writer = args[1];
    int keys = Integer.parseInt(args[2]);
    int increments = Integer.parseInt(args[3]);
    try (ObjectStore store = ObjectStores.open(dir.toUri().toString())) {
      System.out.println("ready");
      System.out.flush();
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      for (int k = 0; k < keys; k++) {
        try {
          store.putIfAbsent("race/" + k, (writer + "-" + k).getBytes(StandardCharsets.UTF_8));
          System.out.println("won " + k);
        } catch (PreconditionFailedException lost) {
          // the other process holds this key
        }
      }
      for (int done = 0; done < increments; ) {
        StoredObject current = store.get("counter").orElseThrow();
        int value = Integer.parseInt(new String(current.data(), StandardCharsets.UTF_8));
        try {
          store.putIfMatch(
              "counter",
              Integer.toString(value + 1).getBytes(StandardCharsets.UTF_8),
              current.etag());
          done++;
        } catch (PreconditionFailedException conflict) {
          // re-read and try again
        }
      }
      System.out.println("done");
    }
  }
}
