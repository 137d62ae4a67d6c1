package dev.walship.replica;

import dev.walship.replica.hrana.HranaLimits;
import dev.walship.replica.hrana.HranaStreams;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A read server over fixed database files (no follower): a test passes it in and closes it.
 */
final class ServerFixture implements AutoCloseable {
  final Map<String, ServedDatabase> databases;
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final HranaStreams streams;
  final ExecutorService executor = Executors.newFixedThreadPool(8);
  final ReplicaHttpServer server;
  final HttpClient http = HttpClient.newHttpClient();

  ServerFixture(Map<String, ServedDatabase> databases, String defaultDb, HranaLimits limits)
      throws IOException {
    this.databases = databases;
    this.streams = new HranaStreams(limits, System::nanoTime, new SecureRandom());
    DatabaseCatalog catalog =
        new DatabaseCatalog() {
          @Override
          public Optional<ServedDatabase> find(String name) {
            return Optional.ofNullable(databases.get(name));
          }

          @Override
          public Optional<String> defaultDatabase() {
            return Optional.ofNullable(defaultDb);
          }

          @Override
          public List<DatabaseStatus> status() {
            return databases.values().stream()
                .map(
                    d ->
                        new DatabaseStatus(
                            d.name(), d.health().state().name(), d.txid(), 0, d.health().reason(), 0))
                .toList();
          }
        };
    this.server =
        ReplicaHttpServer.start(
            new InetSocketAddress("127.0.0.1", 0),
            catalog,
            streams,
            executor,
            Duration.ofMillis(300),
            registry);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.port();
  }

  HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl() + path))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(baseUrl() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A writable copy of Chinook plus walship_values, in rollback-journal mode. */
  static Path chinookCopy(Path dir) throws IOException, SQLException {
    Path file = dir.resolve("chinook.db");
    try (InputStream in = ServerFixture.class.getResourceAsStream("/chinook.sqlite")) {
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=DELETE");
      s.execute("CREATE TABLE walship_values (i INTEGER, f REAL, t TEXT, b BLOB, n)");
      s.execute(
          "INSERT INTO walship_values VALUES (9007199254740993, 3.25, 'héllo wörld \uD83C\uDF0D ''quoted''',"
              + " x'000102FDFEFF', NULL)");
      s.execute("INSERT INTO walship_values VALUES (-9223372036854775808, -0.0, '', x'', NULL)");
    }
    return file;
  }

  static ServedDatabase served(String name, Path file, long txid) {
    ServedDatabase db = new ServedDatabase(name, file, 4, Duration.ofSeconds(5), System::nanoTime);
    db.published(txid, System.currentTimeMillis());
    return db;
  }

  @Override
  public void close() {
    server.close();
    streams.close();
    executor.shutdownNow();
    databases.values().forEach(ServedDatabase::close);
  }
}
