package dev.walship.store.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.PreconditionFailedException;
import dev.walship.store.StoredObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link ObjectStore} contract, one test per promise, run against every implementation: a test
 * class implements this interface and supplies {@link #newStore()} (composition through the
 * interface, no fixture inheritance). Each test opens its own empty store and closes it.
 */
public interface ObjectStoreContract {

  /** A new, empty store (a fresh directory or a fresh bucket prefix); the test closes it. */
  ObjectStore newStore();

  /**
   * Size of the file for the large-file test; the store from {@link #newStore()} must upload a file
   * this large in several parts (S3 stores under test use a small multipart threshold).
   */
  default long largeFileBytes() {
    return 11L << 20;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] randomBytes(long seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Read-after-write: PUT, GET, HEAD and LIST agree on bytes, size and one unquoted ETag. */
  @Test
  default void putThenGetReturnsTheBytesAndOneEtagEverywhere() {
    try (ObjectStore store = newStore()) {
      byte[] data = randomBytes(1, 4096);
      String etag = store.put("db/L0/0000000000000001.seg", data);

      StoredObject got = store.get("db/L0/0000000000000001.seg").orElseThrow();
      assertArrayEquals(data, got.data());
      assertEquals(etag, got.etag(), "GET ETag equals PUT ETag");
      ObjectInfo info = store.head("db/L0/0000000000000001.seg").orElseThrow();
      assertEquals(new ObjectInfo("db/L0/0000000000000001.seg", 4096, etag), info);
      assertEquals(List.of(info), store.list("db/", null, 10));
      assertFalse(etag.startsWith("\""), "ETags come without quotes: " + etag);
    }
  }

  /** A zero-byte object is an object, not an absence. */
  @Test
  default void emptyObjectRoundTrips() {
    try (ObjectStore store = newStore()) {
      store.put("empty", new byte[0]);
      assertArrayEquals(new byte[0], store.get("empty").orElseThrow().data());
      assertEquals(0, store.head("empty").orElseThrow().size());
      assertArrayEquals(new byte[0], store.getRange("empty", 0, 10).orElseThrow());
    }
  }

  /** A plain PUT replaces the object whole and changes its ETag. */
  @Test
  default void overwriteReplacesTheContentAndTheEtag() {
    try (ObjectStore store = newStore()) {
      String first = store.put("k", utf8("one"));
      String second = store.put("k", utf8("two, longer"));
      assertNotEquals(first, second);
      StoredObject got = store.get("k").orElseThrow();
      assertEquals("two, longer", new String(got.data(), StandardCharsets.UTF_8));
      assertEquals(second, got.etag());
      assertEquals(1, store.list("", null, 10).size());
    }
  }

  /**
   * A missing key is an empty answer, never an exception; getToFile leaves the destination alone.
   */
  @Test
  default void missingKeyIsEmptyEverywhere(@TempDir Path dir) throws IOException {
    try (ObjectStore store = newStore()) {
      store.put("present", utf8("x"));
      assertEquals(Optional.empty(), store.get("absent"));
      assertTrue(store.getRange("absent", 0, 10).isEmpty());
      assertEquals(Optional.empty(), store.head("absent"));
      Path destination = dir.resolve("out");
      Files.writeString(destination, "untouched");
      assertFalse(store.getToFile("absent", destination));
      assertEquals("untouched", Files.readString(destination));
      assertEquals(List.of(), store.list("absent", null, 10));
    }
  }

  /**
   * Ranged GET returns exactly the slice, less past the end, and an empty array from the end on.
   */
  @Test
  default void rangedGetReturnsTheSliceAndLessPastTheEnd() {
    try (ObjectStore store = newStore()) {
      byte[] data = randomBytes(2, 1000);
      store.put("r", data);
      assertArrayEquals(slice(data, 0, 10), store.getRange("r", 0, 10).orElseThrow());
      assertArrayEquals(slice(data, 100, 250), store.getRange("r", 100, 250).orElseThrow());
      assertArrayEquals(
          slice(data, 990, 10),
          store.getRange("r", 990, 500).orElseThrow(),
          "a range running past the end returns what exists");
      assertArrayEquals(slice(data, 999, 1), store.getRange("r", 999, 1).orElseThrow());
      assertArrayEquals(
          new byte[0],
          store.getRange("r", 1000, 10).orElseThrow(),
          "a range starting at the end is empty, not absent");
      assertArrayEquals(new byte[0], store.getRange("r", 5000, 10).orElseThrow());
      assertArrayEquals(new byte[0], store.getRange("r", 5, 0).orElseThrow());
      assertThrows(IllegalArgumentException.class, () -> store.getRange("r", -1, 10));
    }
  }

  private static byte[] slice(byte[] data, int offset, int length) {
    byte[] out = new byte[length];
    System.arraycopy(data, offset, out, 0, length);
    return out;
  }

  /**
   * getToFile replaces the destination with exactly the object's bytes and leaves no temporary
   * file.
   */
  @Test
  default void getToFileReplacesTheDestination(@TempDir Path dir) throws IOException {
    try (ObjectStore store = newStore()) {
      byte[] data = randomBytes(3, 100_000);
      store.put("snapshots/0000000000000010.seg", data);
      Path destination = dir.resolve("nested/restore.seg");
      Files.createDirectories(destination.getParent());
      Files.writeString(destination, "old content that is longer than nothing");
      assertTrue(store.getToFile("snapshots/0000000000000010.seg", destination));
      assertArrayEquals(data, Files.readAllBytes(destination));
      try (var leftovers = Files.list(destination.getParent())) {
        assertEquals(List.of(destination), leftovers.toList(), "no temporary files left behind");
      }
    }
  }

  /**
   * Reads a whole object through {@link ObjectStore#getStream}, closing it; a body that breaks
   * mid-way throws IOException (never a silent short read) and, as the contract tells callers, is
   * read again from the start. Null if the object is absent.
   */
  private static byte[] readStream(ObjectStore store, String key) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 20; attempt++) {
      Optional<java.io.InputStream> opened = store.getStream(key);
      if (opened.isEmpty()) {
        return null;
      }
      try (java.io.InputStream in = opened.get()) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024 + 3];
        int n;
        while ((n = in.read(buffer, 0, buffer.length)) >= 0) {
          out.write(buffer, 0, n);
        }
        return out.toByteArray();
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  /** getStream streams exactly the object's bytes (an empty object too); absent keys are empty. */
  @Test
  default void getStreamReadsTheWholeObjectAndAbsentKeysAreEmpty() throws IOException {
    try (ObjectStore store = newStore()) {
      byte[] data = randomBytes(5, 300_001);
      store.put("L0/0000000000000001.seg", data);
      store.put("empty", new byte[0]);
      assertArrayEquals(data, readStream(store, "L0/0000000000000001.seg"));
      assertArrayEquals(new byte[0], readStream(store, "empty"));
      assertTrue(store.getStream("L0/0000000000000002.seg").isEmpty(), "absent key");
      assertTrue(store.getStream("L0").isEmpty(), "a prefix is not an object");
      store.delete("L0/0000000000000001.seg");
      assertTrue(store.getStream("L0/0000000000000001.seg").isEmpty(), "deleted key");
    }
  }

