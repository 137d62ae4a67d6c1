package dev.walship.primary;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The agent's local admin HTTP endpoint (JDK {@code com.sun.net.httpserver}), meant for loopback:
 *
 * <ul>
 *   <li>{@code GET /metrics} — Prometheus text format (captured and durable TXID, lag seconds,
 *       bytes and objects uploaded, S3 errors, WAL bytes, checkpoints, per database).
 *   <li>{@code GET /v1/status} — JSON {@code {"databases":[{db, path, state, captured_txid,
 *       durable_txid, lag_seconds, wal_bytes, checkpoints, snapshots, last_error}]}}.
 *   <li>{@code GET /v1/wait?db=NAME&txid=N&timeout_ms=T} — 204 once TXID N of that database is
 *       durable in the bucket, 408 if T ms (default 10000, at most 300000) pass first, 404 for an
 *       unknown database, 400 for bad parameters, 409 if the database is fenced. Without {@code
 *       txid} it waits for every commit made before the request: the agent reads the WAL at once,
 *       uploads what it found (ignoring the sync interval) and answers when that is durable. This
 *       is how an app gets synchronous durability: commit, then {@code GET /v1/wait?db=NAME}.
 * </ul>
 *
 * <p>Each request runs on a virtual thread, so many concurrent waits are cheap. Thread-safe.
 */
public final class AdminServer implements AutoCloseable {
  private static final ObjectMapper JSON =
      new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  /**
   * Binds and starts.
   *
   * @param address where to listen (port 0 = any free port)
   * @param metrics returns the Prometheus scrape text
   * @param status returns the status of every database
   * @param databases finds a database by name
   */
  public AdminServer(
      InetSocketAddress address,
      Supplier<String> metrics,
      Supplier<List<DatabaseStatus>> status,
      Function<String, Optional<DatabaseAgent>> databases) {
    try {
      server = HttpServer.create(address, 64);
    } catch (IOException e) {
      throw new PrimaryException("cannot listen on " + address + " for the admin API: " + e.getMessage(), e);
    }
    server.setExecutor(executor);
    server.createContext("/metrics", ex -> handle(ex, () -> respond(ex, 200,
        "text/plain; version=0.0.4; charset=utf-8", metrics.get())));
    server.createContext("/v1/status", ex -> handle(ex, () -> respond(ex, 200, "application/json",
        JSON.writeValueAsString(Map.of("databases", status.get())))));
    server.createContext("/v1/wait", ex -> handle(ex, () -> await(ex, databases)));
    server.start();
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  private interface Handler {
    void run() throws IOException, InterruptedException;
  }

  private static void handle(HttpExchange ex, Handler h) {
    try (ex) {
      if (!"GET".equals(ex.getRequestMethod())) {
        respond(ex, 405, "text/plain", "GET only\n");
        return;
      }
      h.run();
    } catch (IOException | UncheckedIOException e) {
      // client went away: nothing to answer
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void await(HttpExchange ex, Function<String, Optional<DatabaseAgent>> databases)
      throws IOException, InterruptedException {
    Map<String, String> q = query(ex.getRequestURI().getRawQuery());
    String db = q.get("db");
    long txid;
    long timeout;
    try {
      txid = q.containsKey("txid") ? Long.parseLong(q.get("txid")) : -1;
      timeout = Long.parseLong(q.getOrDefault("timeout_ms", "10000"));
    } catch (NumberFormatException e) {
      respond(ex, 400, "text/plain", "need db=NAME[&txid=N][&timeout_ms=T]\n");
      return;
    }
    if (db == null || timeout < 0 || timeout > 300_000) {
      respond(ex, 400, "text/plain", "need db=NAME[&txid=N][&timeout_ms=T<=300000]\n");
      return;
    }
    Optional<DatabaseAgent> agent = databases.apply(db);
    if (agent.isEmpty()) {
      respond(ex, 404, "text/plain", "no database named " + db + "\n");
      return;
    }
    boolean durable;
    if (txid < 0) {
      try {
        agent.get().syncNow(timeout);
        durable = true;
      } catch (IllegalStateException e) {
        durable = false;
      }
    } else {
      durable = agent.get().awaitDurable(txid, timeout);
    }
    if (durable) {
      ex.sendResponseHeaders(204, -1);
    } else if ("FENCED".equals(agent.get().status().state())) {
      respond(ex, 409, "text/plain", db + " is fenced: another primary writes it\n");
    } else {
      respond(ex, 408, "text/plain",
          "TXID " + txid + " of " + db + " not durable after " + timeout + " ms (durable: "
              + agent.get().durableTxid() + ")\n");
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> m = new HashMap<>();
    if (raw == null) {
      return m;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        m.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return m;
  }

  private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
