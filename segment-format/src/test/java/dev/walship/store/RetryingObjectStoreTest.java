package dev.walship.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.store.testing.FaultInjectingObjectStore;
import dev.walship.store.testing.FaultInjectingObjectStore.Fault;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retries recover from retryable faults, and everything else surfaces typed and at once. */
class RetryingObjectStoreTest {
  private static final RetryingObjectStore.Policy POLICY =
      new RetryingObjectStore.Policy(4, Duration.ofMillis(100), Duration.ofMillis(300));

  @TempDir Path dir;
  private ObjectStore local;
  private final List<Duration> sleeps = new ArrayList<>();

  @BeforeEach
  void openLocal() {
    local = ObjectStores.open(dir.resolve("store").toUri().toString());
  }

  private FaultInjectingObjectStore.Builder faults(long seed) {
    return FaultInjectingObjectStore.builder(local, seed).sleeper(sleeps::add);
  }

  private RetryingObjectStore retrying(ObjectStore store) {
    return RetryingObjectStore.wrap(store, POLICY, sleeps::add, new Random(7));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void retryableFailuresAreRetriedWithGrowingJitteredBackoff() {
    FaultInjectingObjectStore faulty = faults(1).build().failNext(3, true);
    ObjectStore store = retrying(faulty);

    store.put("k", utf8("v"));

    assertEquals("v", new String(local.get("k").orElseThrow().data(), StandardCharsets.UTF_8));
    assertEquals(3, faulty.count(Fault.RETRYABLE_ERROR));
    assertEquals(3, sleeps.size());
    long[][] bounds = {{50, 100}, {100, 200}, {150, 300}};
    for (int i = 0; i < 3; i++) {
      long ms = sleeps.get(i).toMillis();
      assertTrue(
          ms >= bounds[i][0] && ms <= bounds[i][1],
          "backoff "
              + (i + 1)
              + " = "
              + ms
              + " ms, expected in "
              + bounds[i][0]
              + ".."
              + bounds[i][1]);
    }
  }

  @Test
  void givesUpAfterMaxAttemptsWithTheLastFailure() {
    FaultInjectingObjectStore faulty = faults(1).build().failNext(10, true);
    ObjectStore store = retrying(faulty);

    ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.get("k"));

    assertTrue(e.retryable(), "still retryable: a later try may work");
    assertTrue(e.getMessage().contains("GET k"), e.getMessage());
    assertEquals(4, faulty.count(Fault.RETRYABLE_ERROR), "exactly maxAttempts calls");
    assertEquals(3, sleeps.size());
    assertEquals(1, e.getSuppressed().length, "the first failure rides along");
  }

  @Test
  void nonRetryableFailuresSurfaceAtOnce() {
    FaultInjectingObjectStore faulty = faults(1).build().failNext(1, false);
    ObjectStore store = retrying(faulty);

    ObjectStoreException e =
        assertThrows(ObjectStoreException.class, () -> store.put("k", utf8("v")));

    assertFalse(e.retryable());
    assertTrue(e.getMessage().contains("AccessDenied"), e.getMessage());
    assertEquals(List.of(), sleeps);
    assertTrue(local.head("k").isEmpty());
  }

  @Test
  void lostPreconditionsAreNeverRetried() {
    FaultInjectingObjectStore faulty = faults(1).build();
    ObjectStore store = retrying(faulty);
    String etag = store.putIfAbsent("db/lease.json", utf8("a"));

    assertThrows(
        PreconditionFailedException.class, () -> store.putIfAbsent("db/lease.json", utf8("b")));
    assertThrows(
        PreconditionFailedException.class,
        () -> store.putIfMatch("db/lease.json", utf8("b"), etag + "0"));
    assertEquals(List.of(), sleeps);
    assertEquals(
        "a", new String(local.get("db/lease.json").orElseThrow().data(), StandardCharsets.UTF_8));
  }

  @Test
  void aCreateThatLandedButReportedFailureCountsAsOurs() {
    FaultInjectingObjectStore faulty = faults(1).ambiguousWriteRate(1.0).build();
    ObjectStore store = retrying(faulty);

    String etag = store.putIfAbsent("db/L0/0000000000000001.seg", utf8("ours"));

    assertEquals(local.head("db/L0/0000000000000001.seg").orElseThrow().etag(), etag);
    assertEquals(1, sleeps.size(), "one retry, which found our own bytes");
    assertThrows(
        PreconditionFailedException.class,
        () -> store.putIfAbsent("db/L0/0000000000000001.seg", utf8("someone else's")),
        "different bytes: the key belongs to another writer");
  }