  /**
   * A large (multipart) object streams back byte for byte; a stream closed after a few bytes
   * leaves the store usable (the rest of the body is abandoned, not awaited).
   */
  @Test
  default void getStreamReadsLargeObjectsAndMayBeClosedEarly(@TempDir Path dir) throws IOException {
    try (ObjectStore store = newStore()) {
      Path source = dir.resolve("big.seg");
      int size = (int) largeFileBytes() + 54_321;
      byte[] data = randomBytes(6, size);
      Files.write(source, data);
      store.put("snapshots/0000000000000020.seg", source);
      assertArrayEquals(data, readStream(store, "snapshots/0000000000000020.seg"));
      for (int i = 0; i < 3; i++) {
        try (java.io.InputStream in = store.getStream("snapshots/0000000000000020.seg").orElseThrow()) {
          in.read(new byte[100]);
        } catch (IOException e) {
          // A flaky store may break this body early; closing it is what is being checked.
        }
      }
      assertArrayEquals(slice(data, 1000, 10), store.getRange("snapshots/0000000000000020.seg",
          1000, 10).orElseThrow());
      assertArrayEquals(data, readStream(store, "snapshots/0000000000000020.seg"));
    }
  }

  /**
   * Files above the multipart threshold upload in parts, round-trip byte for byte, and honour
   * create-only.
   */
  @Test
  default void largeFilesStreamInPartsAndRoundTrip(@TempDir Path dir) throws IOException {
    try (ObjectStore store = newStore()) {
      Path source = dir.resolve("big.seg");
      int size = (int) largeFileBytes() + 12_345;
      byte[] data = randomBytes(4, size);
      Files.write(source, data);

      String etag = store.put("big/one", source);
      assertEquals(size, store.head("big/one").orElseThrow().size());
      assertEquals(etag, store.head("big/one").orElseThrow().etag());
      Path back = dir.resolve("back.seg");
      assertTrue(store.getToFile("big/one", back));
      assertEquals(-1, Files.mismatch(source, back), "downloaded bytes equal the uploaded file");
      assertArrayEquals(
          slice(data, size - 100, 100), store.getRange("big/one", size - 100, 100).orElseThrow());

      store.putIfAbsent("big/two", source);
      assertThrows(PreconditionFailedException.class, () -> store.putIfAbsent("big/two", source));
      assertEquals(size, store.head("big/two").orElseThrow().size());
    }
  }

