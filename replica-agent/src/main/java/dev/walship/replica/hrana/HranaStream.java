package dev.walship.replica.hrana;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;
import org.sqlite.core.CoreStatement;
import org.sqlite.core.DB;

/**
 * One Hrana stream (HRANA_3_SPEC.md, "Hrana over HTTP"): the SQL texts stored on it and, while a
 * transaction is open, the read connection pinned to it.
 *
 * <p>Outside a transaction the stream holds no connection: each statement borrows one, runs under
 * the target's read lock (so its {@code replication_index} is exactly the TXID of the data it
 * read) and gives it back. {@code BEGIN}, {@code BEGIN DEFERRED} and libSQL's {@code BEGIN
 * TRANSACTION READONLY} pin a connection and take the read snapshot at once (a read inside the
 * transaction acquires SQLite's SHARED lock, held until COMMIT or ROLLBACK), so every later
 * statement of the transaction, in this request or the next, reads that same snapshot.
 *
 * <p>Not thread-safe: the stream table hands a stream to one request at a time.
 */
final class HranaStream {
  private static final Logger LOG = LoggerFactory.getLogger(HranaStream.class);
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final int MAX_STORED_SQL = 1000;

  private final ReadTarget db;
  private final HranaLimits limits;
  private final LongSupplier nanoTime;
  private final Map<Integer, String> storedSql = new HashMap<>();
  private ReadConnection pinned;
  private long snapshotTxid;
  private long lastTxid;
  private boolean closed;
  private long lastUsedNanos;

  HranaStream(ReadTarget db, HranaLimits limits, LongSupplier nanoTime) {
    this.db = db;
    this.limits = limits;
    this.nanoTime = nanoTime;
    this.lastUsedNanos = nanoTime.getAsLong();
  }

  ReadTarget target() {
    return db;
  }

  boolean inTransaction() {
    return pinned != null;
  }

  /** True if the stream must be kept between requests (open transaction or stored SQL). */
  boolean stateful() {
    return !closed && (pinned != null || !storedSql.isEmpty());
  }

  boolean closed() {
    return closed;
  }

  long lastUsedNanos() {
    return lastUsedNanos;
  }

  /** The TXID of the data the latest statement read (or the target's TXID at the start). */
  long lastTxid() {
    return lastTxid;
  }

  void beginRequest() {
    lastUsedNanos = nanoTime.getAsLong();
    lastTxid = pinned != null ? snapshotTxid : db.txid();
  }

  /**
   * Runs one stream request and returns its {@code StreamResult}: {@code {"type":"ok",
   * "response":...}} or {@code {"type":"error","error":...}}. Never throws for a bad request.
   */
  ObjectNode handle(JsonNode request, ResponseBudget budget) {
    try {
      return JSON.objectNode().put("type", "ok").set("response", dispatch(request, budget));
    } catch (HranaException e) {
      return JSON.objectNode().put("type", "error").set("error", error(e));
    } finally {
      lastUsedNanos = nanoTime.getAsLong();
    }
  }

  /** Closes the stream: rolls back an open transaction and returns its connection. */
  void close() {
    closed = true;
    storedSql.clear();
    if (pinned != null) {
      ReadConnection c = pinned;
      pinned = null;
      boolean reusable = true;
      try (Statement s = c.jdbc().createStatement()) {
        s.execute("ROLLBACK");
      } catch (SQLException e) {
        reusable = false;
        LOG.debug("rollback of an abandoned stream on {} failed: {}", db.name(), e.getMessage());
      }
      db.release(c, reusable);
    }
  }

  static ObjectNode error(HranaException e) {
    return JSON.objectNode().put("message", e.getMessage()).put("code", e.code());
  }

  // ---------------------------------------------------------------------------------------------

