package dev.walship.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YamlConfigTest {
  private static final Path FILE = Path.of("walship.yml");
  @TempDir Path dir;

  private static YamlConfig.Node parse(String yaml, Map<String, String> env) {
    return YamlConfig.parse(yaml, FILE, env::get);
  }

  @Test
  void expandsVariablesInValuesButNotInCommentsOrKeys() {
    YamlConfig.Node root = parse("""
        # ${UNSET_IN_COMMENT} is only a comment and must not fail the load
        target: s3://${BUCKET}/x   # ${ALSO_UNSET} trailing comment
        '${KEY}': literal
        list: ["a-${BUCKET}", '${QUOTED}']
        """, Map.of("BUCKET", "prod", "QUOTED", "q", "KEY", "k"));
    assertEquals("s3://prod/x", root.string("target", null));
    assertEquals("literal", root.string("${KEY}", null), "keys are taken literally");
    assertFalse(root.has("k"));
    assertEquals(List.of("a-prod", "q"), root.strings("list"));
  }

  @Test
  void defaultIsUsedWhenUnsetOrEmpty() {
    YamlConfig.Node root = parse("""
        a: ${A:-1s}
        b: ${B:-fallback}
        c: ${C:-}
        """, Map.of("B", ""));
    assertEquals(Duration.ofSeconds(1), root.duration("a", null));
    assertEquals("fallback", root.string("b", null));
    assertEquals("", root.string("c", null));
  }

  @Test
  void unsetVariableWithoutDefaultNamesLineAndField() {
    ConfigException e = assertThrows(ConfigException.class, () -> parse("""
        target: s3://b/x
        databases:
          - path: a.db
          - path: ${DB_PATH}
        """, Map.of()));
    assertEquals(4, e.line());
    assertEquals("databases[1].path", e.field());
    assertTrue(e.getMessage().startsWith("walship.yml line 4, databases[1].path: ${DB_PATH} is not set"),
        e.getMessage());
  }

  @Test
  void unknownFieldNamesLineAndSuggestsTheNearestName() {
    YamlConfig.Node root = parse("""
        target: s3://b/x
        databases:
          - path: a.db
            sync-intervall: 1s
        """, Map.of());
    root.allowOnly(Set.of("target", "databases"));
    YamlConfig.Node db = root.list("databases").get(0);
    ConfigException e = assertThrows(ConfigException.class,
        () -> db.allowOnly(Set.of("path", "name", "sync-interval")));
    assertEquals(4, e.line());
    assertEquals("databases[0].sync-intervall", e.field());
    assertTrue(e.getMessage().contains("did you mean 'sync-interval'?"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> root.allowOnly(Set.of("target")));
    assertEquals(2, e.line());
    assertTrue(e.getMessage().startsWith("walship.yml line 2, databases: unknown field"), e.getMessage());
    assertFalse(e.getMessage().contains("did you mean"), "no suggestion when nothing is close");
  }

  @Test
  void wrongTypeNamesLineFieldAndValue() {
    YamlConfig.Node root = parse("""
        target: s3://b/x

        databases:
          - path: a.db
          - path: b.db
            sync-interval: fast
            pages: many
            flag: maybe
            size: 3 lightyears
        """, Map.of());
    YamlConfig.Node db = root.list("databases").get(1);
    ConfigException e = assertThrows(ConfigException.class, () -> db.duration("sync-interval", null));
    assertEquals("walship.yml line 6, databases[1].sync-interval: expected a duration like 1s or 250ms"
        + " (also 0, 5m, 1h, PT1S), got 'fast'", e.getMessage());
    e = assertThrows(ConfigException.class, () -> db.integer("pages", 1));
    assertEquals("walship.yml line 7, databases[1].pages: expected a whole number, got 'many'", e.getMessage());
    e = assertThrows(ConfigException.class, () -> db.bool("flag", false));
    assertEquals(8, e.line());
    e = assertThrows(ConfigException.class, () -> db.size("size", 0));
    assertEquals(9, e.line());
    e = assertThrows(ConfigException.class, () -> root.list("target"));
    assertEquals("walship.yml line 1, target: expected a list (- item per line, or [a, b])", e.getMessage());
    e = assertThrows(ConfigException.class, () -> root.string("databases", null));
    assertEquals(3, e.line());
    e = assertThrows(ConfigException.class, () -> db.requireString("name"));
    assertEquals("databases[1].name", e.field());
    assertEquals(5, e.line());
  }

  @Test
  void typedGettersAndDefaults() throws Exception {
    Path file = dir.resolve("conf/walship.yml");
    Files.createDirectories(file.getParent());
    Files.writeString(file, """
        n: 42
        big: 5000000000
        d1: 250ms
        d2: 0
        d3: PT0.5S
        s1: 16MiB
        s2: 1048576
        yes: true
        rel: data/app.db
        abs: /data/app.db
        empty:
        """);
    YamlConfig.Node root = YamlConfig.read(file, Map.<String, String>of()::get);
    assertEquals(42, root.integer("n", 0));
    assertEquals(7, root.integer("missing", 7));
    assertEquals(5_000_000_000L, root.longValue("big", 0));
    assertThrows(ConfigException.class, () -> root.integer("big", 0));
    assertEquals(Duration.ofMillis(250), root.duration("d1", null));
    assertEquals(Duration.ZERO, root.duration("d2", null));
    assertEquals(Duration.ofMillis(500), root.duration("d3", null));
    assertEquals(16L << 20, root.size("s1", 0));
    assertEquals(1L << 20, root.size("s2", 0));
    assertTrue(root.bool("yes", false));
    assertEquals(dir.resolve("conf/data/app.db").toAbsolutePath(), root.path("rel", null));
    assertEquals(Path.of("/data/app.db"), root.path("abs", null));
    assertNull(root.get("empty"), "key: with no value reads as absent");
    assertEquals("d", root.string("empty", "d"));
  }

  @Test
  void fileAndSyntaxProblemsNameTheFile() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> YamlConfig.read(dir.resolve("none.yml"), k -> null));
    assertTrue(e.getMessage().contains("none.yml") && e.getMessage().contains("does not exist"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> parse("a: 1\nb: [unclosed\n", Map.of()));
    assertTrue(e.getMessage().startsWith("walship.yml line "), e.getMessage());
    assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> parse("- a\n- b\n", Map.of()));
    assertTrue(e.getMessage().contains("expected a YAML mapping"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> parse("a: 1\nb: 2\na: 3\n", Map.of()));
    assertEquals(3, e.line());
    assertTrue(e.getMessage().contains("duplicate key (first given on line 1)"), e.getMessage());
  }

  @Test
  void durationAndSizeSyntax() {
    assertEquals(Duration.ofMinutes(2), YamlConfig.parseDuration("2m"));
    assertEquals(Duration.ofHours(24), YamlConfig.parseDuration("24h"));
    assertThrows(IllegalArgumentException.class, () -> YamlConfig.parseDuration("5"));
    assertThrows(IllegalArgumentException.class, () -> YamlConfig.parseDuration("soon"));
    assertThrows(IllegalArgumentException.class, () -> YamlConfig.parseDuration("P"));
    assertEquals(10_000_000L, YamlConfig.parseSize("10MB"));
    assertEquals(64L << 10, YamlConfig.parseSize("64KiB"));
    assertThrows(IllegalArgumentException.class, () -> YamlConfig.parseSize("-1"));
  }

  @Test
  void logHelpersWriteDurationsAsConfiguredAndHideSecrets() {
    assertEquals("0", YamlConfig.formatDuration(Duration.ZERO));
    assertEquals("250ms", YamlConfig.formatDuration(Duration.ofMillis(250)));
    assertEquals("1s", YamlConfig.formatDuration(Duration.ofSeconds(1)));
    assertEquals("5m", YamlConfig.formatDuration(Duration.ofMinutes(5)));
    assertEquals("24h", YamlConfig.formatDuration(Duration.ofHours(24)));
    assertEquals("s3://b/p?endpoint=http://m:9000&region=eu-west-1",
        YamlConfig.redactUrl("s3://b/p?endpoint=http://m:9000&region=eu-west-1"));
    assertEquals("s3://***@b/p?region=x&secret-key=***&session-token=***",
        YamlConfig.redactUrl("s3://AKIA:hunter2@b/p?region=x&secret-key=abc&session-token=t0k"));
    assertEquals("file:///backups", YamlConfig.redactUrl("file:///backups"));
  }
}
