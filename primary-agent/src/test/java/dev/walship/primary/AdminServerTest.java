package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.store.testing.InProcessS3;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The admin API over real HTTP: status, wait-for-durable, metrics. */
class AdminServerTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();
  @TempDir Path dir;

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void statusWaitAndMetrics() throws Exception {
    Path db = dir.resolve("shop.db");
    Harness h = new Harness(S3, dir);
    try (AppProcess app = AppProcess.start(db, 0)) {
      app.run("sql CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
      DatabaseOptions o = h.options(db).withSyncInterval(Duration.ofMillis(500));
      try (PrimaryAgent agent =
          new PrimaryAgent(List.of(o), url -> S3.open(h.prefix),
              new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), InstantSource.system(),
              new InetSocketAddress("127.0.0.1", 0))) {
        agent.start();
        int port = agent.adminPort();
        app.run("insert 20 100");
        // wait without a TXID: everything committed before the request becomes durable
        HttpResponse<String> w = get(port, "/v1/wait?db=shop&timeout_ms=20000");
        assertEquals(204, w.statusCode(), w.body());
        DatabaseAgent shop = agent.database("shop").orElseThrow();
        assertTrue(shop.durableTxid() >= 21, "snapshot + 20 commits durable: " + shop.durableTxid());
        assertEquals(204, get(port, "/v1/wait?db=shop&txid=" + shop.durableTxid()).statusCode());
        HttpResponse<String> late = get(port, "/v1/wait?db=shop&txid=999999&timeout_ms=100");
        assertEquals(408, late.statusCode());
        assertEquals(404, get(port, "/v1/wait?db=nope&txid=1").statusCode());
        assertEquals(400, get(port, "/v1/wait?db=shop&txid=x").statusCode());
        HttpResponse<String> status = get(port, "/v1/status");
        assertEquals(200, status.statusCode());
        assertTrue(status.body().contains("\"db\":\"shop\""), status.body());
        assertTrue(status.body().contains("\"durable_txid\":" + shop.durableTxid()), status.body());
        HttpResponse<String> metrics = get(port, "/metrics");
        assertTrue(metrics.body().contains("walship_primary_durable_txid{db=\"shop\"} "
            + shop.durableTxid() + ".0"), metrics.body());
        assertTrue(metrics.body().contains("walship_primary_uploaded_objects_total{db=\"shop\"}"));
        assertTrue(metrics.body().contains("walship_primary_wal_extensions{db=\"shop\"}"));
      }
    } finally {
      h.close();
    }
  }
}
