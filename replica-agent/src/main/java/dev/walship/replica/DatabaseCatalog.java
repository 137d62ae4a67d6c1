package dev.walship.replica;

import java.util.List;
import java.util.Optional;

/**
 * The databases a replica serves, as the HTTP server looks them up. Thread-safe.
 */
public interface DatabaseCatalog {

  /** The database named {@code name}, opened on demand; empty if the replica does not have it. */
  Optional<ServedDatabase> find(String name);

  /** The database served at the root URL ({@code /v2/pipeline}), if one is configured. */
  Optional<String> defaultDatabase();

  /** One entry per known database, for {@code /v1/status}. */
  List<DatabaseStatus> status();

  /**
   * What {@code GET /v1/status} reports about one database.
   *
   * @param name database name
   * @param state SERVING, STALLED or UNAVAILABLE
   * @param txid TXID the served data is at
   * @param lagSeconds seconds between now and the primary's commit time of the oldest commit the
   *     replica has not applied yet (0 when caught up)
   * @param lastError the reason it stopped advancing or is unavailable, null if none
   * @param lastErrorAtMillis when that happened, ms since the epoch (0 if none)
   */
  record DatabaseStatus(
      String name,
      String state,
      long txid,
      double lagSeconds,
      String lastError,
      long lastErrorAtMillis) {}
}
