package dev.walship.primary;

import dev.walship.config.ConfigException;
import dev.walship.config.YamlConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The {@code walship.yml} of the primary agent, read with {@link YamlConfig} (the format both agents
 * share): {@code ${NAME}} and {@code ${NAME:-default}} are replaced from the environment inside
 * values, and every mistake names the file, line and field.
 *
 * <pre>
 * target: s3://bucket/prefix?region=eu-west-1   # default target of every database
 * sync-interval: 1s                              # 0 = continuous
 * admin: 127.0.0.1:9090                          # admin API (omit for none)
 * checkpoint-pages: 1000                         # PASSIVE past this many WAL frames
 * truncate-pages: 121359                         # TRUNCATE past this many
 * checkpoint-interval: 1s                        # at most one checkpoint per interval (unless
 *                                                #   past truncate-pages)
 * snapshot-interval: 24h                         # periodic snapshots/ (default 0 = none)
 * retention-hours: 24                            # keep restore points 24 h (default 0 = forever;
 *                                                #   implies snapshot-interval 1h if unset)
 * compression: lz4                               # lz4 (default) or none
 * databases:
 *   - path: /data/app.db
 *     name: app                                  # key prefix; default: file name without extension
 *     target: s3://other-bucket/x                # per-database override
 *     sync-interval: 0s
 * directories:
 *   - glob: /data/tenants/*.db                   # every matching file, name = file name w/o ext
 *     target: s3://bucket/tenants
 * </pre>
 *
 * Durations: {@code 250ms}, {@code 1s}, {@code 2m}, {@code 1h}, {@code 0} or ISO-8601. Unknown keys
 * are errors, so a typo is not silently ignored.
 *
 * @param databases every database to ship
 * @param admin admin API address, or null
 */
public record PrimaryConfig(List<DatabaseOptions> databases, InetSocketAddress admin) {
  private static final Set<String> TOP =
      Set.of("target", "sync-interval", "admin", "checkpoint-pages", "truncate-pages",
          "checkpoint-interval", "databases",
          "directories", "spool-dir", "snapshot-interval", "compression", "retention-hours");
  private static final Set<String> DB = Set.of("path", "name", "target", "sync-interval");
  private static final Set<String> DIR = Set.of("glob", "target", "sync-interval");

  /** Reads and validates a config file; {@code env} resolves {@code ${NAME}}. */
  public static PrimaryConfig load(Path file, Function<String, String> env) {
    try {
      return parse(YamlConfig.read(file, env), file.toAbsolutePath().getParent());
    } catch (ConfigException e) {
      throw new PrimaryException(e.getMessage(), e);
    }
  }

  /** Parses {@code yaml} as a file in {@code baseDir} (no environment: {@code ${NAME}} is an error). */
  static PrimaryConfig parse(String yaml, Path baseDir) {
    try {
      return parse(YamlConfig.parse(yaml, baseDir.resolve("walship.yml"), k -> null), baseDir);
    } catch (ConfigException e) {
      throw new PrimaryException(e.getMessage(), e);
    }
  }