  private ObjectNode dispatch(JsonNode request, ResponseBudget budget) {
    if (closed) {
      throw new HranaException("STREAM_CLOSED", "the stream is closed");
    }
    String type = request.path("type").asText("");
    ObjectNode resp = JSON.objectNode().put("type", type);
    switch (type) {
      case "execute" -> resp.set("result", execute(request.path("stmt"), budget));
      case "batch" -> resp.set("result", batch(request.path("batch"), budget));
      case "sequence" -> sequence(request);
      case "describe" -> resp.set("result", describe(request));
      case "store_sql" -> {
        if (storedSql.size() >= MAX_STORED_SQL) {
          throw new HranaException(
              "SQL_STORE_FULL", "a stream may store at most " + MAX_STORED_SQL + " SQL texts");
        }
        JsonNode id = request.get("sql_id");
        JsonNode sql = request.get("sql");
        if (id == null || !id.canConvertToInt() || sql == null || !sql.isTextual()) {
          throw new HranaException("HRANA_PROTO_ERROR", "store_sql needs sql_id and sql");
        }
        storedSql.put(id.intValue(), sql.asText());
      }
      case "close_sql" -> storedSql.remove(request.path("sql_id").asInt());
      case "close" -> close();
      case "get_autocommit" -> resp.put("is_autocommit", pinned == null);
      default -> throw new HranaException(
          "HRANA_PROTO_ERROR", "unknown stream request type '" + type + "'");
    }
    return resp;
  }

  private String sqlOf(JsonNode holder) {
    JsonNode sql = holder.get("sql");
    if (sql != null && !sql.isNull()) {
      return sql.asText();
    }
    JsonNode id = holder.get("sql_id");
    if (id != null && !id.isNull()) {
      String stored = storedSql.get(id.asInt());
      if (stored == null) {
        throw new HranaException("SQL_NOT_FOUND", "no SQL text stored with sql_id " + id.asInt());
      }
      return stored;
    }
    throw new HranaException("HRANA_PROTO_ERROR", "a statement needs sql or sql_id");
  }

  private static SqlText.Statement single(String sql) {
    List<SqlText.Statement> stmts = SqlText.parse(sql).statements();
    if (stmts.isEmpty()) {
      throw new HranaException("SQL_NO_STATEMENT", "the SQL text contains no statement");
    }
    if (stmts.size() > 1) {
      throw new HranaException(
          "SQL_MANY_STATEMENTS",
          "the SQL text contains " + stmts.size() + " statements; execute takes exactly one"
              + " (use sequence for several)");
    }
    return stmts.get(0);
  }

  private ObjectNode execute(JsonNode stmt, ResponseBudget budget) {
    if (!stmt.isObject()) {
      throw new HranaException("HRANA_PROTO_ERROR", "execute needs a stmt object");
    }
    SqlText.Statement st = single(sqlOf(stmt));
    return run(st, stmt, stmt.path("want_rows").asBoolean(true), budget);
  }

  private ObjectNode run(SqlText.Statement st, JsonNode stmt, boolean wantRows, ResponseBudget budget) {
    SqlText.Kind kind = st.classify();
    return switch (kind) {
      case READ -> read(st, stmt, wantRows, budget);
      case BEGIN -> begin();
      case COMMIT -> endTransaction("COMMIT", "cannot commit - no transaction is active");
      case ROLLBACK -> endTransaction("ROLLBACK", "cannot rollback - no transaction is active");
      case SAVEPOINT, RELEASE -> savepoint(st);
      case EMPTY -> throw new HranaException("SQL_NO_STATEMENT", "the SQL text contains no statement");
    };
  }

  private ObjectNode read(
      SqlText.Statement st, JsonNode stmt, boolean wantRows, ResponseBudget budget) {
    if (pinned != null) {
      lastTxid = snapshotTxid;
      return query(pinned, st, stmt, wantRows, budget, snapshotTxid);
    }
    ReadConnection c = borrow();
    boolean reusable = true;
    Lock lock = db.readLock();
    try {
      lockInterruptibly(lock);
      try {
        long txid = db.txid();
        lastTxid = txid;
        return query(c, st, stmt, wantRows, budget, txid);
      } finally {
        lock.unlock();
      }
    } catch (HranaException e) {
      reusable = !c.wasInterrupted();
      throw e;
    } finally {
      db.release(c, reusable);
    }
  }