  /** put(Path) of a small file is one PUT; a missing source file fails and writes nothing. */
  @Test
  default void smallFilePutStreamsTheFile(@TempDir Path dir) throws IOException {
    try (ObjectStore store = newStore()) {
      Path source = dir.resolve("small");
      Files.writeString(source, "lineage");
      String etag = store.put("db/lineage.json", source);
      StoredObject got = store.get("db/lineage.json").orElseThrow();
      assertEquals("lineage", new String(got.data(), StandardCharsets.UTF_8));
      assertEquals(etag, got.etag());
      Path missing = dir.resolve("missing");
      assertThrows(RuntimeException.class, () -> store.put("db/other", missing));
      assertEquals(Optional.empty(), store.head("db/other"));
    }
  }

  /**
   * LIST is in key order, filters by plain prefix, starts strictly after start-after, and pages
   * without gaps or repeats.
   */
  @Test
  default void listHonoursPrefixStartAfterAndKeyOrder() {
    try (ObjectStore store = newStore()) {
      List<String> keys = new ArrayList<>();
      for (int txid = 1; txid <= 25; txid++) {
        keys.add(String.format("db/L0/%016x.seg", txid));
      }
      keys.add("db/lineage.json");
      keys.add("db/snapshots/0000000000000001.seg");
      keys.add("db2/L0/0000000000000001.seg");
      keys.add("dbx");
      for (String key : keys) {
        store.put(key, utf8(key));
      }

      List<String> l0 = keys.subList(0, 25);
      assertEquals(l0, keysOf(store.list("db/L0/", null, 1000)));
      assertEquals(
          l0.subList(10, 25),
          keysOf(store.list("db/L0/", l0.get(9), 1000)),
          "start-after is exclusive");
      assertEquals(List.of(), store.list("db/L0/", l0.get(24), 1000), "caught up: nothing new");
      assertEquals(l0.subList(0, 7), keysOf(store.list("db/L0/", null, 7)), "one page");
      assertEquals(l0, keysOf(store.listAll("db/L0/", null)));

      List<String> paged = new ArrayList<>();
      String after = null;
      for (List<ObjectInfo> page; !(page = store.list("db/", after, 4)).isEmpty(); ) {
        assertTrue(page.size() <= 4);
        page.forEach(info -> paged.add(info.key()));
        after = page.get(page.size() - 1).key();
      }
      assertEquals(keys.subList(0, 27), paged, "pagination visits every key once, in order");

      assertEquals(
          List.of("db/lineage.json", "db/snapshots/0000000000000001.seg"),
          keysOf(store.list("db/", "db/L0/0000000000000019.seg", 100)));
      assertEquals(
          List.of("db/L0/0000000000000001.seg", "db/L0/0000000000000002.seg"),
          keysOf(store.list("db/L0/000000000000000", null, 2)),
          "a prefix need not end with /");
      assertEquals(
          List.of("db2/L0/0000000000000001.seg", "dbx"), keysOf(store.list("db", "db/~", 100)));
      assertEquals(keys.size(), store.listAll("", null).size());
      ObjectInfo lineage = store.list("db/lineage", null, 1).get(0);
      assertEquals(utf8("db/lineage.json").length, lineage.size());
      assertEquals(store.head("db/lineage.json").orElseThrow().etag(), lineage.etag());
    }
  }