  static PrimaryConfig parse(YamlConfig.Node root, Path baseDir) {
    root.allowOnly(TOP);
    String target = root.string("target", null);
    Duration interval = root.duration("sync-interval", DatabaseOptions.DEFAULT_SYNC_INTERVAL);
    long passive = number(root, "checkpoint-pages", DatabaseOptions.DEFAULT_CHECKPOINT_PAGES);
    long truncate = number(root, "truncate-pages", Math.max(passive, DatabaseOptions.DEFAULT_TRUNCATE_PAGES));
    Duration checkpointInterval =
        root.duration("checkpoint-interval", DatabaseOptions.DEFAULT_CHECKPOINT_INTERVAL);
    String spool = root.string("spool-dir", null);
    Duration snapshots = root.duration("snapshot-interval", Duration.ZERO);
    Duration retention = retentionHours(root);
    dev.walship.format.Compression compression =
        root.has("compression") ? root.get("compression").as(PrimaryConfig::compression)
            : dev.walship.format.Compression.LZ4;
    List<DatabaseOptions> out = new ArrayList<>();
    for (YamlConfig.Node d : root.list("databases")) {
      d.allowOnly(DB);
      d.requireString("path");
      Path path = d.path("path", null);
      DatabaseOptions o =
          DatabaseOptions.of(path, requireTarget(d, target, path))
              .withSyncInterval(d.duration("sync-interval", interval))
              .withCheckpointPages(passive, truncate)
              .withCheckpointInterval(checkpointInterval)
              .withSnapshotInterval(snapshots)
              .withRetention(retention)
              .withCompression(compression);
      String name = d.string("name", null);
      if (name != null) {
        o = o.withName(name);
      }
      out.add(spool == null ? o : o.withSpoolDir(Path.of(spool, o.name())));
    }
    for (YamlConfig.Node d : root.list("directories")) {
      d.allowOnly(DIR);
      String glob = d.requireString("glob");
      List<Path> found;
      try {
        found = expandGlob(baseDir, glob);
      } catch (PrimaryException e) {
        throw d.get("glob").error(e.getMessage());
      }
      for (Path path : found) {
        DatabaseOptions o =
            DatabaseOptions.of(path, requireTarget(d, target, path))
                .withSyncInterval(d.duration("sync-interval", interval))
                .withCheckpointPages(passive, truncate)
                .withCheckpointInterval(checkpointInterval)
                .withSnapshotInterval(snapshots)
                .withRetention(retention)
                .withCompression(compression);
        out.add(spool == null ? o : o.withSpoolDir(Path.of(spool, o.name())));
      }
    }
    if (out.isEmpty()) {
      throw root.error("lists no database (databases: or directories:)");
    }
    return new PrimaryConfig(out, root.has("admin") ? root.get("admin").as(PrimaryConfig::adminAddress) : null);
  }

  /** Parses {@code host:port} (IPv4 or name; the admin API is meant for loopback). */
  public static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    try {
      if (colon < 0) {
        return new InetSocketAddress("127.0.0.1", Integer.parseInt(hostPort));
      }
      return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new PrimaryException("admin address must be host:port, got '" + hostPort + "'");
    }
  }

  /** Parses {@code 0}, {@code 250ms}, {@code 1s}, {@code 2m}, {@code 1h} or ISO-8601 ({@code PT1S}). */
  public static Duration parseDuration(String s) {
    try {
      return YamlConfig.parseDuration(s);
    } catch (IllegalArgumentException e) {
      throw new PrimaryException(e.getMessage(), e);
    }
  }

  private static InetSocketAddress adminAddress(String hostPort) {
    try {
      return address(hostPort);
    } catch (PrimaryException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static dev.walship.format.Compression compression(String c) {
    try {
      return dev.walship.format.Compression.valueOf(c.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("compression must be lz4 or none, got '" + c + "'");
    }
  }

  private static List<Path> expandGlob(Path baseDir, String glob) {
    Path pattern = baseDir.resolve(glob);
    Path dir = pattern.getParent();
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
    Set<Path> found = new TreeSet<>();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new PrimaryException("directory glob " + glob + ": " + dir + " is not a directory");
    }
    try (Stream<Path> files = Files.list(dir)) {
      files.filter(Files::isRegularFile).filter(matcher::matches).forEach(found::add);
    } catch (IOException e) {
      throw new PrimaryException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    return List.copyOf(found);
  }

  private static String requireTarget(YamlConfig.Node d, String target, Path db) {
    String t = d.string("target", target);
    if (t == null) {
      throw d.error("no target for " + db + ": set target: at the top or per database");
    }
    return t;
  }

  private static long number(YamlConfig.Node n, String key, long dflt) {
    long v = n.longValue(key, dflt);
    if (v <= 0) {
      throw n.get(key).error("must be a positive number of pages, got " + v);
    }
    return v;
  }

  /** {@code retention-hours: N}, a whole number of hours >= 0 (0 = keep everything). */
  private static Duration retentionHours(YamlConfig.Node n) {
    YamlConfig.Node v = n.get("retention-hours");
    if (v == null) {
      return Duration.ZERO;
    }
    long hours;
    try {
      hours = Long.parseLong(v.text().trim());
    } catch (NumberFormatException e) {
      hours = -1;
    }
    if (hours < 0) {
      throw v.error("must be a whole number of hours >= 0 (0 = keep everything), got '" + v.text() + "'");
    }
    return Duration.ofHours(hours);
  }
}
