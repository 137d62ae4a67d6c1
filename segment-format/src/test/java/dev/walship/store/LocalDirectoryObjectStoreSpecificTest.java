package dev.walship.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only the local directory store does: files on disk, its lock, its reserved names. */
class LocalDirectoryObjectStoreSpecificTest {
  @TempDir Path dir;

  private ObjectStore open() {
    return ObjectStores.open(dir.toUri().toString());
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void objectsAreFilesUnderTheRootAndTheEtagIsTheContentMd5() throws Exception {
    try (ObjectStore store = open()) {
      String etag = store.put("db/L0/0000000000000001.seg", utf8("segment"));
      assertEquals("segment", Files.readString(dir.resolve("db/L0/0000000000000001.seg")));
      assertEquals(Etags.md5Hex(utf8("segment")), etag, "the ETag S3 gives a single-part object");

      Files.writeString(dir.resolve("db/external"), "written by cp");
      assertEquals(
          Etags.md5Hex(utf8("written by cp")),
          store.head("db/external").orElseThrow().etag(),
          "files written by others get their ETag computed");
      assertEquals(
          store.head("db/external").orElseThrow().etag(),
          store.get("db/external").orElseThrow().etag());
    }
  }

  @Test
  void internalFilesAreNeitherListedNorAddressable() {
    try (ObjectStore store = open()) {
      store.put("k", utf8("v"));
      store.putIfAbsent("k2", utf8("v"));
      assertEquals(
          List.of("k", "k2"), store.listAll("", null).stream().map(ObjectInfo::key).toList());
      assertThrows(IllegalArgumentException.class, () -> store.put(".walship-lock", utf8("x")));
      assertThrows(IllegalArgumentException.class, () -> store.get("a/.walship-tmp/x"));
    }
  }

  @Test
  void foreignFilesWithImpossibleKeyNamesAreNotListed() throws Exception {
    try (ObjectStore store = open()) {
      store.put("db/lineage.json", utf8("{}"));
      Files.writeString(dir.resolve("db/back\\slash"), "foreign");
      assertEquals(
          List.of("db/lineage.json"),
          store.listAll("db/", null).stream().map(ObjectInfo::key).toList());
    }
  }

  @Test
  void aKeyCannotAlsoBeADirectoryOfOtherKeys() {
    // S3 allows both "a" and "a/b"; a directory cannot. walship's layout never needs it.
    try (ObjectStore store = open()) {
      store.put("db/L0/0000000000000001.seg", utf8("x"));
      ObjectStoreException e =
          assertThrows(ObjectStoreException.class, () -> store.put("db/L0", utf8("y")));
      assertFalse(e.retryable());
      assertTrue(e.getMessage().contains("db/L0"), e.getMessage());
      store.put("file", utf8("x"));
      ObjectStoreException nested =
          assertThrows(
              ObjectStoreException.class, () -> store.putIfAbsent("file/child", utf8("y")));
      assertFalse(nested.retryable());
    }
  }

  @Test
  void ifMatchWritersOnOneDirectoryNeverLoseAnUpdate() throws Exception {
    // Two store instances (as two agents would have) and four threads each increment a counter
    // with read / putIfMatch / retry-on-conflict. A lost update would leave the count short.
    int perThread = 15;
    try (ObjectStore a = open();
        ObjectStore b = open()) {
      a.put("counter", utf8("0"));
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<Integer>> conflicts = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          ObjectStore store = t % 2 == 0 ? a : b;
          conflicts.add(
              pool.submit(
                  () -> {
                    int lost = 0;
                    for (int i = 0; i < perThread; ) {
                      StoredObject current = store.get("counter").orElseThrow();
                      int value =
                          Integer.parseInt(new String(current.data(), StandardCharsets.UTF_8));
                      try {
                        store.putIfMatch(
                            "counter", utf8(Integer.toString(value + 1)), current.etag());
                        i++;
                      } catch (PreconditionFailedException e) {
                        lost++;
                      }
                    }
                    return lost;
                  }));
        }
        for (Future<Integer> f : conflicts) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(
          Integer.toString(8 * perThread),
          new String(a.get("counter").orElseThrow().data(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void aMissingSourceFileIsANonRetryableFailureAndWritesNothing() {
    try (ObjectStore store = open()) {
      ObjectStoreException e =
          assertThrows(
              ObjectStoreException.class, () -> store.putIfAbsent("k", dir.resolve("nope")));
      assertFalse(e.retryable());
      assertTrue(store.head("k").isEmpty());
    }
  }
}
