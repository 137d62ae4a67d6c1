package dev.walship.replica;

import dev.walship.config.YamlConfig;
import dev.walship.replica.hrana.HranaLimits;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

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
 * The file is read with {@link YamlConfig}, the format both agents share: {@code ${NAME}} and
 * {@code ${NAME:-default}} are replaced from the environment inside values, and every mistake names
 * the file, line and field. Durations accept {@code 250ms}, {@code 1s}, {@code 5m}, {@code 1h} or
 * ISO-8601 ({@code PT1S}); max-response-bytes also {@code 16MiB}.
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

  private static final List<String> KNOWN =
      List.of("source", "dir", "listen", "databases", "default-database", "poll-interval",
          "gap-check-interval", "discovery-interval", "auto-rebootstrap", "min-txid-timeout",
          "query-timeout", "max-response-bytes", "stream-idle-timeout", "max-streams",
          "read-connections", "max-open-databases", "http-threads");

  /**
   * Reads a YAML file (keys above); command-line values are applied on top by the caller.
   *
   * @throws IllegalArgumentException ({@link dev.walship.config.ConfigException}) for an unknown
   *     key or a bad value, naming the file, line and field
   */
  public static ReplicaConfig fromYaml(Path file) {
    return fromYaml(file, null, null);
  }

  /**
   * As {@link #fromYaml(Path)}, with {@code source} and {@code dir} (when not null) replacing the
   * file's; {@code ${NAME}} comes from the process environment.
   */
  public static ReplicaConfig fromYaml(Path file, String sourceOverride, Path dirOverride) {
    return fromYaml(file, sourceOverride, dirOverride, System::getenv);
  }

  /** As {@link #fromYaml(Path, String, Path)}, with {@code env} resolving {@code ${NAME}}. */
  public static ReplicaConfig fromYaml(
      Path file, String sourceOverride, Path dirOverride, Function<String, String> env) {
    YamlConfig.Node n = YamlConfig.read(file, env).allowOnly(KNOWN);
    String src = sourceOverride != null ? sourceOverride : n.requireString("source");
    Path dirPath = dirOverride != null ? dirOverride : Path.of(n.requireString("dir"));
    ReplicaConfig d = of(src, dirPath);
    HranaLimits l = d.limits();
    return new ReplicaConfig(
        src,
        dirPath,
        n.has("listen") ? n.get("listen").as(ReplicaConfig::parseListen) : d.listen(),
        n.strings("databases"),
        n.string("default-database", null),
        positive(n, "poll-interval", d.pollInterval()),
        n.duration("gap-check-interval", d.gapCheckInterval()),
        positive(n, "discovery-interval", d.discoveryInterval()),
        n.bool("auto-rebootstrap", false),
        n.duration("min-txid-timeout", d.minTxidTimeout()),
        new HranaLimits(
            positive(n, "query-timeout", l.queryTimeout()),
            responseBytes(n, l.maxResponseBytes()),
            n.duration("stream-idle-timeout", l.streamIdleTimeout()),
            atLeastOne(n, "max-streams", l.maxStreams())),
        atLeastOne(n, "read-connections", d.readConnections()),
        atLeastOne(n, "max-open-databases", d.maxOpenDatabases()),
        atLeastOne(n, "http-threads", d.httpThreads()));
  }

  private static Duration positive(YamlConfig.Node n, String key, Duration dflt) {
    Duration v = n.duration(key, dflt);
    if (v.isNegative() || v.isZero()) {
      throw n.get(key).error("must be longer than 0, got '" + n.get(key).text() + "'");
    }
    return v;
  }

  private static long responseBytes(YamlConfig.Node n, long dflt) {
    long v = n.size("max-response-bytes", dflt);
    if (v < 1024) {
      throw n.get("max-response-bytes").error("must be at least 1024 (1KiB), got " + v);
    }
    return v;
  }

  private static int atLeastOne(YamlConfig.Node n, String key, int dflt) {
    int v = n.integer(key, dflt);
    if (v < 1) {
      throw n.get(key).error("must be at least 1, got " + v);
    }
    return v;
  }

  /** {@code 250ms}, {@code 1s}, {@code 5m}, {@code 1h}, {@code 0} or ISO-8601 ({@code PT1S}). */
  public static Duration parseDuration(String s) {
    return YamlConfig.parseDuration(s);
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