  private static List<String> keysOf(List<ObjectInfo> infos) {
    return infos.stream().map(ObjectInfo::key).toList();
  }

  /** DELETE removes one key and is idempotent. */
  @Test
  default void deleteRemovesAndToleratesAbsentKeys() {
    try (ObjectStore store = newStore()) {
      store.put("a/1", utf8("1"));
      store.put("a/2", utf8("2"));
      store.delete("a/1");
      store.delete("a/1");
      store.delete("never/existed");
      assertEquals(Optional.empty(), store.get("a/1"));
      assertEquals(List.of("a/2"), keysOf(store.listAll("", null)));
    }
  }

  /** deleteAll removes many keys across batches and ignores absent ones. */
  @Test
  default void deleteAllRemovesManyKeysInBatches() throws Exception {
    // 130 keys: S3 stores under test batch DeleteObjects by 50, so this takes three requests.
    try (ObjectStore store = newStore()) {
      List<String> keys =
          IntStream.range(0, 130).mapToObj(i -> String.format("d/%08x", i)).toList();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<String>> puts = new ArrayList<>();
        for (String key : keys) {
          puts.add(pool.submit(() -> store.put(key, utf8(key))));
        }
        for (Future<String> put : puts) {
          put.get(30, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdown();
      }
      store.put("keep", utf8("k"));
      List<String> doomed = new ArrayList<>(keys);
      doomed.add("d/absent");
      store.deleteAll(doomed);
      assertEquals(List.of("keep"), keysOf(store.listAll("", null)));
      store.deleteAll(List.of());
    }
  }

  /**
   * Create-only: the second writer gets a non-retryable PreconditionFailedException naming the key;
   * the first object stays.
   */
  @Test
  default void putIfAbsentCreatesOnceAndNeverReplaces() {
    try (ObjectStore store = newStore()) {
      String etag = store.putIfAbsent("db/lineage.json", utf8("first"));
      PreconditionFailedException lost =
          assertThrows(
              PreconditionFailedException.class,
              () -> store.putIfAbsent("db/lineage.json", utf8("second")));
      assertFalse(lost.retryable(), "a lost race is never retryable");
      assertTrue(lost.getMessage().contains("db/lineage.json"), lost.getMessage());
      StoredObject got = store.get("db/lineage.json").orElseThrow();
      assertEquals("first", new String(got.data(), StandardCharsets.UTF_8));
      assertEquals(etag, got.etag());
    }
  }

  /**
   * 50 keys x 8 racing create-only writers: exactly one winner per key, and the stored object is
   * the winner's.
   */
  @Test
  default void racingCreateOnlyWritersHaveExactlyOneWinnerPerKey() throws Exception {
    int keys = 50;
    int writers = 8;
    try (ObjectStore store = newStore()) {
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Map<String, String>>> results = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
          int writer = w;
          results.add(
              pool.submit(
                  () -> {
                    go.await();
                    Map<String, String> won = new HashMap<>();
                    for (int k = 0; k < keys; k++) {
                      String key = String.format("race/L0/%016x.seg", k + 1);
                      try {
                        store.putIfAbsent(key, utf8("writer-" + writer + "-key-" + k));
                        won.put(key, "writer-" + writer + "-key-" + k);
                      } catch (PreconditionFailedException expected) {
                        // another writer holds this key
                      }
                    }
                    return won;
                  }));
        }
        go.countDown();
        Map<String, String> winners = new HashMap<>();
        for (Future<Map<String, String>> result : results) {
          for (Map.Entry<String, String> win : result.get(60, TimeUnit.SECONDS).entrySet()) {
            String previous = winners.put(win.getKey(), win.getValue());
            assertEquals(null, previous, "two winners for " + win.getKey());
          }
        }
        assertEquals(keys, winners.size(), "every key has a winner");
        for (Map.Entry<String, String> win : winners.entrySet()) {
          assertEquals(
              win.getValue(),
              new String(store.get(win.getKey()).orElseThrow().data(), StandardCharsets.UTF_8),
              "the stored object is the winner's");
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /**
   * If-Match: succeeds at the current ETag (quoted or not), fails on a stale ETag or a missing key.
   */
  @Test
  default void putIfMatchReplacesOnlyAtTheExpectedEtag() {
    try (ObjectStore store = newStore()) {
      String v1 = store.putIfAbsent("db/lease.json", utf8("{\"holder\":\"a\",\"renewed_ms\":1}"));
      String v2 =
          store.putIfMatch("db/lease.json", utf8("{\"holder\":\"a\",\"renewed_ms\":2}"), v1);
      assertNotEquals(v1, v2);
      assertEquals(v2, store.head("db/lease.json").orElseThrow().etag());

      PreconditionFailedException stale =
          assertThrows(
              PreconditionFailedException.class,
              () ->
                  store.putIfMatch(
                      "db/lease.json", utf8("{\"holder\":\"b\",\"renewed_ms\":3}"), v1));
      assertFalse(stale.retryable());
      assertEquals(
          "{\"holder\":\"a\",\"renewed_ms\":2}",
          new String(store.get("db/lease.json").orElseThrow().data(), StandardCharsets.UTF_8));

      String quoted =
          store.putIfMatch(
              "db/lease.json", utf8("{\"holder\":\"a\",\"renewed_ms\":4}"), "\"" + v2 + "\"");
      assertEquals(
          quoted, store.get("db/lease.json").orElseThrow().etag(), "quoted ETags are accepted");

      assertThrows(
          PreconditionFailedException.class,
          () -> store.putIfMatch("db/absent.json", utf8("x"), v1),
          "If-Match on a missing key fails");
      assertEquals(Optional.empty(), store.head("db/absent.json"));
    }
  }

  /**
   * Compare-and-swap: threads increment a counter with read / putIfMatch / re-read on conflict. No
   * two writers may both succeed from the same version (each successful value is won once), and no
   * success is lost (the final value is at least the number of successes; it equals it unless a
   * write landed while reporting failure, which a retrying store cannot always tell). Each writer's
   * bytes carry its id, as walship's lease carries its holder.
   */
  @Test
  default void racingIfMatchWritersNeverLoseAnUpdate() throws Exception {
    int threads = 4;
    int perThread = 10;
    try (ObjectStore store = newStore()) {
      store.put("db/counter", utf8("0"));
      List<Integer> won = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<Integer>>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          String writer = "writer-" + t;
          results.add(
              pool.submit(
                  () -> {
                    go.await();
                    List<Integer> mine = new ArrayList<>();
                    while (mine.size() < perThread) {
                      StoredObject current = store.get("db/counter").orElseThrow();
                      int value =
                          Integer.parseInt(
                              new String(current.data(), StandardCharsets.UTF_8).split(" ")[0]);
                      try {
                        store.putIfMatch(
                            "db/counter", utf8((value + 1) + " " + writer), current.etag());
                        mine.add(value + 1);
                      } catch (PreconditionFailedException lost) {
                        // another writer moved the counter: re-read
                      }
                    }
                    return mine;
                  }));
        }
        go.countDown();
        for (Future<List<Integer>> result : results) {
          won.addAll(result.get(60, TimeUnit.SECONDS));
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(
          won.size(), new java.util.HashSet<>(won).size(), "a version was won twice: " + won);
      int last =
          Integer.parseInt(
              new String(store.get("db/counter").orElseThrow().data(), StandardCharsets.UTF_8)
                  .split(" ")[0]);
      assertTrue(last >= threads * perThread, "lost updates: counter " + last);
    }
  }

  /** Keys with slashes are flat names: a 'directory' is not an object, and '-' sorts before '/'. */
  @Test
  default void keysWithSlashesAreFlatNames() {
    try (ObjectStore store = newStore()) {
      store.put("tenants/acme/db/L0/0000000000000001.seg", utf8("deep"));
      store.put("tenants/acme-2/db/lineage.json", utf8("sibling"));
      assertEquals(
          "deep",
          new String(
              store.get("tenants/acme/db/L0/0000000000000001.seg").orElseThrow().data(),
              StandardCharsets.UTF_8));
      assertEquals(
          List.of("tenants/acme-2/db/lineage.json", "tenants/acme/db/L0/0000000000000001.seg"),
          keysOf(store.list("tenants/", null, 10)),
          "'-' sorts before '/'");
      assertEquals(Optional.empty(), store.get("tenants/acme"), "a 'directory' is not an object");
      assertEquals(Optional.empty(), store.head("tenants"));
    }
  }

  /** Spaces, '+', '%', '=' and non-ASCII letters are ordinary key characters. */
  @Test
  default void unusualButValidKeysRoundTrip() {
    try (ObjectStore store = newStore()) {
      List<String> keys =
          List.of("odd/a b", "odd/plus+sign", "odd/per%20cent", "odd/k=v_1.json", "odd/üé");
      for (String key : keys) {
        store.put(key, utf8(key));
      }
      for (String key : keys) {
        assertEquals(key, new String(store.get(key).orElseThrow().data(), StandardCharsets.UTF_8));
      }
      assertEquals(
          List.of("odd/a b", "odd/k=v_1.json", "odd/per%20cent", "odd/plus+sign", "odd/üé"),
          keysOf(store.list("odd/", null, 10)),
          "code point order");
      assertEquals(List.of("odd/üé"), keysOf(store.list("odd/", "odd/plus+sign", 10)));
    }
  }

  /** Keys breaking the key rules are refused with IllegalArgumentException before any I/O. */
  @Test
  default void invalidKeysAreRejectedUpFront() {
    try (ObjectStore store = newStore()) {
      for (String bad :
          List.of("", "/abs", "a//b", "a/../b", "..", "a/./b", "trailing/", "back\\slash")) {
        assertThrows(
            IllegalArgumentException.class, () -> store.put(bad, utf8("x")), "key '" + bad + "'");
        assertThrows(IllegalArgumentException.class, () -> store.get(bad), "key '" + bad + "'");
      }
      assertEquals(List.of(), store.listAll("", null));
    }
  }

  /** describe() names the store and never contains a secret. */
  @Test
  default void describeNamesTheStoreWithoutSecrets() {
    try (ObjectStore store = newStore()) {
      String description = store.describe();
      assertFalse(description.isBlank());
      assertFalse(description.contains(InProcessS3.SECRET_KEY), description);
    }
  }
}
