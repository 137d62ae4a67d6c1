package dev.walship.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicaConfigTest {
  @TempDir Path tmp;

  @Test
  void readsEveryKeyOfTheYamlFile() throws Exception {
    Path f = tmp.resolve("replica.yml");
    Files.writeString(f, """
        source: s3://bucket/prefix?endpoint=http://127.0.0.1:9000
        dir: /var/lib/walship
        listen: 0.0.0.0:9090
        databases: [app, tenant-1]
        default-database: app
        poll-interval: 50ms
        gap-check-interval: 1m
        auto-rebootstrap: true
        min-txid-timeout: 2s
        query-timeout: PT0.5S
        max-response-bytes: 1048576
        stream-idle-timeout: 3s
        max-streams: 10
        read-connections: 2
        max-open-databases: 50
        http-threads: 4
        """);
    ReplicaConfig c = ReplicaConfig.fromYaml(f);
    assertEquals("s3://bucket/prefix?endpoint=http://127.0.0.1:9000", c.source());
    assertEquals(Path.of("/var/lib/walship"), c.dir());
    assertEquals(9090, c.listen().getPort());
    assertEquals(List.of("app", "tenant-1"), c.databases());
    assertEquals("app", c.defaultDatabase());
    assertEquals(Duration.ofMillis(50), c.pollInterval());
    assertEquals(Duration.ofMinutes(1), c.gapCheckInterval());
    assertTrue(c.autoRebootstrap());
    assertEquals(Duration.ofSeconds(2), c.minTxidTimeout());
    assertEquals(Duration.ofMillis(500), c.limits().queryTimeout());
    assertEquals(1 << 20, c.limits().maxResponseBytes());
    assertEquals(Duration.ofSeconds(3), c.limits().streamIdleTimeout());
    assertEquals(10, c.limits().maxStreams());
    assertEquals(2, c.readConnections());
    assertEquals(50, c.maxOpenDatabases());
    assertEquals(4, c.httpThreads());
  }

  @Test
  void commandLineSourceAndDirOverrideTheFileAndBadInputIsNamed() throws Exception {
    Path f = tmp.resolve("r.yml");
    Files.writeString(f, "source: file:///a\ndir: /a\n");
    ReplicaConfig c = ReplicaConfig.fromYaml(f, "file:///b", Path.of("/b"));
    assertEquals("file:///b", c.source());
    assertEquals(Path.of("/b"), c.dir());
    assertEquals(Duration.ofSeconds(1), c.pollInterval(), "default poll interval");

    Files.writeString(f, "source: file:///a\ndir: /a\npoll-intervall: 1s\n");
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> ReplicaConfig.fromYaml(f));
    assertTrue(unknown.getMessage().contains("poll-intervall"), unknown.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ReplicaConfig.parseDuration("soon"));
    assertTrue(bad.getMessage().contains("soon"));
    Files.writeString(f, "dir: /a\n");
    assertThrows(IllegalArgumentException.class, () -> ReplicaConfig.fromYaml(f));
  }

  @Test
  void expandsVariablesInValuesOnlyAndNamesLineAndField() throws Exception {
    Path f = tmp.resolve("replica.yml");
    Files.writeString(f, """
        # source: ${UNSET_IN_COMMENT} is never expanded
        source: s3://${BUCKET}/prod
        dir: ${REPLICA_DIR:-/var/lib/walship}
        poll-interval: ${POLL:-250ms}
        max-response-bytes: 16MiB
        """);
    ReplicaConfig c = ReplicaConfig.fromYaml(f, null, null, Map.of("BUCKET", "b", "POLL", "50ms")::get);
    assertEquals("s3://b/prod", c.source());
    assertEquals(Path.of("/var/lib/walship"), c.dir());
    assertEquals(Duration.ofMillis(50), c.pollInterval());
    assertEquals(16L << 20, c.limits().maxResponseBytes());

    ConfigException unset = assertThrows(ConfigException.class, () -> ReplicaConfig.fromYaml(f, null, null, k -> null));
    assertEquals(2, unset.line());
    assertEquals("source", unset.field());
    assertTrue(unset.getMessage().contains("${BUCKET} is not set"), unset.getMessage());

    Files.writeString(f, "source: file:///a\ndir: /a\nread-connections: eight\n");
    ConfigException type = assertThrows(ConfigException.class, () -> ReplicaConfig.fromYaml(f));
    assertEquals(f + " line 3, read-connections: expected a whole number, got 'eight'", type.getMessage());

    Files.writeString(f, "source: file:///a\ndir: /a\n\npoll-intervall: 1s\n");
    ConfigException unknown = assertThrows(ConfigException.class, () -> ReplicaConfig.fromYaml(f));
    assertEquals(4, unknown.line());
    assertTrue(unknown.getMessage().contains("did you mean 'poll-interval'?"), unknown.getMessage());

    Files.writeString(f, "source: file:///a\ndir: /a\npoll-interval: 0s\n");
    ConfigException zero = assertThrows(ConfigException.class, () -> ReplicaConfig.fromYaml(f));
    assertEquals("poll-interval", zero.field());
  }
}
