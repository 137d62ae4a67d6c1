package dev.walship.replica;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.walship.replica.hrana.HranaPipeline;
import dev.walship.replica.hrana.HranaStreams;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica's read-only HTTP server.
 *
 * <ul>
 *   <li>{@code POST /v2/pipeline}, {@code POST /v3/pipeline}: Hrana over HTTP, JSON encoding
 *       (HRANA_3_SPEC.md), on the default database; {@code /db/NAME/v2/pipeline} on database
 *       NAME. {@code GET /v2} and {@code GET /v3} answer 200.
 *   <li>Every answer about a database carries {@code Walship-Txid} (the TXID of the data read);
 *       {@code Walship-Stalled} says why a database stopped advancing. A request header {@code
 *       Walship-Min-Txid: N} waits up to the configured time for the replica to reach N, then
 *       answers 503 with a JSON error naming the current TXID.
 *   <li>{@code GET /health}, {@code GET /v1/status}, {@code GET /metrics} (Prometheus text).
 * </ul>
 *
 * <p>Errors are JSON ({@code {"message":...,"code":...}}) with {@code Content-Type:
 * application/json}. Requests run on the executor passed in (bound it: it is the server's
 * concurrency limit). Thread-safe.
 */
public final class ReplicaHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaHttpServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY_BYTES = 8 << 20;
  public static final String TXID_HEADER = "Walship-Txid";
  public static final String MIN_TXID_HEADER = "Walship-Min-Txid";
  public static final String STALLED_HEADER = "Walship-Stalled";

  private final HttpServer server;
  private final DatabaseCatalog catalog;
  private final HranaPipeline pipeline;
  private final Duration minTxidTimeout;
  private final MeterRegistry registry;
  private final Timer requestTimer;
  private final Counter requestErrors;

  private ReplicaHttpServer(
      HttpServer server,
      DatabaseCatalog catalog,
      HranaStreams streams,
      Duration minTxidTimeout,
      MeterRegistry registry) {
    this.server = server;
    this.catalog = catalog;
    this.pipeline = new HranaPipeline(streams);
    this.minTxidTimeout = minTxidTimeout;
    this.registry = registry;
    this.requestTimer =
        Timer.builder("walship_replica_pipeline")
            .description("Hrana pipeline requests, time to answer")
            .publishPercentileHistogram()
            .register(registry);
    this.requestErrors =
        Counter.builder("walship_replica_http_errors")
            .description("HTTP requests answered with a 4xx or 5xx status")
            .register(registry);
  }

  /**
   * Binds and starts the server.
   *
   * @param address where to listen (port 0 picks a free port, see {@link #port()})
   * @param executor runs the requests; bounded by the caller
   * @param minTxidTimeout how long a {@code Walship-Min-Txid} request waits
   * @throws IOException if the address cannot be bound
   */
  public static ReplicaHttpServer start(
      InetSocketAddress address,
      DatabaseCatalog catalog,
      HranaStreams streams,
      ExecutorService executor,
      Duration minTxidTimeout,
      MeterRegistry registry)
      throws IOException {
    HttpServer http = HttpServer.create(address, 256);
    ReplicaHttpServer s = new ReplicaHttpServer(http, catalog, streams, minTxidTimeout, registry);
    http.createContext("/", s::handle);
    http.setExecutor(executor);
    http.start();
    LOG.info("replica HTTP server listening on {}", http.getAddress());
    return s;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  // ---------------------------------------------------------------------------------------------

  private void handle(HttpExchange ex) {
    try (ex) {
      route(ex);
    } catch (IOException e) {
      LOG.debug("client went away: {}", e.getMessage());
    } catch (RuntimeException e) {
      LOG.error("unexpected failure answering {} {}", ex.getRequestMethod(), ex.getRequestURI(), e);
      try {
        sendError(ex, 500, "INTERNAL", "internal error: " + e);
      } catch (IOException ignored) {
        LOG.debug("could not send the 500 answer: {}", ignored.getMessage());
      }
    }
  }

  private void route(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    switch (path) {
      case "/health" -> {
        sendJson(ex, 200, JSON.createObjectNode().put("status", "ok"));
        return;
      }
      case "/v1/status" -> {
        sendJson(ex, 200, statusJson());
        return;
      }
      case "/metrics" -> {
        if (registry instanceof PrometheusMeterRegistry prometheus) {
          send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", prometheus.scrape().getBytes(StandardCharsets.UTF_8));
        } else {
          sendError(ex, 404, "NOT_FOUND", "metrics are not exported in Prometheus format here");
        }
        return;
      }
      default -> {
        // Hrana below
      }
    }
    String db;
    String rest;
    if (path.startsWith("/db/")) {
      int slash = path.indexOf('/', 4);
      db = slash < 0 ? path.substring(4) : path.substring(4, slash);
      rest = slash < 0 ? "" : path.substring(slash);
    } else {
      Optional<String> dflt = catalog.defaultDatabase();
      if (dflt.isEmpty() && isHranaPath(path)) {
        sendError(
            ex, 404, "NO_DEFAULT_DATABASE",
            "this replica has no default database; use /db/NAME" + path);
        return;
      }
      db = dflt.orElse("");
      rest = path;
    }
    if (!isHranaPath(rest)) {
      sendError(ex, 404, "NOT_FOUND", "no such endpoint: " + method + " " + path);
      return;
    }
    Optional<ServedDatabase> found = catalog.find(db);
    if (found.isEmpty()) {
      sendError(ex, 404, "DATABASE_NOT_FOUND", "this replica has no database named '" + db + "'");
      return;
    }
    if (rest.equals("/v2") || rest.equals("/v3") || rest.equals("/v2/") || rest.equals("/v3/")) {
      if (!method.equals("GET")) {
        sendError(ex, 405, "METHOD_NOT_ALLOWED", "use GET " + path);
        return;
      }
      sendJson(ex, 200, JSON.createObjectNode());
      return;
    }
    if (!method.equals("POST")) {
      sendError(ex, 405, "METHOD_NOT_ALLOWED", "use POST " + path);
      return;
    }
    pipeline(ex, found.get());
  }

  private static boolean isHranaPath(String rest) {
    return rest.equals("/v2")
        || rest.equals("/v3")
        || rest.equals("/v2/")
        || rest.equals("/v3/")
        || rest.equals("/v2/pipeline")
        || rest.equals("/v3/pipeline");
  }

  private void pipeline(HttpExchange ex, ServedDatabase db) throws IOException {
    long start = System.nanoTime();
    try {
      ServedDatabase.Health health = db.health();
      if (health.state() == ServedDatabase.Health.State.STALLED) {
        ex.getResponseHeaders().set(STALLED_HEADER, headerSafe(health.reason()));
      }
      if (health.state() == ServedDatabase.Health.State.UNAVAILABLE) {
        ex.getResponseHeaders().set(TXID_HEADER, Long.toString(db.txid()));
        sendError(
            ex, 503, "REPLICA_UNAVAILABLE",
            "database " + db.name() + " is not being served: " + health.reason());
        return;
      }
      String min = ex.getRequestHeaders().getFirst(MIN_TXID_HEADER);
      if (min != null) {
        long minTxid;
        try {
          minTxid = Long.parseLong(min.trim());
        } catch (NumberFormatException e) {
          sendError(ex, 400, "BAD_MIN_TXID", MIN_TXID_HEADER + " must be a decimal TXID, got '" + min + "'");
          return;
        }
        boolean reached;
        try {
          reached = db.awaitTxid(minTxid, minTxidTimeout);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          reached = false;
        }
        if (!reached) {
          long now = db.txid();
          ex.getResponseHeaders().set(TXID_HEADER, Long.toString(now));
          ObjectNode err =
              JSON.createObjectNode()
                  .put(
                      "message",
                      "database "
                          + db.name()
                          + " is at TXID "
                          + now
                          + ", below the requested "
                          + minTxid
                          + " after waiting "
                          + minTxidTimeout.toMillis()
                          + " ms"
                          + (health.reason() == null ? "" : " (" + health.reason() + ")"))
                  .put("code", "MIN_TXID_NOT_REACHED")
                  .put("txid", now)
                  .put("min_txid", minTxid);
          sendJson(ex, 503, err);
          return;
        }
      }
      JsonNode body;
      try (InputStream in = ex.getRequestBody()) {
        byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        if (bytes.length > MAX_BODY_BYTES) {
          sendError(ex, 413, "BODY_TOO_LARGE", "request body over " + MAX_BODY_BYTES + " bytes");
          return;
        }
        body = JSON.readTree(bytes);
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        sendError(ex, 400, "HRANA_PROTO_ERROR", "the body is not valid JSON: " + e.getOriginalMessage());
        return;
      }
      HranaPipeline.Outcome outcome;
      try {
        outcome = pipeline.run(db, body);
      } catch (IllegalArgumentException e) {
        sendError(ex, 400, "HRANA_PROTO_ERROR", e.getMessage());
        return;
      } catch (HranaStreams.StreamNotFoundException e) {
        ex.getResponseHeaders().set(TXID_HEADER, Long.toString(db.txid()));
        sendError(ex, 400, "STREAM_EXPIRED", e.getMessage());
        return;
      }
      ex.getResponseHeaders().set(TXID_HEADER, Long.toString(outcome.txid()));
      sendJson(ex, 200, outcome.body());
    } finally {
      requestTimer.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
  }

  private static String headerSafe(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), 300));
    for (int i = 0; i < s.length() && b.length() < 300; i++) {
      char c = s.charAt(i);
      b.append(c >= 0x20 && c < 0x7f ? c : ' ');
    }
    return b.toString();
  }

  private void sendError(HttpExchange ex, int status, String code, String message)
      throws IOException {
    sendJson(ex, status, JSON.createObjectNode().put("message", message).put("code", code));
  }

  private void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
    send(ex, status, "application/json", JSON.writeValueAsBytes(body));
  }

  private void send(HttpExchange ex, int status, String contentType, byte[] bytes)
      throws IOException {
    if (status >= 400) {
      requestErrors.increment();
    }
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private JsonNode statusJson() {
    ObjectNode root = JSON.createObjectNode();
    com.fasterxml.jackson.databind.node.ArrayNode dbs = root.putArray("databases");
    for (DatabaseCatalog.DatabaseStatus s : catalog.status()) {
      ObjectNode n = dbs.addObject();
      n.put("name", s.name());
      n.put("state", s.state());
      n.put("txid", s.txid());
      n.put("lag_seconds", s.lagSeconds());
      n.put("last_error", s.lastError());
      n.put("last_error_at_ms", s.lastErrorAtMillis());
    }
    return root;
  }
}
