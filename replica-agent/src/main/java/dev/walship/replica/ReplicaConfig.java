package dev.walship.replica;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.walship.replica.hrana.HranaLimits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Everything a replica agent needs to run, from the command line or a YAML file.
 *
 * <pre>
 * source: s3://bucket/prefix?endpoint=...   # required
 * dir: /var/lib/walship/replica              # required
 * listen: 127.0.0.1:8080
 * databases: [app, tenants-1]                # empty: every database under the prefix
 * default-database: app                      # served at /v2/pipeline (default: the only one)
 * poll-interval: 1s                          # 50ms for low lag
 * gap-check-interval: 5m
 * discovery-interval: 5m
 * auto-rebootstrap: false
 * min-txid-timeout: 5s
 * query-timeout: 5s
 * max-response-bytes: 16777216
 * stream-idle-timeout: 10s
 * max-streams: 1000
 * read-connections: 8
 * max-open-databases: 1000
 * http-threads: 16
 * </pre>
 *
 * Durations accept {@code 250ms}, {@code 1s}, {@code 5m}, {@code 1h} or ISO-8601 ({@code PT1S}).
 */
public record ReplicaConfig(
    String source,
    Path dir,
    InetSocketAddress listen,
    List<String> databases,
    String defaultDatabase,
    Duration pollInterval,
    Duration gapCheckInterval,
    Duration discoveryInterval,
    boolean autoRebootstrap,
    Duration minTxidTimeout,
    HranaLimits limits,
    int readConnections,
    int maxOpenDatabases,
    int httpThreads) {

  public ReplicaConfig {
    if (source == null || source.isBlank()) {
      throw new IllegalArgumentException("source (the bucket URL) is required");
    }
    if (dir == null) {
      throw new IllegalArgumentException("dir (where replica files live) is required");
    }
    databases = List.copyOf(databases);
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("poll-interval must be positive, got " + pollInterval);
    }
    if (readConnections < 1 || maxOpenDatabases < 1 || httpThreads < 1) {
      throw new IllegalArgumentException(
          "read-connections, max-open-databases and http-threads must be >= 1");
    }
  }

  /** Defaults for everything but source and dir. */
  public static ReplicaConfig of(String source, Path dir) {
    return new ReplicaConfig(
        source,
        dir,
        new InetSocketAddress("127.0.0.1", 8080),
        List.of(),
        null,
        Duration.ofSeconds(1),
        Duration.ofMinutes(5),
        Duration.ofMinutes(5),
        false,
        Duration.ofSeconds(5),
        HranaLimits.defaults(),
        8,
        1000,
        16);
  }

  public ReplicaConfig withListen(InetSocketAddress a) {
    return new ReplicaConfig(source, dir, a, databases, defaultDatabase, pollInterval,
        gapCheckInterval, discoveryInterval, autoRebootstrap, minTxidTimeout, limits,
        readConnections, maxOpenDatabases, httpThreads);
  }

  public ReplicaConfig withDatabases(List<String> dbs, String dflt) {
    return new ReplicaConfig(source, dir, listen, dbs, dflt, pollInterval,
        gapCheckInterval, discoveryInterval, autoRebootstrap, minTxidTimeout, limits,
        readConnections, maxOpenDatabases, httpThreads);
  }

  public ReplicaConfig withPolling(Duration poll, Duration gapCheck, boolean rebootstrap) {
    return new ReplicaConfig(source, dir, listen, databases, defaultDatabase, poll,
        gapCheck, discoveryInterval, rebootstrap, minTxidTimeout, limits,
        readConnections, maxOpenDatabases, httpThreads);
  }

  public ReplicaConfig withCapacity(int readConnectionsPerDb, int openDatabases) {
    return new ReplicaConfig(source, dir, listen, databases, defaultDatabase, pollInterval,
        gapCheckInterval, discoveryInterval, autoRebootstrap, minTxidTimeout, limits,
        readConnectionsPerDb, openDatabases, httpThreads);
  }

  public ReplicaConfig withReads(Duration minTxidWait, HranaLimits hranaLimits) {
    return new ReplicaConfig(source, dir, listen, databases, defaultDatabase, pollInterval,
        gapCheckInterval, discoveryInterval, autoRebootstrap, minTxidWait, hranaLimits,
        readConnections, maxOpenDatabases, httpThreads);
  }

  /**
   * Reads a YAML file (keys above); command-line values are applied on top by the caller.
   *
   * @throws IllegalArgumentException for an unknown key or a bad value (names both)
   */
  public static ReplicaConfig fromYaml(Path file) {
    return fromYaml(file, null, null);
  }

  /**
   * As {@link #fromYaml(Path)}, with {@code source} and {@code dir} (when not null) replacing the
   * file's.
   */
  public static ReplicaConfig fromYaml(Path file, String sourceOverride, Path dirOverride) {
    JsonNode n;
    try {
      n = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read replica config " + file, e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException(file + ": expected a YAML mapping");
    }
    List<String> known =
        List.of("source", "dir", "listen", "databases", "default-database", "poll-interval",
            "gap-check-interval", "discovery-interval", "auto-rebootstrap", "min-txid-timeout",
            "query-timeout", "max-response-bytes", "stream-idle-timeout", "max-streams",
            "read-connections", "max-open-databases", "http-threads");
    n.fieldNames().forEachRemaining(k -> {
      if (!known.contains(k)) {
        throw new IllegalArgumentException(file + ": unknown key '" + k + "' (known: " + known + ")");
      }
    });
    String src = sourceOverride != null ? sourceOverride : n.path("source").asText("");
    Path dirPath =
        dirOverride != null ? dirOverride : n.hasNonNull("dir") ? Path.of(n.get("dir").asText()) : null;
    ReplicaConfig d = of(src.isEmpty() ? "-" : src, Path.of("."));
    List<String> dbs = new ArrayList<>();
    n.path("databases").forEach(x -> dbs.add(x.asText()));
    HranaLimits l = d.limits();
    return new ReplicaConfig(
        src,
        dirPath,
        n.has("listen") ? parseListen(n.get("listen").asText()) : d.listen(),
        dbs,
        n.hasNonNull("default-database") ? n.get("default-database").asText() : null,
        duration(n, "poll-interval", d.pollInterval()),
        duration(n, "gap-check-interval", d.gapCheckInterval()),
        duration(n, "discovery-interval", d.discoveryInterval()),
        n.path("auto-rebootstrap").asBoolean(false),
        duration(n, "min-txid-timeout", d.minTxidTimeout()),
        new HranaLimits(
            duration(n, "query-timeout", l.queryTimeout()),
            n.path("max-response-bytes").asLong(l.maxResponseBytes()),
            duration(n, "stream-idle-timeout", l.streamIdleTimeout()),
            n.path("max-streams").asInt(l.maxStreams())),
        n.path("read-connections").asInt(d.readConnections()),
        n.path("max-open-databases").asInt(d.maxOpenDatabases()),
        n.path("http-threads").asInt(d.httpThreads()));
  }

  private static Duration duration(JsonNode n, String key, Duration dflt) {
    return n.hasNonNull(key) ? parseDuration(n.get(key).asText()) : dflt;
  }

  /** {@code 250ms}, {@code 1s}, {@code 5m}, {@code 1h}, or ISO-8601. */
  public static Duration parseDuration(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    try {
      if (v.startsWith("pt") || v.startsWith("p")) {
        return Duration.parse(s.trim().toUpperCase(Locale.ROOT));
      }
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2).trim()));
      }
      long n = Long.parseLong(v.substring(0, v.length() - 1).trim());
      return switch (v.charAt(v.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new IllegalArgumentException("unknown unit");
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "bad duration '" + s + "' (use 250ms, 1s, 5m, 1h or ISO-8601 like PT1S)", e);
    }
  }

  /** {@code host:port}, {@code :port} or {@code port}. */
  public static InetSocketAddress parseListen(String s) {
    int colon = s.lastIndexOf(':');
    String host = colon <= 0 ? "127.0.0.1" : s.substring(0, colon);
    try {
      int port = Integer.parseInt(colon < 0 ? s : s.substring(colon + 1));
      return new InetSocketAddress(host, port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad listen address '" + s + "' (use HOST:PORT)", e);
    }
  }
}
