package dev.walship.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one configuration format of walship's agents: a YAML file read into a tree that remembers
 * the line of every key and value, so every mistake is reported as
 * {@code FILE line N, FIELD: problem} ({@link ConfigException}).
 *
 * <p>{@code ${NAME}} and {@code ${NAME:-default}} are replaced from the environment inside scalar
 * values only (never in keys or comments, which the YAML parser drops); {@code :-} uses the default
 * when the variable is unset or empty, as a shell does; an unset variable without a default is an
 * error. Typed getters parse the (expanded) text: durations {@code 0}, {@code 250ms}, {@code 1s},
 * {@code 5m}, {@code 1h} or ISO-8601 ({@code PT1S}); sizes {@code 16777216}, {@code 64KiB},
 * {@code 16MiB}, {@code 1GiB} (or decimal kB/MB/GB); booleans {@code true}/{@code false}; paths
 * relative to the directory of the configuration file.
 */
public final class YamlConfig {
  private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?");
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([A-Za-z]*)");

  private YamlConfig() {}

  /** Reads {@code file}; {@code env} resolves {@code ${NAME}} (e.g. {@code System::getenv}). */
  public static Node read(Path file, Function<String, String> env) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file, 0, "", "config file does not exist", e);
    } catch (IOException e) {
      throw new ConfigException(file, 0, "", "cannot read config file: " + e.getMessage(), e);
    }
    return parse(text, file, env);
  }

  /** Parses {@code text} as if read from {@code file}; the root must be a mapping. */
  public static Node parse(String text, Path file, Function<String, String> env) {
    Path base = file.toAbsolutePath().getParent();
    try (JsonParser p = new YAMLFactory().createParser(text)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        return new Node(file, base, "", 1, Kind.MAP, null, new LinkedHashMap<>(), Map.of(), List.of());
      }
      Node root = read(p, file, base, "", 0, env);
      if (root.kind != Kind.MAP) {
        throw new ConfigException(file, root.line, "", "expected a YAML mapping of keys to values");
      }
      return root;
    } catch (IOException e) {
      int line = 0;
      String msg = e.getMessage();
      if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException y) {
        line = y.getProblemMark() == null ? 0 : y.getProblemMark().getLine() + 1;
        msg = (y.getContext() == null ? "" : y.getContext() + ": ") + y.getProblem();
      } else if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j) {
        line = j.getLocation() == null ? 0 : Math.max(j.getLocation().getLineNr(), 0);
        msg = j.getOriginalMessage();
      }
      throw new ConfigException(file, line, "", "not valid YAML: " + msg, e);
    }
  }

  /** Reads the value at the current token; {@code keyLine} (if > 0) is the line of its key. */
  private static Node read(JsonParser p, Path file, Path base, String path, int keyLine,
      Function<String, String> env) throws IOException {
    int line = keyLine > 0 ? keyLine : p.currentTokenLocation().getLineNr();
    JsonToken t = p.currentToken();
    if (t == JsonToken.START_OBJECT) {
      Map<String, Node> fields = new LinkedHashMap<>();
      Map<String, Integer> keyLines = new LinkedHashMap<>();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        int at = p.currentTokenLocation().getLineNr();
        String child = path.isEmpty() ? key : path + "." + key;
        if (fields.containsKey(key)) {
          throw new ConfigException(file, at, child,
              "duplicate key (first given on line " + keyLines.get(key) + ")");
        }
        p.nextToken();
        keyLines.put(key, at);
        fields.put(key, read(p, file, base, child, at, env));
      }
      return new Node(file, base, path, line, Kind.MAP, null, fields, keyLines, List.of());
    }
    if (t == JsonToken.START_ARRAY) {
      List<Node> items = new ArrayList<>();
      while (p.nextToken() != JsonToken.END_ARRAY) {
        items.add(read(p, file, base, path + "[" + items.size() + "]", 0, env));
      }
      return new Node(file, base, path, line, Kind.LIST, null, Map.of(), Map.of(), items);
    }
    if (t == JsonToken.VALUE_NULL) {
      return new Node(file, base, path, line, Kind.NULL, null, Map.of(), Map.of(), List.of());
    }
    String text = p.getText();
    if (t == JsonToken.VALUE_STRING) {
      text = expand(text, env, file, line, path);
    }
    return new Node(file, base, path, line, Kind.SCALAR, text, Map.of(), Map.of(), List.of());
  }

  private static String expand(String text, Function<String, String> env, Path file, int line, String path) {
    Matcher m = ENV.matcher(text);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String v = env.apply(m.group(1));
      if ((v == null || v.isEmpty()) && m.group(2) != null) {
        v = m.group(2);
      }
      if (v == null) {
        throw new ConfigException(file, line, path,
            "${" + m.group(1) + "} is not set (set it, or write ${" + m.group(1) + ":-default})");
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /**
   * Parses {@code 0}, {@code 250ms}, {@code 1s}, {@code 2m}, {@code 1h} or ISO-8601 ({@code PT0.5S}).
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parseDuration(String s) {
    String v = s.trim();
    if (v.length() > 1 && (v.charAt(0) == 'P' || v.charAt(0) == 'p')) {
      try {
        return Duration.parse(v.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(durationProblem(s), e);
      }
    }
    Matcher m = DURATION.matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException(durationProblem(s));
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(durationProblem(s), e);
    }
    if (m.group(2) == null) {
      if (n == 0) {
        return Duration.ZERO;
      }
      throw new IllegalArgumentException("expected a duration with a unit (ms, s, m or h), got '" + s + "'");
    }
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  private static String durationProblem(String s) {
    return "expected a duration like 1s or 250ms (also 0, 5m, 1h, PT1S), got '" + s + "'";
  }

  /** Parses a byte count: {@code 16777216}, {@code 64KiB}, {@code 16MiB}, {@code 1GiB}, {@code 10MB}. */
  public static long parseSize(String s) {
    Matcher m = SIZE.matcher(s.trim());
    String problem = "expected a size like 16777216, 64KiB or 16MiB, got '" + s + "'";
    if (!m.matches()) {
      throw new IllegalArgumentException(problem);
    }
    long unit = switch (m.group(2)) {
      case "", "B", "b" -> 1L;
      case "KiB", "K", "k" -> 1L << 10;
      case "MiB", "M" -> 1L << 20;
      case "GiB", "G" -> 1L << 30;
      case "kB", "KB" -> 1_000L;
      case "MB" -> 1_000_000L;
      case "GB" -> 1_000_000_000L;
      default -> throw new IllegalArgumentException(problem);
    };
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException(problem, e);
    }
  }

  /** Writes a duration the way the configuration does: {@code 0}, {@code 250ms}, {@code 1s}, {@code 5m}, {@code 2h}. */
  public static String formatDuration(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0";
    }
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  /**
   * A URL fit for a log line: user info and the values of query parameters that look like secrets
   * ({@code secret}, {@code password}, {@code token}, {@code key}, {@code credential},
   * {@code signature}) are replaced by {@code ***}.
   */
  public static String redactUrl(String url) {
    if (url == null) {
      return null;
    }
    String out = url.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://)[^/@?#]*@", "$1***@");
    return SECRET_PARAM.matcher(out).replaceAll("$1***");
  }

  private static final Pattern SECRET_PARAM = Pattern.compile(
      "([?&][^=&#]*(?i:secret|password|passwd|token|key|credential|signature)[^=&#]*=)[^&#]*");

  private enum Kind { MAP, LIST, SCALAR, NULL }

  /** One node of the tree: a mapping, a sequence or a scalar, with its line and field path. */
  public static final class Node {
    private final Path file;
    private final Path base;
    private final String path;
    private final int line;
    private final Kind kind;
    private final String text;
    private final Map<String, Node> fields;
    private final Map<String, Integer> keyLines;
    private final List<Node> items;

    private Node(Path file, Path base, String path, int line, Kind kind, String text,
        Map<String, Node> fields, Map<String, Integer> keyLines, List<Node> items) {
      this.file = file;
      this.base = base;
      this.path = path;
      this.line = line;
      this.kind = kind;
      this.text = text;
      this.fields = fields;
      this.keyLines = keyLines;
      this.items = items;
    }

    /** The field path, e.g. {@code databases[1].sync-interval} (empty for the root). */
    public String field() {
      return path;
    }

    /** 1-based line where this node starts. */
    public int line() {
      return line;
    }

    public Path file() {
      return file;
    }

    /** An error about this node: {@code FILE line N, PATH: problem}. */
    public ConfigException error(String problem) {
      return new ConfigException(file, line, path, problem);
    }

    /** Requires a mapping whose keys are all in {@code known}; names the first unknown key. */
    public Node allowOnly(Collection<String> known) {
      requireMap();
      for (Map.Entry<String, Integer> k : keyLines.entrySet()) {
        if (!known.contains(k.getKey())) {
          String near = nearest(k.getKey(), known);
          throw new ConfigException(file, k.getValue(), child(k.getKey()),
              "unknown field" + (near == null ? "" : " (did you mean '" + near + "'?)")
                  + "; known: " + String.join(", ", new TreeSet<>(known)));
        }
      }
      return this;
    }

    /** The value under {@code key}, or null when absent or written empty ({@code key:}). */
    public Node get(String key) {
      requireMap();
      Node n = fields.get(key);
      return n == null || n.kind == Kind.NULL ? null : n;
    }

    public boolean has(String key) {
      return get(key) != null;
    }

    /** The scalar text of this node (after {@code ${...}} expansion). */
    public String text() {
      if (kind != Kind.SCALAR) {
        throw error("expected a single value, got a " + (kind == Kind.MAP ? "mapping" : "list"));
      }
      return text;
    }

    public String string(String key, String dflt) {
      Node n = get(key);
      return n == null ? dflt : n.text();
    }

    /** A required value; a missing one is reported at this mapping's line. */
    public String requireString(String key) {
      Node n = get(key);
      if (n == null) {
        throw new ConfigException(file, line, child(key), "required, but not given");
      }
      return n.text();
    }

    public int integer(String key, int dflt) {
      long v = longValue(key, dflt);
      if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
        throw get(key).error("expected a number up to " + Integer.MAX_VALUE + ", got '" + get(key).text() + "'");
      }
      return (int) v;
    }

    public long longValue(String key, long dflt) {
      Node n = get(key);
      if (n == null) {
        return dflt;
      }
      try {
        return Long.parseLong(n.text().trim());
      } catch (NumberFormatException e) {
        throw n.error("expected a whole number, got '" + n.text() + "'");
      }
    }

    public boolean bool(String key, boolean dflt) {
      Node n = get(key);
      if (n == null) {
        return dflt;
      }
      return switch (n.text().trim().toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default -> throw n.error("expected true or false, got '" + n.text() + "'");
      };
    }

    public Duration duration(String key, Duration dflt) {
      Node n = get(key);
      return n == null ? dflt : n.as(YamlConfig::parseDuration);
    }

    public long size(String key, long dflt) {
      Node n = get(key);
      return n == null ? dflt : n.as(YamlConfig::parseSize);
    }

    /** A path; a relative one is resolved against the configuration file's directory. */
    public Path path(String key, Path dflt) {
      Node n = get(key);
      return n == null ? dflt : n.as(s -> base.resolve(s).normalize());
    }

    /**
     * Converts this scalar with {@code parse}; an {@link IllegalArgumentException} it throws becomes
     * a {@link ConfigException} at this node with the same message.
     */
    public <T> T as(Function<String, T> parse) {
      String s = text();
      try {
        return parse.apply(s);
      } catch (ConfigException e) {
        throw e;
      } catch (IllegalArgumentException e) {
        throw new ConfigException(file, line, path, e.getMessage(), e);
      }
    }

    /** The items of the sequence under {@code key}; empty when absent. */
    public List<Node> list(String key) {
      Node n = get(key);
      if (n == null) {
        return List.of();
      }
      if (n.kind != Kind.LIST) {
        throw n.error("expected a list (- item per line, or [a, b])");
      }
      return n.items;
    }

    /** The sequence of single values under {@code key}; empty when absent. */
    public List<String> strings(String key) {
      List<String> out = new ArrayList<>();
      for (Node n : list(key)) {
        out.add(n.text());
      }
      return out;
    }

    private void requireMap() {
      if (kind != Kind.MAP) {
        throw error("expected a mapping of keys to values");
      }
    }

    private String child(String key) {
      return path.isEmpty() ? key : path + "." + key;
    }
  }

  /** The known name closest to {@code key} if it is a plausible typo (edit distance <= 2). */
  static String nearest(String key, Collection<String> known) {
    String best = null;
    int bestDistance = 3;
    for (String k : known) {
      int d = distance(key, k);
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return best;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