  private ObjectNode begin() {
    if (pinned != null) {
      throw new HranaException("SQLITE_ERROR", "cannot start a transaction within a transaction");
    }
    ReadConnection c = borrow();
    Lock lock = db.readLock();
    try {
      lockInterruptibly(lock);
      try (Statement s = c.jdbc().createStatement()) {
        c.deadline(nanoTime.getAsLong() + limits.queryTimeout().toNanos());
        s.execute("BEGIN DEFERRED");
        // Take SQLite's SHARED lock now: the snapshot is the data of the TXID read under our lock.
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master")) {
          rs.next();
        }
        snapshotTxid = db.txid();
      } finally {
        c.noDeadline();
        lock.unlock();
      }
    } catch (SQLException e) {
      rollbackQuietly(c);
      db.release(c, false);
      throw sqlError(e, c);
    } catch (HranaException e) {
      db.release(c, true);
      throw e;
    }
    pinned = c;
    lastTxid = snapshotTxid;
    return emptyResult(snapshotTxid);
  }

  private ObjectNode endTransaction(String sql, String notActive) {
    if (pinned == null) {
      throw new HranaException("SQLITE_ERROR", notActive);
    }
    ReadConnection c = pinned;
    pinned = null;
    long txid = snapshotTxid;
    boolean reusable = true;
    try (Statement s = c.jdbc().createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      reusable = false;
      rollbackQuietly(c);
      throw sqlError(e, c);
    } finally {
      db.release(c, reusable);
    }
    lastTxid = txid;
    return emptyResult(txid);
  }

  private ObjectNode savepoint(SqlText.Statement st) {
    if (pinned == null) {
      throw new HranaException(
          "SQLITE_ERROR",
          "SAVEPOINT, RELEASE and ROLLBACK TO are only supported inside a BEGIN transaction on a"
              + " walship read replica");
    }
    try (Statement s = pinned.jdbc().createStatement()) {
      s.execute(st.sql());
    } catch (SQLException e) {
      throw sqlError(e, pinned);
    }
    return emptyResult(snapshotTxid);
  }

  private ObjectNode query(
      ReadConnection c,
      SqlText.Statement st,
      JsonNode stmt,
      boolean wantRows,
      ResponseBudget budget,
      long txid) {
    c.deadline(nanoTime.getAsLong() + limits.queryTimeout().toNanos());
    long mark = budget.mark();
    try (PreparedStatement ps = c.jdbc().prepareStatement(st.sql())) {
      bindArguments(ps, st, stmt);
      boolean hasRows = ps.execute();
      CoreStatement core = (CoreStatement) ps;
      ObjectNode result = JSON.objectNode();
      ArrayNode cols = result.putArray("cols");
      int columnCount = core.pointer.safeRunInt((DB d, long p) -> d.column_count(p));
      String[] names = new String[columnCount];
      for (int i = 0; i < columnCount; i++) {
        final int col = i;
        String name = core.pointer.safeRun((DB d, long p) -> d.column_name(p, col));
        String decl = core.pointer.safeRun((DB d, long p) -> d.column_decltype(p, col));
        names[i] = name;
        budget.charge(16 + (name == null ? 4 : name.length()) + (decl == null ? 4 : decl.length()));
        ObjectNode colNode = cols.addObject();
        colNode.put("name", name);
        colNode.put("decltype", decl);
      }
      ArrayNode rows = result.putArray("rows");
      if (hasRows && wantRows) {
        try (ResultSet rs = ps.getResultSet()) {
          while (rs.next()) {
            ArrayNode row = rows.addArray();
            core.pointer.safeRunConsume(
                (DB d, long p) -> {
                  for (int i = 0; i < columnCount; i++) {
                    row.add(readValue(d, p, i, budget));
                  }
                });
          }
        }
      }
      result.put("affected_row_count", 0);
      result.putNull("last_insert_rowid");
      result.put("replication_index", Long.toString(txid));
      return result;
    } catch (SQLException e) {
      budget.rewind(mark);
      throw sqlError(e, c);
    } catch (HranaException e) {
      budget.rewind(mark);
      throw e;
    } finally {
      c.noDeadline();
    }
  }

  private static ObjectNode readValue(DB d, long p, int i, ResponseBudget budget)
      throws SQLException {
    switch (d.column_type(p, i)) {
      case 1 -> {
        budget.charge(40);
        return HranaValues.integer(d.column_long(p, i));
      }
      case 2 -> {
        budget.charge(40);
        return HranaValues.real(d.column_double(p, i));
      }
      case 3 -> {
        String s = d.column_text(p, i);
        budget.charge(30 + (s == null ? 0 : s.length()));
        return HranaValues.text(s == null ? "" : s);
      }
      case 4 -> {
        byte[] b = d.column_blob(p, i);
        byte[] bytes = b == null ? new byte[0] : b;
        budget.charge(30 + (bytes.length * 4L + 2) / 3);
        return HranaValues.blob(bytes);
      }
      default -> {
        budget.charge(16);
        return HranaValues.nullValue();
      }
    }
  }

  private static void bindArguments(PreparedStatement ps, SqlText.Statement st, JsonNode stmt)
      throws SQLException {
    JsonNode args = stmt.path("args");
    JsonNode named = stmt.path("named_args");
    int declared = st.parameters().size();
    if (args.isArray()) {
      if (args.size() > declared) {
        throw new HranaException(
            "ARGS_INVALID",
            "the statement takes " + declared + " parameters but " + args.size() + " were given");
      }
      for (int i = 0; i < args.size(); i++) {
        HranaValues.bind(ps, i + 1, args.get(i));
      }
    }
    if (named.isArray()) {
      for (JsonNode arg : named) {
        String name = arg.path("name").asText("");
        int index = parameterIndex(st.parameters(), name);
        if (index < 1) {
          throw new HranaException(
              "ARGS_INVALID", "the statement has no parameter named '" + name + "'");
        }
        HranaValues.bind(ps, index, arg.get("value"));
      }
    }
  }

  /** SQLite index of a named parameter; a name without prefix tries {@code : @ $}. */
  static int parameterIndex(List<String> parameters, String name) {
    int at = parameters.indexOf(name);
    if (at < 0 && !name.isEmpty() && ":@$?".indexOf(name.charAt(0)) < 0) {
      for (String prefix : new String[] {":", "@", "$"}) {
        at = parameters.indexOf(prefix + name);
        if (at >= 0) {
          break;
        }
      }
    }
    return at + 1;
  }

  private ObjectNode batch(JsonNode batch, ResponseBudget budget) {
    JsonNode steps = batch.path("steps");
    if (!steps.isArray()) {
      throw new HranaException("HRANA_PROTO_ERROR", "batch needs a steps array");
    }
    int n = steps.size();
    Boolean[] outcome = new Boolean[n]; // null: skipped, TRUE: ok, FALSE: error
    ObjectNode result = JSON.objectNode();
    ArrayNode stepResults = result.putArray("step_results");
    ArrayNode stepErrors = result.putArray("step_errors");
    for (int i = 0; i < n; i++) {
      JsonNode step = steps.get(i);
      JsonNode cond = step.get("condition");
      if (cond != null && !cond.isNull() && !evaluate(cond, outcome, i)) {
        stepResults.addNull();
        stepErrors.addNull();
        continue;
      }
      try {
        stepResults.add(execute(step.path("stmt"), budget));
        stepErrors.addNull();
        outcome[i] = Boolean.TRUE;
      } catch (HranaException e) {
        stepResults.addNull();
        stepErrors.add(error(e));
        outcome[i] = Boolean.FALSE;
      }
    }
    return result;
  }

  private boolean evaluate(JsonNode cond, Boolean[] outcome, int current) {
    String type = cond.path("type").asText("");
    return switch (type) {
      case "ok" -> stepOutcome(cond, outcome, current) == Boolean.TRUE;
      case "error" -> stepOutcome(cond, outcome, current) == Boolean.FALSE;
      case "not" -> !evaluate(cond.path("cond"), outcome, current);
      case "and" -> {
        for (JsonNode c : cond.path("conds")) {
          if (!evaluate(c, outcome, current)) {
            yield false;
          }
        }
        yield true;
      }
      case "or" -> {
        for (JsonNode c : cond.path("conds")) {
          if (evaluate(c, outcome, current)) {
            yield true;
          }
        }
        yield false;
      }
      case "is_autocommit" -> pinned == null;
      default -> throw new HranaException(
          "HRANA_PROTO_ERROR", "unknown batch condition type '" + type + "'");
    };
  }

  private static Boolean stepOutcome(JsonNode cond, Boolean[] outcome, int current) {
    int step = cond.path("step").asInt(-1);
    if (step < 0 || step >= current) {
      throw new HranaException(
          "HRANA_PROTO_ERROR",
          "batch condition refers to step " + step + ", which does not precede step " + current);
    }
    return outcome[step];
  }

  private void sequence(JsonNode request) {
    List<SqlText.Statement> stmts = SqlText.parse(sqlOf(request)).statements();
    for (SqlText.Statement st : stmts) {
      st.classify(); // refuse the whole sequence before running any of it
    }
    ResponseBudget unlimited = new ResponseBudget(Long.MAX_VALUE);
    for (SqlText.Statement st : stmts) {
      run(st, JSON.objectNode(), false, unlimited);
    }
  }

  private ObjectNode describe(JsonNode request) {
    SqlText.Statement st = single(sqlOf(request));
    boolean readOnly;
    try {
      SqlText.Kind kind = st.classify();
      readOnly = kind != SqlText.Kind.EMPTY;
    } catch (HranaException e) {
      readOnly = false;
    }
    ReadConnection c = pinned != null ? pinned : borrow();
    try (PreparedStatement ps = c.jdbc().prepareStatement(st.sql())) {
      CoreStatement core = (CoreStatement) ps;
      ObjectNode result = JSON.objectNode();
      ArrayNode params = result.putArray("params");
      for (String name : st.parameters()) {
        params.addObject().put("name", name);
      }
      ArrayNode cols = result.putArray("cols");
      int columnCount = core.pointer.safeRunInt((DB d, long p) -> d.column_count(p));
      for (int i = 0; i < columnCount; i++) {
        final int col = i;
        ObjectNode colNode = cols.addObject();
        colNode.put("name", core.pointer.safeRun((DB d, long p) -> d.column_name(p, col)));
        colNode.put("decltype", core.pointer.safeRun((DB d, long p) -> d.column_decltype(p, col)));
      }
      result.put("is_explain", st.tokens().get(0).equals("EXPLAIN"));
      result.put("is_readonly", readOnly);
      return result;
    } catch (SQLException e) {
      throw sqlError(e, c);
    } finally {
      if (c != pinned) {
        db.release(c, true);
      }
    }
  }

  private ReadConnection borrow() {
    try {
      return db.borrow();
    } catch (SQLException e) {
      throw new HranaException(
          "REPLICA_UNAVAILABLE", "cannot open database " + db.name() + ": " + e.getMessage());
    }
  }

  private static void lockInterruptibly(Lock lock) {
    try {
      if (!lock.tryLock(30, TimeUnit.SECONDS)) {
        throw new HranaException(
            "REPLICA_BUSY", "the replica is applying a long change; try again");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HranaException("REPLICA_BUSY", "interrupted while waiting for the replica");
    }
  }

  private static void rollbackQuietly(ReadConnection c) {
    try (Statement s = c.jdbc().createStatement()) {
      s.execute("ROLLBACK");
    } catch (SQLException e) {
      LOG.debug("rollback failed: {}", e.getMessage());
    }
  }

  private ObjectNode emptyResult(long txid) {
    ObjectNode result = JSON.objectNode();
    result.putArray("cols");
    result.putArray("rows");
    result.put("affected_row_count", 0);
    result.putNull("last_insert_rowid");
    result.put("replication_index", Long.toString(txid));
    return result;
  }

  private HranaException sqlError(SQLException e, ReadConnection c) {
    if (c.wasInterrupted()) {
      return new HranaException(
          "QUERY_TIMEOUT",
          "the statement ran longer than the replica's limit of "
              + limits.queryTimeout().toMillis()
              + " ms and was interrupted");
    }
    String code = "SQLITE_ERROR";
    if (e instanceof SQLiteException se) {
      SQLiteErrorCode primary = SQLiteErrorCode.getErrorCode(se.getResultCode().code & 0xff);
      code = primary == SQLiteErrorCode.UNKNOWN_ERROR ? se.getResultCode().name() : primary.name();
    }
    String message = e.getMessage() == null ? code : e.getMessage();
    return new HranaException(code, message);
  }
}
