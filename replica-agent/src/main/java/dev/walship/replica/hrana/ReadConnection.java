package dev.walship.replica.hrana;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.LongSupplier;
import org.sqlite.ProgressHandler;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteLimits;
import org.sqlite.SQLiteOpenMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One read-only SQLite connection to a replica file, with a per-statement time limit.
 *
 * <p>Read-only three times over: opened with {@code SQLITE_OPEN_READONLY}, {@code PRAGMA
 * query_only=1}, and no attached databases allowed ({@code SQLITE_LIMIT_ATTACHED = 0}); the {@link
 * SqlText} guard refuses writes before they get here. The time limit is a SQLite progress handler
 * that interrupts the running statement once {@link #deadline(long)} has passed (SQLite then
 * reports {@code SQLITE_INTERRUPT}).
 *
 * <p>Not thread-safe: one request uses it at a time (a pool or a pinned stream owns it).
 */
public final class ReadConnection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReadConnection.class);
  /** Progress handler granularity, in SQLite virtual machine instructions. */
  private static final int PROGRESS_STEPS = 10_000;

  private final Connection connection;
  private final LongSupplier nanoTime;
  private volatile long deadlineNanos = Long.MAX_VALUE;
  private volatile boolean interrupted;

  private ReadConnection(Connection connection, LongSupplier nanoTime) {
    this.connection = connection;
    this.nanoTime = nanoTime;
  }

  /**
   * Opens a read-only connection to {@code file}.
   *
   * @param busyTimeoutMillis how long a statement waits for the applier's EXCLUSIVE lock, ms
   * @param nanoTime monotonic time source for the statement deadline
   * @throws SQLException if the file cannot be opened
   */
  public static ReadConnection open(Path file, int busyTimeoutMillis, LongSupplier nanoTime)
      throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setOpenMode(SQLiteOpenMode.READONLY);
    config.setBusyTimeout(busyTimeoutMillis);
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file, config.toProperties());
    try {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA query_only=1");
      }
      ((SQLiteConnection) c).setLimit(SQLiteLimits.SQLITE_LIMIT_ATTACHED, 0);
      ReadConnection rc = new ReadConnection(c, nanoTime);
      ProgressHandler.setHandler(
          c,
          PROGRESS_STEPS,
          new ProgressHandler() {
            @Override
            protected int progress() {
              if (rc.nanoTime.getAsLong() - rc.deadlineNanos > 0) {
                rc.interrupted = true;
                return 1;
              }
              return 0;
            }
          });
      return rc;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  public Connection jdbc() {
    return connection;
  }

  /** Sets the deadline for the statements that follow; {@link Long#MAX_VALUE} for none. */
  void deadline(long deadlineNanosValue) {
    this.deadlineNanos = deadlineNanosValue;
    this.interrupted = false;
  }

  /** Clears the deadline. */
  void noDeadline() {
    deadline(Long.MAX_VALUE);
  }

  /** True if the progress handler interrupted the last statement. */
  boolean wasInterrupted() {
    return interrupted;
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      // Closing a read-only connection loses nothing; say so rather than hide it.
      LOG.debug("closing a read connection failed: {}", e.getMessage());
    }
  }
}
