package dev.walship.replica.hrana;

import java.sql.SQLException;
import java.util.concurrent.locks.Lock;

/**
 * The database a Hrana stream reads: where its connections come from and which TXID the data
 * they see belongs to. Implemented by the replica's served database; tests may implement it over
 * any read-only file.
 *
 * <p>Implementations are thread-safe.
 */
public interface ReadTarget {

  /** Name used in error messages and routing. */
  String name();

  /**
   * A read-only connection for one statement or one pinned transaction.
   *
   * @throws SQLException if no connection can be opened
   */
  ReadConnection borrow() throws SQLException;

  /**
   * Returns a connection; {@code reusable} false closes it (e.g. after an interrupted statement
   * or a failed rollback).
   */
  void release(ReadConnection connection, boolean reusable);

  /**
   * Held (shared) while a statement runs outside a transaction, and while a transaction takes
   * its snapshot. The applier holds the exclusive side while it applies and publishes a TXID, so
   * a reader that holds this lock sees exactly the data of {@link #txid()}.
   */
  Lock readLock();

  /** The TXID whose data readers currently see (0 before the first apply). */
  long txid();
}
