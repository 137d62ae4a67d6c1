package dev.walship.cli;

import dev.walship.config.YamlConfig;
import dev.walship.replica.ReplicaAgent;
import dev.walship.replica.ReplicaConfig;
import dev.walship.replica.hrana.HranaLimits;
import dev.walship.store.ObjectStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code walship replica}: follows databases in a bucket and serves them read-only over Hrana
 * HTTP until interrupted.
 */
@Command(
    name = "replica",
    mixinStandardHelpOptions = true,
    description = {
      "Follow databases in a bucket and serve reads over HTTP (Hrana, works with @libsql/client).",
      "Example: walship replica --source s3://bucket/prefix?endpoint=http://127.0.0.1:9000"
          + " --dir /var/lib/walship --listen 127.0.0.1:8080 --db app --poll-interval 50ms"
    })
public final class ReplicaCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ReplicaCommand.class);

  @Option(names = "--config", description = "YAML file; command-line options override it")
  Path configFile;

  @Option(names = "--source", description = "bucket URL: s3://bucket/prefix?endpoint=... or file:///dir")
  String source;

  @Option(names = "--dir", description = "directory for replica files")
  Path dir;

  @Option(names = "--listen", description = "HOST:PORT to serve on (default 127.0.0.1:8080)")
  String listen;

  @Option(names = "--db", description = "database to follow (repeatable; default: every database under the prefix)")
  List<String> databases = new ArrayList<>();

  @Option(names = "--default-db", description = "database served at /v2/pipeline (default: the only one)")
  String defaultDb;

  @Option(names = "--poll-interval", description = "delay between polls when caught up (default 1s; 50ms for low lag)")
  String pollInterval;

  @Option(names = "--auto-rebootstrap", description = "re-bootstrap from the latest snapshot when a database cannot advance")
  Boolean autoRebootstrap;

  @Option(names = "--min-txid-timeout", description = "how long a Walship-Min-Txid request waits (default 5s)")
  String minTxidTimeout;

  @Option(names = "--query-timeout", description = "time limit per statement (default 5s)")
  String queryTimeout;

  @Override
  public Integer call() throws Exception {
    ReplicaConfig c;
    try {
      c = configuration();
    } catch (IllegalArgumentException e) {
      System.err.println("walship replica: " + e.getMessage());
      return 2;
    }
    logEffectiveConfiguration(c);
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4);
    ExecutorService http = Executors.newFixedThreadPool(c.httpThreads());
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CountDownLatch stop = new CountDownLatch(1);
    ReplicaAgent agent =
        new ReplicaAgent(c, ObjectStores.open(c.source()), Clock.systemUTC(), scheduler, http,
            registry, System::nanoTime);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      scheduler.shutdownNow();
      http.shutdownNow();
      stop.countDown();
    }, "walship-replica-shutdown"));
    agent.start();
    System.out.println("walship replica: serving " + agent.status().size() + " database(s) on http://"
        + c.listen().getHostString() + ":" + agent.port() + " (status: /v1/status, metrics: /metrics)");
    stop.await();
    return 0;
  }

  /** The file's settings (if any) with the command-line options on top. */
  private ReplicaConfig configuration() {
    ReplicaConfig c;
    if (configFile != null) {
      c = ReplicaConfig.fromYaml(configFile, source, dir);
    } else {
      if (source == null || dir == null) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(this), "--source and --dir are required (or --config FILE)");
      }
      c = ReplicaConfig.of(source, dir);
    }
    if (listen != null) {
      c = c.withListen(ReplicaConfig.parseListen(listen));
    }
    if (!databases.isEmpty() || defaultDb != null) {
      c = c.withDatabases(databases.isEmpty() ? c.databases() : databases,
          defaultDb != null ? defaultDb : c.defaultDatabase());
    }
    if (pollInterval != null || autoRebootstrap != null) {
      c = c.withPolling(
          pollInterval == null ? c.pollInterval() : ReplicaConfig.parseDuration(pollInterval),
          c.gapCheckInterval(),
          autoRebootstrap == null ? c.autoRebootstrap() : autoRebootstrap);
    }
    if (minTxidTimeout != null || queryTimeout != null) {
      HranaLimits l = c.limits();
      c = c.withReads(
          minTxidTimeout == null ? c.minTxidTimeout() : ReplicaConfig.parseDuration(minTxidTimeout),
          new HranaLimits(
              queryTimeout == null ? l.queryTimeout() : ReplicaConfig.parseDuration(queryTimeout),
              l.maxResponseBytes(), l.streamIdleTimeout(), l.maxStreams()));
    }
    return c;
  }

  /** One line with every setting in effect (the source URL without secrets). */
  static void logEffectiveConfiguration(ReplicaConfig c) {
    log.info("replica: source={} dir={} listen={}:{} databases={} default-database={} poll-interval={}"
            + " gap-check-interval={} discovery-interval={} auto-rebootstrap={} min-txid-timeout={}"
            + " query-timeout={} max-response-bytes={} stream-idle-timeout={} max-streams={}"
            + " read-connections={} max-open-databases={} http-threads={}",
        YamlConfig.redactUrl(c.source()), c.dir(), c.listen().getHostString(), c.listen().getPort(),
        c.databases().isEmpty() ? "(every database under the prefix)" : c.databases(),
        c.defaultDatabase(), YamlConfig.formatDuration(c.pollInterval()),
        YamlConfig.formatDuration(c.gapCheckInterval()), YamlConfig.formatDuration(c.discoveryInterval()),
        c.autoRebootstrap(), YamlConfig.formatDuration(c.minTxidTimeout()),
        YamlConfig.formatDuration(c.limits().queryTimeout()), c.limits().maxResponseBytes(),
        YamlConfig.formatDuration(c.limits().streamIdleTimeout()), c.limits().maxStreams(),
        c.readConnections(), c.maxOpenDatabases(), c.httpThreads());
  }
}
