package dev.walship.primary;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The agent's own SQLite connections to one database, each with one job:
 *
 * <ul>
 *   <li><b>read</b> (two connections, one holding the pin at a time) — holds the long read
 *       transaction. Its WAL read mark stops anyone's checkpoint
 *       from backfilling frames the agent has not read, and stops a writer from restarting the WAL
 *       (SQLite restarts only when every reader is off the WAL or at read mark 0, and no reader at
 *       mark 0 allows backfill beyond it). {@link #rotateRead()} moves the pin forward without a
 *       gap: the other read connection begins before the current one ends.
 *   <li><b>barrier</b> — {@code BEGIN IMMEDIATE} takes SQLite's writer lock for a moment so no
 *       commit can happen while the agent checkpoints; the app's writers wait on their busy
 *       timeout.
 *   <li><b>checkpoint</b> — runs {@code PRAGMA wal_checkpoint(...)}; it must be a connection
 *       without an open transaction (SQLite refuses a checkpoint on one with SQLITE_LOCKED).
 * </ul>
 *
 * Autocheckpoint is disabled on all of them. The agent never writes through them.
 *
 * <p>Not thread-safe: owned by the capture thread.
 */
final class SqliteSession implements AutoCloseable {
  /** The row of {@code PRAGMA wal_checkpoint}: busy flag, frames in the WAL, frames backfilled. */
  record CheckpointResult(boolean busy, long logFrames, long checkpointedFrames) {
    boolean complete() {
      return !busy && logFrames == checkpointedFrames;
    }
  }

  private final Path db;
  private final Connection[] reads = new Connection[2];
  private Connection read;
  private final Connection barrier;
  private final Connection checkpoint;
  private boolean readOpen;
  private boolean barrierOpen;
  private final int barrierTimeoutMillis;
  /**
   * The {@code -shm} file, open from the first {@link #holdCheckpointLock} until {@link #close()}
   * has closed the connections: closing any descriptor of it would drop every POSIX lock this
   * process holds on it, the read marks of SQLite's own connections (the pin) included.
   */
  private FileChannel shm;
  /** SQLite's checkpoint lock, held by the agent between its own checkpoints; null if not held. */
  private FileLock checkpointLock;

  /** The barrier connection's current busy timeout. */
  private int barrierWaitMillis;

  /**
   * Opens the connections and puts the database in WAL mode.
   *
   * @throws PrimaryException if the database cannot be switched to WAL mode
   */
  SqliteSession(Path db, int barrierTimeoutMillis) {
    this.db = db;
    this.barrierTimeoutMillis = barrierTimeoutMillis;
    this.barrierWaitMillis = barrierTimeoutMillis;
    try {
      reads[0] = open(db, 5000);
      reads[1] = open(db, 5000);
      this.read = reads[0];
      this.barrier = open(db, barrierTimeoutMillis);
      // Busy timeout 0: PASSIVE never waits anyway, and TRUNCATE holds SQLite's writer lock
      // while its busy handler waits for readers; with a timeout the app's writers waited up to
      // that long whenever the app had committed since the barrier. Now TRUNCATE just reports busy
      // and is tried again after a later checkpoint.
      this.checkpoint = open(db, 0);
    } catch (SQLException e) {
      throw new PrimaryException("cannot open SQLite database " + db + ": " + e.getMessage(), e);
    }
    String mode;
    try (Statement s = read.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA journal_mode=WAL")) {
      mode = rs.next() ? rs.getString(1) : "?";
    } catch (SQLException e) {
      close();
      throw new PrimaryException(
          "cannot switch " + db + " to WAL mode (" + e.getMessage() + "); is another process"
              + " holding it open in rollback-journal mode?",
          e);
    }
    if (!"wal".equalsIgnoreCase(mode)) {
      close();
      throw new PrimaryException(
          "cannot switch " + db + " to WAL mode: journal_mode is still '" + mode + "'");
    }
  }

  private static Connection open(Path db, int busyTimeoutMillis) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout=" + busyTimeoutMillis);
      s.execute("PRAGMA wal_autocheckpoint=0");
    }
    return c;
  }

  /** True while the long read transaction is open. */
  boolean readOpen() {
    return readOpen;
  }

  /** True while the write barrier is held. */
  boolean barrierHeld() {
    return barrierOpen;
  }

  /** Opens the long read transaction (no-op if open). */
  void beginRead() {
    if (readOpen) {
      return;
    }
    try (Statement s = read.createStatement()) {
      s.execute("BEGIN");
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master")) {
        rs.next();
      }
      readOpen = true;
    } catch (SQLException e) {
      rollbackQuietly(read);
      throw new PrimaryException("cannot open the read transaction on " + db, e);
    }
  }

  /**
   * Moves the open read transaction to the WAL's current end: begins one on the other read
   * connection, then ends the current one, so some read mark of the agent's pins the WAL at every
   * moment. Frames up to the new mark may then be backfilled by any checkpoint, so the caller must
   * have captured and made them durable before it checkpoints.
   */
  void rotateRead() {
    if (!readOpen) {
      throw new IllegalStateException("no read transaction to rotate");
    }
    Connection old = read;
    read = old == reads[0] ? reads[1] : reads[0];
    readOpen = false;
    try {
      beginRead();
    } catch (PrimaryException e) {
      read = old; // the old transaction is still open and still pins the WAL
      readOpen = true;
      throw e;
    }
    try (Statement s = old.createStatement()) {
      s.execute("COMMIT");
    } catch (SQLException e) {
      throw new PrimaryException("cannot end the previous read transaction on " + db, e);
    }
  }

  /** Ends the long read transaction (no-op if not open). */
  void endRead() {
    if (!readOpen) {
      return;
    }
    readOpen = false;
    try (Statement s = read.createStatement()) {
      s.execute("COMMIT");
    } catch (SQLException e) {
      throw new PrimaryException("cannot end the read transaction on " + db, e);
    }
  }

  /**
   * Takes the write barrier ({@code BEGIN IMMEDIATE}), waiting up to the barrier busy timeout.
   *
   * @return false if the writer lock could not be taken within the barrier busy timeout
   */
  boolean tryBarrier() {
    return takeBarrier(barrierTimeoutMillis);
  }

  /**
   * Takes the write barrier only if SQLite's writer lock is free right now (no busy wait).
   *
   * @return false if the app holds the writer lock
   */
  boolean tryBarrierNow() {
    return takeBarrier(0);
  }

  /**
   * Like {@link #tryBarrierNow()}, retried every ~20 us for up to {@code nanos}: an app committing
   * back to back holds SQLite's writer lock nearly all the time, and is between transactions for
   * microseconds at a time. Tried once per capture pass, the barrier of a checkpoint was missed for
   * a whole second at ~65,000 commits/s while the WAL grew by 400 MB. Unlike a busy timeout,
   * SQLite's busy handler would sleep 1 ms first, and the app is back in a transaction long before.
   *
   * @param nanos how long to keep trying (nanoseconds)
   * @return false if the app held the writer lock at every try
   * @throws PrimaryException if the barrier cannot be taken for another reason
   */
  boolean tryBarrierWithin(long nanos) {
    long deadline = System.nanoTime() + nanos;
    while (!tryBarrierNow()) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(20_000); // back off, not a wait for a condition
    }
    return true;
  }

  private boolean takeBarrier(int waitMillis) {
    try (Statement s = barrier.createStatement()) {
      if (waitMillis != barrierWaitMillis) {
        s.execute("PRAGMA busy_timeout=" + waitMillis);
        barrierWaitMillis = waitMillis;
      }
      s.execute("BEGIN IMMEDIATE");
      barrierOpen = true;
      return true;
    } catch (SQLException e) {
      rollbackQuietly(barrier);
      if (isBusy(e)) {
        return false;
      }
      throw new PrimaryException("cannot take the write barrier on " + db, e);
    }
  }

  /** Releases the write barrier (no-op if not held). */
  void releaseBarrier() {
    if (!barrierOpen) {
      return;
    }
    barrierOpen = false;
    try (Statement s = barrier.createStatement()) {
      s.execute("ROLLBACK");
    } catch (SQLException e) {
      throw new PrimaryException("cannot release the write barrier on " + db, e);
    }
  }

  /**
   * Takes SQLite's checkpoint lock for the agent if it is free, and keeps it until the agent's own
   * next checkpoint (no-op while held). The unix VFS keeps its WAL-index locks as POSIX locks on
   * bytes of the {@code -shm} file, from offset 120; the checkpoint lock is the second (byte 121),
   * and every checkpoint takes it exclusively before anything else, or reports busy at once.
   *
   * <p>Why: while the agent pins the WAL, a WAL generation outgrows 1,000 frames, so the app's
   * autocheckpoint tries a checkpoint after <em>every</em> commit (without the agent, once per
   * 1,000): each try took the checkpoint lock, probed the read marks and dropped the lock, three
   * or four more {@code fcntl} calls per commit for nothing (the agent's mark leaves it nothing
   * to copy). Held by the agent, each try is one refused call. Nothing is lost to the app: the
   * agent checkpoints for it. An app's own {@code PRAGMA wal_checkpoint} reports busy (it did
   * already, see the README).
   *
   * <p>POSIX locks belong to the process, not to the descriptor: SQLite's connections in this
   * process still take the lock when the agent checkpoints (their unlock also drops the agent's
   * hold, so {@link #checkpoint} releases it first and takes it again after), and the file is
   * never closed while a connection is open.
   *
   * @return true if the agent holds the lock now
   */
  boolean holdCheckpointLock() {
    if (checkpointLock != null) {
      return true;
    }
    if (!HOLD_CHECKPOINT_LOCK || Thread.currentThread().isInterrupted()) {
      return false; // an interrupted thread would close the channel, and with it every lock
    }
    try {
      if (shm == null) {
        shm = FileChannel.open(Path.of(db + "-shm"), StandardOpenOption.READ, StandardOpenOption.WRITE);
      }
      checkpointLock = shm.tryLock(SHM_LOCK_BASE + CKPT_LOCK, 1, false);
    } catch (NoSuchFileException e) {
      return false; // no read transaction has created it yet
    } catch (IOException | OverlappingFileLockException e) {
      return false; // the app holds it (it is checkpointing itself); try again later
    }
    return checkpointLock != null;
  }

  /** Releases the checkpoint lock if the agent holds it. */
  private void dropCheckpointLock() {
    if (checkpointLock == null) {
      return;
    }
    if (Thread.currentThread().isInterrupted()) {
      // Releasing on an interrupted thread could close the channel, and with it every lock this
      // process holds on the file. Left alone: SQLite's own unlock after the checkpoint drops it.
      checkpointLock = null;
      return;
    }
    try {
      checkpointLock.release();
    } catch (IOException e) {
      throw new PrimaryException("cannot release SQLite's checkpoint lock on " + db, e);
    } finally {
      checkpointLock = null;
    }
  }

  /** True while the agent holds SQLite's checkpoint lock. */
  boolean checkpointLockHeld() {
    return checkpointLock != null;
  }

  /** Offset of the unix VFS's WAL-index locks in the {@code -shm} file (UNIX_SHM_BASE). */
  static final long SHM_LOCK_BASE = 120;
  /** WAL_CKPT_LOCK, the checkpoint lock's index among them. */
  static final long CKPT_LOCK = 1;

  /**
   * {@code -Dwalship.holdCheckpointLock=false} turns {@link #holdCheckpointLock} off: a diagnostic
   * switch for comparing the app's cost with and without it.
   */
  static final boolean HOLD_CHECKPOINT_LOCK =
      !"false".equalsIgnoreCase(System.getProperty("walship.holdCheckpointLock"));

  /**
   * Runs {@code PRAGMA wal_checkpoint(mode)} on the checkpoint connection, releasing the agent's
   * hold on the checkpoint lock for it and taking it again after.
   */
  CheckpointResult checkpoint(String mode) {
    if (!mode.equals("PASSIVE") && !mode.equals("TRUNCATE")) {
      throw new IllegalArgumentException("the agent never runs a " + mode + " checkpoint");
    }
    boolean held = checkpointLock != null;
    dropCheckpointLock();
    try {
      return runCheckpoint(mode);
    } finally {
      if (held) {
        holdCheckpointLock();
      }
    }
  }

  private CheckpointResult runCheckpoint(String mode) {
    try (Statement s = checkpoint.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
      rs.next();
      return new CheckpointResult(rs.getInt(1) != 0, rs.getLong(2), rs.getLong(3));
    } catch (SQLException e) {
      if (isBusy(e)) {
        return new CheckpointResult(true, -1, -1);
      }
      throw new PrimaryException("checkpoint(" + mode + ") failed on " + db, e);
    }
  }

  private static boolean isBusy(SQLException e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("SQLITE_BUSY") || m.contains("SQLITE_LOCKED") || m.contains("locked");
  }

  private static void rollbackQuietly(Connection c) {
    try (Statement s = c.createStatement()) {
      s.execute("ROLLBACK");
    } catch (SQLException ignored) {
      // no transaction was open: nothing to undo
    }
  }

  @Override
  public void close() {
    for (Connection c : new Connection[] {reads[0], reads[1], barrier, checkpoint}) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (SQLException e) {
        // closing after a failure: the connection is gone either way
      }
    }
    readOpen = false;
    barrierOpen = false;
    checkpointLock = null; // released with the descriptor, after the connections
    if (shm != null) {
      try {
        shm.close();
      } catch (IOException e) {
        // the connections are closed: nothing of ours depends on its locks any more
      }
      shm = null;
    }
  }
}
