package dev.walship.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.walship.replica.hrana.HranaLimits;
import dev.walship.replica.hrana.HranaStreams;
import dev.walship.replica.testing.ReferenceShipper;
import dev.walship.restore.PageApplier;
import dev.walship.store.ObjectStore;
import dev.walship.store.testing.InProcessS3;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a follower polls: a burst of segments is applied in one poll (prefetched, batched), the next
 * poll comes sooner while segments keep arriving, a caught-up follower makes exactly one GET
 * per poll, and the applied pages are fsynced when it goes idle.
 */
class FollowerPollingTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();

  @TempDir Path tmp;

  /** A clock the test moves by hand. */
  private static final class ManualClock extends Clock {
    final AtomicLong millis = new AtomicLong(1_000_000);

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }
  }

  /** The app's database {@code NAME.db} with one table. */
  private Path appDatabase(String name) throws Exception {
    Path app = Files.createDirectories(tmp.resolve("app")).resolve(name + ".db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    }
    return app;
  }

  /** A follower polling every 400 ms, at most 4 segments per apply step. */
  private Follower follower(String db, ObjectStore store, Clock clock, HranaStreams streams) {
    Follower.Settings settings =
        new Follower.Settings(Duration.ofMillis(400), Duration.ofHours(1), false, 2, Duration.ofSeconds(5), 4);
    return new Follower(db, store, tmp.resolve("replica"), settings, clock, streams,
        new SimpleMeterRegistry(), System::nanoTime);
  }

  @Test
  void burstIsAppliedInOnePollAndPollsComeSoonerOnlyWhileSegmentsArrive() throws Exception {
    ObjectStore store = S3.openFresh();
    Path app = appDatabase("b");
    ManualClock clock = new ManualClock();
    try (ReferenceShipper shipper =
            new ReferenceShipper(store, "b", app, Files.createDirectories(tmp.resolve("spool")));
        HranaStreams streams = new HranaStreams(HranaLimits.defaults(), System::nanoTime, new SecureRandom());
        Follower f = follower("b", store, clock, streams)) {
      shipper.init();
      f.start();
      assertEquals(1, f.served().txid());
      assertEquals(Duration.ofMillis(400), f.nextPollDelay(), "nothing found yet: the poll interval");

      for (int i = 0; i < 10; i++) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app);
            Statement s = c.createStatement()) {
          s.execute("INSERT INTO t (v) VALUES ('row " + i + "')");
        }
        shipper.ship();
      }
      assertEquals(11, shipper.txid());

      // Ten segments, four per apply step: all of them in one poll.
      assertEquals(Follower.PollResult.APPLIED, f.poll());
      assertEquals(11, f.served().txid());
      assertEquals(Duration.ofMillis(100), f.nextPollDelay(), "a segment just arrived: poll sooner");

      clock.millis.addAndGet(400);
      assertEquals(Duration.ofMillis(400), f.nextPollDelay(), "quiet for a poll interval: back to it");

      double before = f.storeRequests();
      assertEquals(Follower.PollResult.CAUGHT_UP, f.poll());
      assertEquals(Follower.PollResult.CAUGHT_UP, f.poll());
      assertEquals(2, f.storeRequests() - before, "caught up: one GET per poll, no LIST");
      assertEquals(Duration.ofMillis(400), f.nextPollDelay());
    } finally {
      store.close();
    }
  }

  @Test
  void appliedPagesAreFsyncedOnceTheFollowerIsIdleNotInsideEachApply() throws Exception {
    ObjectStore store = S3.openFresh();
    Path app = appDatabase("s");
    ManualClock clock = new ManualClock();
    Path replicaFile = tmp.resolve("replica").resolve("s.db");
    try (ReferenceShipper shipper =
            new ReferenceShipper(store, "s", app, Files.createDirectories(tmp.resolve("spool")));
        HranaStreams streams = new HranaStreams(HranaLimits.defaults(), System::nanoTime, new SecureRandom());
        Follower f = follower("s", store, clock, streams)) {
      shipper.init();
      f.start();
      for (int i = 0; i < 5; i++) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app);
            Statement s = c.createStatement()) {
          s.execute("INSERT INTO t (v) VALUES ('row " + i + "')");
        }
        shipper.ship();
      }
      assertEquals(Follower.PollResult.APPLIED, f.poll());
      assertEquals(6, f.served().txid());
      PageApplier.RecordedState busy = PageApplier.recordedState(replicaFile).orElseThrow();
      assertEquals(1, busy.txid(), "pages not yet fsynced: the durable base is still the bootstrap");
      assertEquals(6, busy.pendingUptoTxid(), "and the durable intent covers every applied segment");

      clock.millis.addAndGet(1_000);
      assertEquals(Follower.PollResult.CAUGHT_UP, f.poll());
      PageApplier.RecordedState idle = PageApplier.recordedState(replicaFile).orElseThrow();
      assertEquals(6, idle.txid(), "idle for a second: pages fsynced, TXID recorded");
      assertEquals(-1, idle.pendingUptoTxid());
    } finally {
      store.close();
    }
  }
}
