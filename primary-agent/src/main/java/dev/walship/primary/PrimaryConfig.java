package dev.walship.primary;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code walship.yml} of the primary agent. {@code ${NAME}} and {@code ${NAME:-default}} are
 * replaced by environment variables before parsing (for secrets in target URLs).
 *
 * <pre>
 * target: s3://bucket/prefix?region=eu-west-1   # default target of every database
 * sync-interval: 1s                              # 0 = continuous
 * admin: 127.0.0.1:9090                          # admin API (omit for none)
 * checkpoint-pages: 1000                         # PASSIVE past this many WAL frames
 * truncate-pages: 20000                          # TRUNCATE past this many
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
 * Durations: {@code 250ms}, {@code 1s}, {@code 2m}, {@code 1h}, or {@code 0}. Unknown keys are
 * errors, so a typo is not silently ignored.
 *
 * @param databases every database to ship
 * @param admin admin API address, or null
 */
public record PrimaryConfig(List<DatabaseOptions> databases, InetSocketAddress admin) {
  private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Set<String> TOP =
      Set.of("target", "sync-interval", "admin", "checkpoint-pages", "truncate-pages",
          "checkpoint-interval", "databases",
          "directories", "spool-dir", "snapshot-interval", "compression", "retention-hours");
  private static final Set<String> DB = Set.of("path", "name", "target", "sync-interval");
  private static final Set<String> DIR = Set.of("glob", "target", "sync-interval");

  /** Reads and validates a config file; {@code env} resolves {@code ${NAME}}. */
  public static PrimaryConfig load(Path file, Function<String, String> env) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new PrimaryException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new PrimaryException("cannot read config file " + file + ": " + e.getMessage(), e);
    }
    return parse(expand(text, env), file.toAbsolutePath().getParent());
  }

  /** Replaces {@code ${NAME}} / {@code ${NAME:-default}}; an unset variable without default is an error. */
  static String expand(String text, Function<String, String> env) {
    Matcher m = ENV.matcher(text);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String v = env.apply(m.group(1));
      if (v == null) {
        v = m.group(2);
      }
      if (v == null) {
        throw new PrimaryException("config refers to ${" + m.group(1) + "} but it is not set");
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  static PrimaryConfig parse(String yaml, Path baseDir) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
    } catch (IOException e) {
      throw new PrimaryException("config is not valid YAML: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new PrimaryException("config must be a YAML mapping");
    }
    checkKeys(root, TOP, "config");
    String target = text(root, "target", null);
    Duration interval = duration(root, "sync-interval", DatabaseOptions.DEFAULT_SYNC_INTERVAL);
    long passive = number(root, "checkpoint-pages", DatabaseOptions.DEFAULT_CHECKPOINT_PAGES);
    long truncate = number(root, "truncate-pages", Math.max(passive, DatabaseOptions.DEFAULT_TRUNCATE_PAGES));
    Duration checkpointInterval =
        duration(root, "checkpoint-interval", DatabaseOptions.DEFAULT_CHECKPOINT_INTERVAL);
    String spool = text(root, "spool-dir", null);
    Duration snapshots = duration(root, "snapshot-interval", Duration.ZERO);
    Duration retention = retentionHours(root);
    dev.walship.format.Compression compression;
    try {
      compression = dev.walship.format.Compression.valueOf(
          text(root, "compression", "lz4").toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new PrimaryException("compression must be lz4 or none, got " + text(root, "compression", ""));
    }
    List<DatabaseOptions> out = new ArrayList<>();
    for (JsonNode d : root.path("databases")) {
      checkKeys(d, DB, "databases entry");
      String p = text(d, "path", null);
      if (p == null) {
        throw new PrimaryException("a databases entry has no path");
      }
      Path path = baseDir.resolve(p).normalize();
      DatabaseOptions o =
          DatabaseOptions.of(path, requireTarget(text(d, "target", target), path))
              .withSyncInterval(duration(d, "sync-interval", interval))
              .withCheckpointPages(passive, truncate)
              .withCheckpointInterval(checkpointInterval)
              .withSnapshotInterval(snapshots)
              .withRetention(retention)
              .withCompression(compression);
      String name = text(d, "name", null);
      if (name != null) {
        o = o.withName(name);
      }
      out.add(spool == null ? o : o.withSpoolDir(Path.of(spool, o.name())));
    }
    for (JsonNode d : root.path("directories")) {
      checkKeys(d, DIR, "directories entry");
      String glob = text(d, "glob", null);
      if (glob == null) {
        throw new PrimaryException("a directories entry has no glob");
      }
      for (Path path : expandGlob(baseDir, glob)) {
        DatabaseOptions o =
            DatabaseOptions.of(path, requireTarget(text(d, "target", target), path))
                .withSyncInterval(duration(d, "sync-interval", interval))
                .withCheckpointPages(passive, truncate)
                .withCheckpointInterval(checkpointInterval)
                .withSnapshotInterval(snapshots)
                .withRetention(retention)
                .withCompression(compression);
        out.add(spool == null ? o : o.withSpoolDir(Path.of(spool, o.name())));
      }
    }
    if (out.isEmpty()) {
      throw new PrimaryException("config lists no database (databases: or directories:)");
    }
    String admin = text(root, "admin", null);
    return new PrimaryConfig(out, admin == null ? null : address(admin));
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

  /** Parses {@code 0}, {@code 250ms}, {@code 1s}, {@code 2m}, {@code 1h}. */
  public static Duration parseDuration(String s) {
    Matcher m = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?").matcher(s.trim());
    if (!m.matches()) {
      throw new PrimaryException("not a duration: '" + s + "' (examples: 0, 250ms, 1s, 2m, 1h)");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? (n == 0 ? "s" : "") : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> throw new PrimaryException("duration '" + s + "' needs a unit: ms, s, m or h");
    };
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

  private static String requireTarget(String target, Path db) {
    if (target == null) {
      throw new PrimaryException("no target for " + db + ": set target: at the top or per database");
    }
    return target;
  }

  private static void checkKeys(JsonNode n, Set<String> allowed, String where) {
    if (!n.isObject()) {
      throw new PrimaryException(where + " must be a mapping");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      String k = it.next().getKey();
      if (!allowed.contains(k)) {
        throw new PrimaryException("unknown key '" + k + "' in " + where + " (known: " + new TreeSet<>(allowed) + ")");
      }
    }
  }

  private static String text(JsonNode n, String key, String dflt) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? dflt : v.asText();
  }

  private static long number(JsonNode n, String key, long dflt) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.canConvertToLong() || v.asLong() <= 0) {
      throw new PrimaryException(key + " must be a positive number of pages, got " + v);
    }
    return v.asLong();
  }

  /** {@code retention-hours: N}, a whole number of hours >= 0 (0 = keep everything). */
  private static Duration retentionHours(JsonNode n) {
    JsonNode v = n.get("retention-hours");
    if (v == null || v.isNull()) {
      return Duration.ZERO;
    }
    if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
      throw new PrimaryException(
          "retention-hours must be a whole number of hours >= 0 (0 = keep everything), got " + v);
    }
    return Duration.ofHours(v.asLong());
  }

  private static Duration duration(JsonNode n, String key, Duration dflt) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? dflt : parseDuration(v.asText());
  }
}