  @Test
  void anIfMatchThatLandedButReportedFailureCountsAsOurs() {
    String v1 = local.put("db/lease.json", utf8("v1"));
    FaultInjectingObjectStore faulty = faults(1).ambiguousWriteRate(1.0).build();
    ObjectStore store = retrying(faulty);

    String v2 = store.putIfMatch("db/lease.json", utf8("v2"), v1);

    assertNotEquals(v1, v2);
    assertEquals(
        "v2", new String(local.get("db/lease.json").orElseThrow().data(), StandardCharsets.UTF_8));
    assertEquals(v2, local.head("db/lease.json").orElseThrow().etag());
  }

  @Test
  void truncatedDownloadsAreRetriedAndNeverLeaveAPartialFile() throws Exception {
    byte[] data = new byte[256 * 1024];
    new Random(3).nextBytes(data);
    local.put("snapshots/0000000000000001.seg", data);
    FaultInjectingObjectStore faulty = faults(11).truncatedReadRate(0.5).build();
    ObjectStore store =
        RetryingObjectStore.wrap(
            faulty,
            new RetryingObjectStore.Policy(30, Duration.ofMillis(1), Duration.ofMillis(1)),
            sleeps::add,
            new Random(1));

    for (int i = 0; i < 20; i++) {
      Path destination = dir.resolve("restore-" + i);
      assertTrue(store.getToFile("snapshots/0000000000000001.seg", destination));
      assertArrayEquals(data, Files.readAllBytes(destination));
      assertArrayEquals(data, store.get("snapshots/0000000000000001.seg").orElseThrow().data());
    }
    assertTrue(
        faulty.count(Fault.TRUNCATED_READ) >= 10,
        "faults were injected: " + faulty.count(Fault.TRUNCATED_READ));
  }

  @Test
  void withoutRetriesInjectedFaultsSurfaceTyped() {
    local.put("k", utf8("v"));
    FaultInjectingObjectStore faulty =
        faults(5).retryableErrorRate(0.3).fatalErrorRate(0.3).build();
    int retryable = 0;
    int fatal = 0;
    int ok = 0;
    for (int i = 0; i < 200; i++) {
      try {
        assertEquals("v", new String(faulty.get("k").orElseThrow().data(), StandardCharsets.UTF_8));
        ok++;
      } catch (ObjectStoreException e) {
        assertTrue(e.getMessage().contains("k"), e.getMessage());
        if (e.retryable()) {
          retryable++;
        } else {
          fatal++;
        }
      }
    }
    assertEquals(faulty.count(Fault.RETRYABLE_ERROR), retryable);
    assertEquals(faulty.count(Fault.FATAL_ERROR), fatal);
    assertTrue(retryable > 30 && fatal > 30 && ok > 30, retryable + "/" + fatal + "/" + ok);
  }

  @Test
  void slowCallsWaitOnTheInjectedSleeper() {
    FaultInjectingObjectStore faulty = faults(1).slowCalls(1.0, Duration.ofMillis(250)).build();
    faulty.put("k", utf8("v"));
    faulty.head("k");
    assertEquals(List.of(Duration.ofMillis(250), Duration.ofMillis(250)), sleeps);
  }

  @Test
  void theSameSeedInjectsTheSameFaults() {
    List<List<FaultInjectingObjectStore.Injection>> runs = new ArrayList<>();
    for (long seed : new long[] {42, 42, 43}) {
      FaultInjectingObjectStore faulty =
          faults(seed)
              .retryableErrorRate(0.2)
              .ambiguousWriteRate(0.2)
              .truncatedReadRate(0.2)
              .build();
      ObjectStore store =
          RetryingObjectStore.wrap(
              faulty,
              new RetryingObjectStore.Policy(20, Duration.ofMillis(1), Duration.ofMillis(1)),
              sleeps::add,
              new Random(1));
      for (int i = 0; i < 30; i++) {
        store.put("seeded/" + i, utf8("v" + i));
        store.get("seeded/" + i);
      }
      runs.add(faulty.injected());
    }
    assertFalse(runs.get(0).isEmpty());
    assertEquals(runs.get(0), runs.get(1));
    assertNotEquals(runs.get(0), runs.get(2));
  }

  @Test
  void policyRejectsNonsense() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new RetryingObjectStore.Policy(0, Duration.ZERO, Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> new RetryingObjectStore.Policy(3, Duration.ofSeconds(2), Duration.ofSeconds(1)));
    assertEquals(Duration.ofSeconds(2), RetryingObjectStore.Policy.DEFAULT.ceiling(200));
  }
}
