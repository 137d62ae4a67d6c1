package dev.walship.primary;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent owns checkpointing of its database: PASSIVE once the WAL holds {@code passivePages}
 * frames, then TRUNCATE as well once it held {@code truncatePages}; never RESTART. At most one
 * write barrier is taken per {@code interval} (like Litestream, which checkpoints at most once per
 * sync): at 20k commits/s the PASSIVE threshold is reached every ~50 ms, and every barrier costs
 * the app more than it lasts (SQLite's busy handler sleeps 1, 2, 5 ms... once blocked).
 *
 * <p>Past {@link #FORCE_BYTES} of WAL (or {@code truncatePages}, if fewer) the interval, the
 * barrier spacing and the sync interval's cadence are all ignored: the checkpoint starts at once
 * and cuts its own segment. A complete checkpoint lets the app restart the WAL in place, so this
 * keeps the WAL's working set small; an app alone, with SQLite's autocheckpoint, recycles 4 MB.
 * Measured with a 1-row-insert app at ~65,000 commits/s: paced only by the 1 s interval and the
 * spacing, the WAL grew to 450-700 MB between restarts, and the app spent the first seconds of
 * every run writing into new file blocks and new page cache (0.81-0.88x its rate alone over 5 s
 * rounds); capped at 128 MiB, 0.91-0.94x. The cost is an extra segment or two per forced
 * checkpoint, which only an app writing more than that much WAL per sync interval sees.
 *
 * <p>A checkpoint must never backfill a commit the agent has not captured and made durable, so it
 * runs under a brief write barrier:
 *
 * <ol>
 *   <li>before the barrier, the app still writing: read the WAL and make what it holds durable
 *       ({@code prepare}), so that the barrier only has to cover the commits made since — a few
 *       milliseconds of them instead of a sync interval's worth (segment encoding and the spool's
 *       fsync otherwise ran with the app's writers stopped); then backfill it, still before the
 *       barrier: fsync the WAL, move the read mark to the WAL's end, PASSIVE (which stops at that
 *       mark), read up to the mark — so the checkpoint under the barrier copies only the frames
 *       of the last few milliseconds; then read and make durable again while each pass still
 *       finds many new commits; one last backfill pass, and (forced checkpoints) cut what was
 *       read since the durable flush;
 *   <li>{@code BEGIN IMMEDIATE} on the barrier connection, only if SQLite's writer lock is free at
 *       that instant (the app's writers then wait on their busy timeout), tried every ~20 us for
 *       2 ms; otherwise it is tried again on each later call, with capture running, for up to a
 *       second;
 *   <li>read the WAL to its end ({@link Capturer#poll()});
 *   <li>start making every captured commit durable ({@link DurableFlush}: the agent cuts them
 *       into spool files and fsyncs them on another thread; a restarted agent uploads those
 *       before anything else, so a crash after the checkpoint cannot force a snapshot);
 *   <li>end the long read transaction; {@code PRAGMA wal_checkpoint(PASSIVE)} on the checkpoint
 *       connection (PASSIVE needs no writer lock, so the barrier does not block it); re-open the
 *       read transaction — still under the barrier, so no commit can slip in unseen; wait for the
 *       fsync of step 4. A PASSIVE backfill alone loses nothing (the frames stay in the WAL); only
 *       a WAL restart does, and none can happen before the barrier is released;
 *   <li>ROLLBACK the barrier. If PASSIVE backfilled every frame, the app's next write restarts the
 *       WAL, which {@link Capturer} then expects.
 *   <li>TRUNCATE (past the larger threshold, and only after a complete PASSIVE): the agent's read
 *       transaction now sits at read mark 0, which forbids any backfill, so TRUNCATE can only
 *       succeed on a WAL whose every frame was already read and backfilled; new app frames make
 *       it report busy instead.
 * </ol>
 *
 * <p>Not thread-safe: runs on the capture thread.
 */
public final class Checkpointer {
  private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);

  /** What a call to {@link #maybeCheckpoint} did. */
  public enum Outcome {
    NOT_NEEDED,
    /** The passes are done; the app held SQLite's writer lock; the barrier is retried next call. */
    WAITING_FOR_WRITER,
    SKIPPED_BUSY,
    PARTIAL,
    PASSIVE,
    TRUNCATE
  }

  /**
   * Frames the app may commit past the agent's read mark before {@link #advancePin()} moves it:
   * well under SQLite's default autocheckpoint (1,000), above what one poll usually reads.
   */
  static final long PIN_STEP_FRAMES = 256;

  /**
   * WAL bytes past which a checkpoint is forced: 32,768 frames of 4 KiB pages. Measured (see the
   * class comment): 16,384 and 32,768 frames gave the same app rate, 8,192 frames a lower one
   * (twice the barriers).
   */
  static final long FORCE_BYTES = 32_768L * (WalFrame.HEADER_SIZE + 4096);

  /** How long each call tries to take the barrier ({@link SqliteSession#tryBarrierWithin}). */
  static final long BARRIER_TRY_NANOS = 2_000_000;

  /** How long {@link #maybeCheckpoint} keeps retrying the barrier, call by call. */
  private static final long BARRIER_WAIT_NANOS = 1_000_000_000L;

  /** Since when the barrier is being retried (passes done), or -1. */
  private long barrierWaitSinceNanos = -1;

  /** {@link #catchUp} stops once a pass captures at most this many commits. */
  private static final int CAUGHT_UP_COMMITS = 64;

  private final Capturer capturer;
  private final long passivePages;
  private final long truncatePages;
  private final long forceBytes;
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  private boolean attempted;
  private long lastAttemptNanos;
  /** Whether the checkpoint under way truncates: the WAL held truncatePages when it started. */
  private boolean truncateDecided;
  /** Whether the checkpoint under way was forced: the WAL held forcePages() when it started. */
  private boolean forcing;
  /** How long the last barrier was held (ns). */
  private long lastHeldNanos;
  private long passiveCount;
  private WalHeader lastAttemptGeneration;
  private long lastAttemptFrames;
  private long truncateCount;
  /** WAL generation the agent's read transaction last began in. */
  private WalHeader pinGeneration;
  private long pinMoves;
  private long barriers;
  private long barrierNanos;
  private long maxBarrierNanos;
  private String maxBarrierPhases = "none";
  private final WalPreallocator preallocator;
  /** False after the WAL could not be extended (then the app appends, as without preallocation). */
  private boolean preallocate = PREALLOCATE;

  /**
   * {@code -Dwalship.walPreallocation=false} turns {@link #maybePreallocate()} off: a diagnostic
   * switch for benchmarks that compare the app's cost with and without it.
   */
  static final boolean PREALLOCATE =
      !"false".equalsIgnoreCase(System.getProperty("walship.walPreallocation"));

  /**
   * @param passivePages WAL frames after which a PASSIVE checkpoint runs (&gt; 0)
   * @param truncatePages WAL frames after which TRUNCATE runs too (&gt;= passivePages)
   */
  public Checkpointer(Capturer capturer, long passivePages, long truncatePages) {
    this(capturer, passivePages, truncatePages, Duration.ZERO, System::nanoTime);
  }

  /**
   * @param interval at least this long between two barrier attempts, unless the WAL holds
   *     {@code truncatePages} frames or more ({@link Duration#ZERO} = no limit)
   * @param nanoTime monotonic clock in nanoseconds ({@code System::nanoTime}; fake in tests)
   */
  public Checkpointer(
      Capturer capturer, long passivePages, long truncatePages, Duration interval,
      LongSupplier nanoTime) {
    this(capturer, passivePages, truncatePages, interval, nanoTime, FORCE_BYTES);
  }

  /** @param forceBytes WAL bytes past which a checkpoint is forced ({@link #FORCE_BYTES}) */
  Checkpointer(
      Capturer capturer, long passivePages, long truncatePages, Duration interval,
      LongSupplier nanoTime, long forceBytes) {
    if (passivePages <= 0 || truncatePages < passivePages || interval.isNegative()) {
      throw new IllegalArgumentException(
          "checkpoint thresholds must satisfy 0 < passive <= truncate, got passive="
              + passivePages + " truncate=" + truncatePages + " and interval >= 0, got " + interval);
    }
    this.intervalNanos = interval.toNanos();
    this.nanoTime = nanoTime;
    this.capturer = capturer;
    this.passivePages = passivePages;
    this.truncatePages = truncatePages;
    this.forceBytes = forceBytes;
    this.preallocator = new WalPreallocator(capturer.walPath());
  }

  public long passiveCount() {
    return passiveCount;
  }

  public long truncateCount() {
    return truncateCount;
  }

  /** Times {@link #advancePin()} moved the read mark forward. */
  public long pinMoves() {
    return pinMoves;
  }

  /** Write barriers taken so far (each one held the app's writers for its duration). */
  public long barriers() {
    return barriers;
  }

  /** Total time the write barrier was held, in nanoseconds. */
  public long barrierNanos() {
    return barrierNanos;
  }

  /**
   * Where the longest write barrier spent its time, as one line of text: commits read under it and
   * milliseconds spent reading, spooling and in PASSIVE (for benchmarks and logs; "none" before
   * the first barrier).
   */
  public String maxBarrierPhases() {
    return maxBarrierPhases;
  }

  /** Longest single write barrier, in nanoseconds. */
  public long maxBarrierNanos() {
    return maxBarrierNanos;
  }

  /**
   * Moves the agent's read mark off 0 once the app has written {@code PIN_STEP_FRAMES} frames into
   * a new WAL generation (call after {@link Capturer#poll()}). After a complete checkpoint the
   * read transaction begins on a fully backfilled WAL, so SQLite gives it read mark 0 ("read the
   * database file only"): that is what lets the app restart the WAL. But while a reader holds
   * mark 0, every checkpoint attempt builds a sorted index of the whole WAL before finding it may
   * not backfill anything, and the app's autocheckpoint attempts one after every commit once the
   * WAL holds 1,000 frames: quadratic. Measured with a 1-row-insert app: 5,000 commits/s after
   * 4 s instead of 70,000.
   *
   * <p>Within a generation the mark then stays put until the next checkpoint cycle: the app's
   * autocheckpoint finds nothing to backfill past it (a cheap no-op, and no fsync on the app's
   * thread), and the agent does the copying itself in {@link #backfillBeforeBarrier}.
   *
   * <p>Safe: frames up to the new mark may be backfilled, but the WAL cannot restart while the
   * agent's read transaction holds a mark other than 0 (and the new generation is not fully
   * backfilled, so the new mark is not 0), so every frame stays readable until the capture reads
   * it (the poll right after).
   */
  public void advancePin() {
    WalHeader gen = capturer.walGeneration();
    if (gen == null || gen.sameGeneration(pinGeneration)
        || capturer.walFrames() < PIN_STEP_FRAMES) {
      return;
    }
    capturer.session().rotateRead();
    capturer.poll();
    pinned();
    pinMoves++;
  }

  /**
   * Extends the {@code -wal} file ahead of the app's writes when {@link WalPreallocator#due} says
   * so (see {@link WalPreallocator} for why and why it is safe). The write barrier is taken only
   * if SQLite's writer lock is free right now, and held for one small write past the file's end;
   * if the app holds the lock, the next call tries again. Call after {@link #maybeCheckpoint}, so
   * that a WAL just truncated is extended again before the app has written much into it. An I/O
   * error while extending turns preallocation off for this agent (logged): the app then appends,
   * as without it. Capture thread only.
   *
   * @return true if the file was extended
   * @throws PrimaryException if the write barrier cannot be taken or released for a reason other
   *     than the app holding SQLite's writer lock
   */
  public boolean maybePreallocate() {
    int pageSize = capturer.pageSize();
    if (!preallocate || pageSize <= 0) {
      return false;
    }
    // A busy WAL restarts in place soon after forcePages() (measured: at 1.1-1.5x it); past
    // twice that, a checkpoint is being held back (an app reader) and the app may append.
    long frames = Math.min(truncatePages + passivePages, 2 * forcePages());
    long max = WalHeader.SIZE + frames * (WalFrame.HEADER_SIZE + (long) pageSize);
    if (!WalPreallocator.due(capturer.walEnd(), capturer.walBytes(), max)) {
      return false;
    }
    WalHeader generation = capturer.walGeneration();
    SqliteSession s = capturer.session();
    if (generation == null || !s.tryBarrierNow()) {
      return false;
    }
    try {
      return preallocator.extend(generation, max) > 0;
    } catch (java.io.IOException e) {
      preallocate = false;
      log.warn("cannot extend {} ahead of the app's writes ({}); the app appends to it instead",
          capturer.walPath(), e.toString());
      return false;
    } finally {
      s.releaseBarrier();
    }
  }

  /**
   * {@link #syncAhead()} fdatasyncs the WAL each time the app has written this many more bytes
   * into it: 8 MiB, about twice what SQLite's own autocheckpoint syncs at a time.
   */
  static final long SYNC_AHEAD_BYTES = 8L << 20;

  /**
   * {@code -Dwalship.walSyncAhead=false} turns {@link #syncAhead()} off: a diagnostic switch for
   * benchmarks that compare the barrier's cost with and without it.
   */
  static final boolean SYNC_AHEAD =
      !"false".equalsIgnoreCase(System.getProperty("walship.walSyncAhead"));

  /** One thread for every database of the process: each sync is 8 MiB of new WAL apart. */
  private static final java.util.concurrent.ExecutorService SYNC_AHEAD_THREAD =
      java.util.concurrent.Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().name("walship-wal-sync").daemon().unstarted(r));

  /** WAL end (bytes) when the last sync ahead started, in {@link #syncedGeneration}. */
  private long syncedEnd;
  private WalHeader syncedGeneration;
  /** True while a sync ahead runs (set by the capture thread, cleared by the sync thread). */
  private volatile boolean syncing;
  private final java.util.concurrent.atomic.AtomicLong syncsAhead =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * Starts an fdatasync of the {@code -wal} file on a background thread once the captured WAL
   * has grown by {@link #SYNC_AHEAD_BYTES} since the last one (none while one runs). Call from
   * the capture thread after each poll.
   *
   * <p>Why: an app with {@code synchronous=NORMAL} never syncs its WAL except to checkpoint. Alone,
   * its autocheckpoint does that every 1,000 frames (4 MB). With the agent checkpointing instead,
   * tens of megabytes of the WAL were dirty between the agent's passes, and the fsyncs of the
   * PASSIVE under the write barrier queued behind their writeback while the app's writers waited.
   * Measured at ~65,000 commits/s (1-row inserts, {@code primary-agent/bench}): the barriers held
   * 170-513 ms per 5 s round, 93-263 ms with this.
   *
   * <p>Safe: it only forces pages the app already wrote to disk sooner. The file is opened
   * read-only by path for each sync (no locks live on the {@code -wal} file, so closing that
   * descriptor drops none) and never created; a file gone meanwhile is skipped.
   */
  public void syncAhead() {
    if (!SYNC_AHEAD || syncing) {
      return;
    }
    WalHeader g = capturer.walGeneration();
    if (g == null) {
      return;
    }
    if (!g.sameGeneration(syncedGeneration)) {
      syncedGeneration = g;
      syncedEnd = 0;
    }
    long end = capturer.walEnd();
    if (end - syncedEnd < SYNC_AHEAD_BYTES) {
      return;
    }
    syncedEnd = end;
    syncing = true;
    syncsAhead.incrementAndGet();
    java.nio.file.Path wal = capturer.walPath();
    SYNC_AHEAD_THREAD.execute(() -> {
      try (java.nio.channels.FileChannel ch =
          java.nio.channels.FileChannel.open(wal, java.nio.file.StandardOpenOption.READ)) {
        ch.force(false);
      } catch (java.io.IOException e) {
        log.debug("sync ahead of {} skipped: {}", wal, e.toString());
      } finally {
        syncing = false;
      }
    });
  }

  /** Runs {@code r} on the sync-ahead thread after any sync queued before it (tests). */
  static void runOnSyncThread(Runnable r) {
    SYNC_AHEAD_THREAD.execute(r);
  }

  /** Syncs started by {@link #syncAhead()} (read from any thread). */
  public long syncsAhead() {
    return syncsAhead.get();
  }

  /**
   * Extensions of the WAL file made by {@link #maybePreallocate()}. Read from other threads
   * (metrics) without synchronisation: the count may be a moment stale.
   */
  public long walExtensions() {
    return preallocator.extensions();
  }

  /**
   * Least time between two barrier attempts: the configured interval, or {@link
   * #BARRIER_SPACING} times as long as the last barrier was held, whichever is longer, at most
   * {@link #MAX_SPACING_NANOS}. The app's writers wait while the barrier is held, and SQLite's busy
   * handler sleeps 1, 2, 5, 10, 15 ms... so they lose more than that: at full speed a barrier
   * holds 10-40 ms (its fsyncs wait behind the WAL's writeback), and one a second cost the app
   * several percent. Spaced so, barriers take at most about 1% of the time. Below {@link
   * #forcePages()} only: a WAL that grows large costs the app more than the barriers do.
   */
  static long spacingNanos(long intervalNanos, long lastHeldNanos) {
    return Math.max(intervalNanos, Math.min(MAX_SPACING_NANOS, lastHeldNanos * BARRIER_SPACING));
  }

  static final long BARRIER_SPACING = 100;
  static final long MAX_SPACING_NANOS = 10_000_000_000L;

  /** Records the WAL generation the read transaction that just began sits in. */
  private void pinned() {
    pinGeneration = capturer.walGeneration();
  }

  /**
   * True if the WAL has grown past the PASSIVE threshold and, if the last attempt in this WAL
   * generation did not complete (an app reader held an old snapshot, the writer was busy), by
   * another half threshold since then — so a blocked checkpoint does not take the barrier on
   * every poll — and, below {@link #forcePages()}, if the last barrier attempt is at least
   * {@link #spacingNanos} ago (never less than the interval).
   */
  public boolean due() {
    long frames = capturer.walFrames();
    if (frames < passivePages) {
      return false;
    }
    long since = nanoTime.getAsLong() - lastAttemptNanos;
    if (attempted && frames < forcePages()
        && since < spacingNanos(intervalNanos, lastHeldNanos)) {
      return false;
    }
    WalHeader gen = capturer.walGeneration();
    if (lastAttemptGeneration != null && lastAttemptGeneration.sameGeneration(gen)) {
      return frames >= lastAttemptFrames + Math.max(1, passivePages / 2);
    }
    return true;
  }

  /**
   * True from the start of a checkpoint forced by the WAL's size ({@link #forcePages()}) until it
   * ends. The app is then writing fast, and its writers wait for what the barrier encodes: the
   * agent cuts its segment before the barrier even with a sync interval.
   */
  public boolean forcing() {
    return forcing;
  }

  /**
   * WAL frames past which a checkpoint is forced: {@code forceBytes} worth of frames of the
   * database's page size, at least {@code passivePages}, at most {@code truncatePages}.
   */
  long forcePages() {
    long frame = WalFrame.HEADER_SIZE + (long) Math.max(512, capturer.pageSize());
    return Math.min(truncatePages, Math.max(passivePages, forceBytes / frame));
  }

  /**
   * Checkpoints if {@link #due()} and no upload is in flight (a checkpoint never queues behind a
   * slow or unreachable bucket while holding the app's writers: its flush is one upload).
   *
   * @param mayStart true if a checkpoint may start now (with a sync interval: only when a segment
   *     is due anyway, so the barrier's cut is that segment instead of an extra upload); not asked
   *     past {@link #forcePages()}
   * @param cut hands the captured commits to the uploader (no fsync), between the passes before
   *     the barrier
   * @param prepare runs once just before the barrier, after a poll: makes the captured commits
   *     durable so that the flush under the barrier is short (not needed for correctness)
   * @param cutBeforeBarrier in a forced checkpoint ({@link #forcing()}) only, right before the
   *     barrier: hands the commits captured since {@code prepare} to the uploader (no fsync), so
   *     that the barrier does not encode them while the app's writers wait (5-30 ms measured at
   *     ~65,000 commits/s: the passes after {@code prepare} take 50-200 ms)
   * @param flush makes every captured commit durable (the fsync overlaps the PASSIVE under the
   *     barrier; both end before the barrier is released)
   */
  public Outcome maybeCheckpoint(BooleanSupplier mayStart, Runnable cut, Runnable prepare,
      Runnable cutBeforeBarrier, DurableFlush flush) {
    if (barrierWaitSinceNanos >= 0) {
      Outcome o = underBarrier(truncateDecided, flush);
      if (o == Outcome.SKIPPED_BUSY
          && nanoTime.getAsLong() - barrierWaitSinceNanos < BARRIER_WAIT_NANOS) {
        return Outcome.WAITING_FOR_WRITER;
      }
      barrierWaitSinceNanos = -1;
      return attempted(o);
    }
    if (!due()) {
      return Outcome.NOT_NEEDED;
    }
    forcing = capturer.walFrames() >= forcePages();
    if (!forcing && !mayStart.getAsBoolean()) {
      return Outcome.NOT_NEEDED;
    }
    // Decided now, not under the barrier: at full speed the passes below take a second or more,
    // and a WAL that passes the threshold meanwhile would be truncated, dropping its page cache,
    // where restarting it in place costs nothing.
    truncateDecided = capturer.walFrames() >= truncatePages;
    long start = System.nanoTime();
    long startFrames = capturer.walFrames();
    backfillBeforeBarrier(cut);
    long passes = System.nanoTime();
    catchUp(cut);
    prepare.run();
    long prepared = System.nanoTime();
    // prepare's fsync takes milliseconds to hundreds of milliseconds on a busy disk, while the app
    // keeps committing: read those commits now rather than under the barrier (seen: 7,700
    // commits, 112 ms of the barrier).
    catchUp(cut);
    // A last pass right before the barrier: the PASSIVE under it then copies only the frames
    // committed during this pass, not those of the fsyncs above.
    backfillPass(cut);
    // The PASSIVE under the barrier fsyncs the WAL first: flush what the app wrote during the
    // fsyncs above now, so that fsync has only the last milliseconds of frames.
    capturer.syncWal();
    if (forcing) {
      capturer.poll();
      cutBeforeBarrier.run();
    }
    long end = System.nanoTime();
    log.debug("before the barrier: WAL {} -> {} frames; backfill passes {} ms, catch-up and spool"
            + " fsync {} ms, last pass {} ms", startFrames, capturer.walFrames(),
        (passes - start) / 1_000_000, (prepared - passes) / 1_000_000, (end - prepared) / 1_000_000);
    Outcome o = underBarrier(truncateDecided, flush);
    if (o == Outcome.SKIPPED_BUSY) {
      // The app holds SQLite's writer lock. Some drivers hold it between transactions too
      // (sqlite-jdbc with autocommit off and transaction_mode=IMMEDIATE begins the next
      // transaction right after COMMIT), so waiting here would stall capture and shipping for the
      // whole barrier timeout. Try again on each later call instead, with capture running.
      barrierWaitSinceNanos = nanoTime.getAsLong();
      return Outcome.WAITING_FOR_WRITER;
    }
    return attempted(o);
  }

  private Outcome attempted(Outcome o) {
    forcing = false;
    if (o != Outcome.SKIPPED_BUSY) {
      lastAttemptGeneration = capturer.walGeneration();
      lastAttemptFrames = capturer.walFrames();
    }
    return o;
  }

  /**
   * Backfills, with the app still writing, what was captured, so that the PASSIVE under the
   * barrier only copies the frames committed since (a checkpoint of thousands of frames and its
   * fsyncs took 100-300 ms with the app's writers stopped). Each pass captures what the WAL holds
   * and hands it to the uploader, fsyncs the WAL, moves the agent's read mark to the WAL's end
   * ({@link SqliteSession#rotateRead}: no moment without a pin), runs PASSIVE, which cannot
   * backfill past that mark, and captures up to the mark. Frames may so be backfilled before they
   * are durable; that costs nothing while the agent lives (its mark, not 0, forbids a WAL
   * restart), and durability is only needed before the checkpoint under the barrier, after which
   * the WAL may restart. If the agent dies meanwhile, the exposure is that of any crash with
   * commits not yet uploaded: the app may checkpoint and restart the WAL itself, and the
   * restarted agent answers with a snapshot. Up to three passes, while the app commits faster
   * than the previous pass left over.
   */
  private void backfillBeforeBarrier(Runnable cut) {
    long left = Long.MAX_VALUE;
    for (int pass = 0; pass < 3; pass++) {
      SqliteSession.CheckpointResult r = backfillPass(cut);
      if (r.busy() || r.logFrames() < 0) {
        return;
      }
      long now = r.logFrames() - r.checkpointedFrames();
      if (now <= Math.max(64, passivePages / 20) || now >= left) {
        return;
      }
      left = now;
    }
  }

  /** One pass of {@link #backfillBeforeBarrier}. */
  private SqliteSession.CheckpointResult backfillPass(Runnable cut) {
    SqliteSession s = capturer.session();
    capturer.poll();
    cut.run(); // on its way to the bucket while the fsyncs below run
    // The WAL's dirty pages go to disk here, on the agent's thread: the checkpoint's own WAL
    // fsync may run on the app's thread (its autocheckpoint can win the race below), and after
    // a second of writes at full speed it has hundreds of megabytes to flush.
    capturer.syncWal();
    s.rotateRead();
    pinned();
    SqliteSession.CheckpointResult r = passive(s);
    capturer.poll(); // up to the new mark before anything reads pages from the database file
    return r;
  }

  /**
   * Captures and hands to the uploader what the app committed during the backfill passes (their fsyncs
   * take milliseconds to hundreds of milliseconds on a busy disk, and an app at 50,000 commits/s
   * writes thousands of commits meanwhile), until a pass finds few new commits or stops gaining:
   * everything left is read, spooled and fsynced under the barrier, with the app's writers
   * waiting. Seen before this loop: 23,000 commits read under one barrier, which held 390 ms.
   */
  private void catchUp(Runnable cut) {
    int previous = Integer.MAX_VALUE;
    for (int pass = 0; pass < 5; pass++) {
      int n = capturer.poll();
      if (n == 0) {
        return;
      }
      cut.run();
      if (n <= CAUGHT_UP_COMMITS || n >= previous) {
        return;
      }
      previous = n;
    }
  }

  /**
   * PASSIVE, retried for up to ~10 ms while it reports busy: that means another connection (the
   * app's autocheckpoint, which runs right after its commits) holds SQLite's checkpoint lock for
   * a moment. Giving up at once would leave the copying, and the WAL fsync, to the PASSIVE under
   * the write barrier, with the app's writers waiting.
   */
  private static SqliteSession.CheckpointResult passive(SqliteSession s) {
    SqliteSession.CheckpointResult r = s.checkpoint("PASSIVE");
    for (int attempt = 1; r.busy() && attempt < 20; attempt++) {
      java.util.concurrent.locks.LockSupport.parkNanos(500_000); // back off, not a wait for a condition
      r = s.checkpoint("PASSIVE");
    }
    return r;
  }

  /**
   * Makes every captured commit durable in two steps, so that the fsync can overlap the PASSIVE
   * under the barrier (on a busy disk each waits tens to hundreds of milliseconds for the same
   * journal commit, with the app's writers stopped).
   */
  @FunctionalInterface
  public interface DurableFlush {
    /**
     * Cuts every captured commit, hands it to the uploader and starts making it durable.
     *
     * @return waits until it is durable; throws (an unchecked exception) if that failed
     */
    Runnable start();
  }

  private Outcome underBarrier(boolean truncate, DurableFlush flush) {
    SqliteSession s = capturer.session();
    attempted = true;
    lastAttemptNanos = nanoTime.getAsLong();
    if (!s.tryBarrierWithin(BARRIER_TRY_NANOS)) {
      return Outcome.SKIPPED_BUSY;
    }
    long barrierStart = System.nanoTime();
    SqliteSession.CheckpointResult passive;
    long cutDone = barrierStart;
    long copied = barrierStart;
    long read = barrierStart;
    long durable = barrierStart;
    int tail = 0;
    try {
      tail = capturer.poll();
      read = System.nanoTime();
      Runnable awaitDurable = flush.start();
      cutDone = System.nanoTime();
      s.endRead();
      try {
        passive = passive(s);
        copied = System.nanoTime();
      } finally {
        s.beginRead();
        pinned();
      }
      // Before the barrier is released: once it is, the app's next write may restart the WAL.
      awaitDurable.run();
      durable = System.nanoTime();
    } finally {
      s.releaseBarrier();
      long held = System.nanoTime() - barrierStart;
      barriers++;
      barrierNanos += held;
      lastHeldNanos = held;
      String phases = String.format(
          "read %d commits %.1f ms, cut %.1f ms, PASSIVE %.1f ms, then spool fsync %.1f ms more",
          tail, (read - barrierStart) / 1e6, Math.max(0, cutDone - read) / 1e6,
          Math.max(0, copied - cutDone) / 1e6, Math.max(0, durable - copied) / 1e6);
      log.debug("write barrier held {} ms: {}", held / 1_000_000, phases);
      if (held > maxBarrierNanos) {
        maxBarrierNanos = held;
        maxBarrierPhases = phases;
      }
    }
    passiveCount++;
    if (!passive.complete()) {
      log.debug("PASSIVE checkpoint partial: {}", passive);
      return Outcome.PARTIAL;
    }
    capturer.checkpointCompleted();
    if (!truncate) {
      return Outcome.PASSIVE;
    }
    SqliteSession.CheckpointResult t = s.checkpoint("TRUNCATE");
    if (t.busy()) {
      return Outcome.PASSIVE;
    }
    truncateCount++;
    return Outcome.TRUNCATE;
  }
}
