package dev.walship.cli;

import dev.walship.config.YamlConfig;
import dev.walship.primary.DatabaseOptions;
import dev.walship.primary.DatabaseStatus;
import dev.walship.primary.PrimaryAgent;
import dev.walship.primary.PrimaryConfig;
import dev.walship.primary.PrimaryException;
import dev.walship.store.ObjectStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code walship primary}: runs the primary agent beside an application's SQLite database(s),
 * shipping every commit to the bucket. Exit codes: 0 after a clean stop (SIGTERM/SIGINT, captured
 * commits drained first), 2 for a configuration or start-up error, 3 if every database was fenced
 * by another primary.
 */
@Command(
    name = "primary",
    mixinStandardHelpOptions = true,
    description = {
      "Ship every commit of a live SQLite database to object storage.",
      "One database: --db PATH --target URL. Many: --config walship.yml."
    })
public final class PrimaryCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(PrimaryCommand.class);

  @Option(names = "--db", paramLabel = "PATH", description = "The application's SQLite file.")
  Path db;

  @Option(
      names = "--target",
      paramLabel = "URL",
      description = "s3://bucket/prefix[?endpoint=..&path-style=true&region=..] or file:///dir")
  String target;

  @Option(names = "--name", description = "Key prefix in the bucket (default: file name without extension).")
  String name;

  @Option(
      names = "--sync-interval",
      defaultValue = "1s",
      description = "Upload at most once per interval; 0 = continuous (default: ${DEFAULT-VALUE}).")
  String syncInterval;

  @Option(names = "--checkpoint-pages", description = "PASSIVE checkpoint past this many WAL frames (default 1000).")
  Long checkpointPages;

  @Option(names = "--truncate-pages", description = "TRUNCATE checkpoint past this many WAL frames (default 121359, as Litestream).")
  Long truncatePages;

  @Option(
      names = "--checkpoint-interval",
      defaultValue = "1s",
      description = "At most one checkpoint (a brief write barrier) per interval, unless the WAL"
          + " passed 128 MiB or --truncate-pages; 0 = whenever --checkpoint-pages is reached (default: ${DEFAULT-VALUE}).")
  String checkpointInterval;

  @Option(
      names = "--snapshot-interval",
      defaultValue = "0",
      description = "Write a periodic snapshot to snapshots/ this often, e.g. 24h (default 0 = never).")
  String snapshotInterval;

  @Option(
      names = "--retention",
      defaultValue = "0",
      description = "Keep restore points this long, e.g. 24h; older snapshots and segments no restore"
          + " point or branch needs are deleted after a periodic snapshot, at most hourly"
          + " (default 0 = keep everything; implies --snapshot-interval 1h if that is unset).")
  String retention;

  @Option(
      names = "--compression",
      defaultValue = "lz4",
      description = "Page images in uploaded segments: lz4 (default) or none (less agent CPU).")
  String compression;

  @Option(names = "--admin", paramLabel = "HOST:PORT", description = "Admin API (metrics, status, wait), e.g. 127.0.0.1:9090.")
  String admin;

  @Option(names = "--config", paramLabel = "FILE", description = "walship.yml listing databases and/or directory globs.")
  Path config;

  private static dev.walship.format.Compression parseCompression(String c) {
    try {
      return dev.walship.format.Compression.valueOf(c.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new PrimaryException("--compression must be lz4 or none, got " + c);
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    List<DatabaseOptions> dbs;
    InetSocketAddress adminAddress;
    try {
      if (config != null) {
        if (db != null) {
          throw new PrimaryException("give either --config or --db, not both");
        }
        PrimaryConfig c = PrimaryConfig.load(config, System::getenv);
        dbs = c.databases();
        adminAddress = admin != null ? PrimaryConfig.address(admin) : c.admin();
      } else {
        if (db == null || target == null) {
          throw new PrimaryException("need --db PATH and --target URL (or --config FILE)");
        }
        DatabaseOptions o =
            DatabaseOptions.of(db, target).withSyncInterval(PrimaryConfig.parseDuration(syncInterval));
        if (name != null) {
          o = o.withName(name);
        }
        long passive = checkpointPages != null ? checkpointPages : o.checkpointPages();
        long truncate = truncatePages != null ? truncatePages : Math.max(passive, o.truncatePages());
        dbs = List.of(o.withCheckpointPages(passive, truncate)
            .withCheckpointInterval(PrimaryConfig.parseDuration(checkpointInterval))
            .withSnapshotInterval(PrimaryConfig.parseDuration(snapshotInterval))
            .withRetention(PrimaryConfig.parseDuration(retention))
            .withCompression(parseCompression(compression)));
        adminAddress = admin != null ? PrimaryConfig.address(admin) : null;
      }
    } catch (PrimaryException | IllegalArgumentException e) {
      System.err.println("walship primary: " + e.getMessage());
      return 2;
    }
    logEffectiveConfiguration(dbs, adminAddress);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PrimaryAgent agent =
        new PrimaryAgent(dbs, ObjectStores::open, registry, InstantSource.system(), adminAddress);
    try {
      agent.start();
    } catch (PrimaryException | IllegalArgumentException e) {
      System.err.println("walship primary: " + e.getMessage());
      return 2;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              agent.close();
              stopped.countDown();
            },
            "walship-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    while (!stopped.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
      if (agent.allStopped()) {
        for (DatabaseStatus s : agent.status()) {
          System.err.println("walship primary: " + s.db() + " " + s.state() + ": " + s.lastError());
        }
        Runtime.getRuntime().removeShutdownHook(hook);
        agent.close();
        return 3;
      }
    }
    return 0;
  }

  /** One line per database with every setting in effect (target URLs without secrets). */
  static void logEffectiveConfiguration(List<DatabaseOptions> dbs, InetSocketAddress adminAddress) {
    log.info("primary: {} database(s), admin API {}", dbs.size(),
        adminAddress == null ? "off" : adminAddress.getHostString() + ":" + adminAddress.getPort());
    for (DatabaseOptions o : dbs) {
      log.info("primary: database {} path={} target={} sync-interval={} checkpoint-pages={}"
              + " truncate-pages={} snapshot-interval={} retention={} compression={} spool-dir={}",
          o.name(), o.path(), YamlConfig.redactUrl(o.target()),
          YamlConfig.formatDuration(o.syncInterval()), o.checkpointPages(), o.truncatePages(),
          YamlConfig.formatDuration(o.snapshotInterval()), YamlConfig.formatDuration(o.retention()),
          o.compression().name().toLowerCase(java.util.Locale.ROOT), o.spoolDir());
    }
  }
}
