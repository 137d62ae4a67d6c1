package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrimaryConfigTest {
  @TempDir Path dir;

  @Test
  void databasesDirectoriesDefaultsAndEnvironment() throws Exception {
    Files.createDirectories(dir.resolve("tenants"));
    Files.writeString(dir.resolve("tenants/a.db"), "");
    Files.writeString(dir.resolve("tenants/b.db"), "");
    Files.writeString(dir.resolve("tenants/notes.txt"), "");
    Path yml = dir.resolve("walship.yml");
    Files.writeString(yml, """
        target: s3://bucket/${PREFIX}?region=eu-west-1
        sync-interval: 250ms
        admin: 127.0.0.1:9191
        checkpoint-pages: 500
        checkpoint-interval: 2s
        databases:
          - path: app.sqlite
          - path: /data/other.db
            name: billing
            target: file:///backups/${MISSING:-fallback}
            sync-interval: 0
        directories:
          - glob: tenants/*.db
        """);
    PrimaryConfig c = PrimaryConfig.load(yml, Map.of("PREFIX", "prod")::get);
    assertEquals(4, c.databases().size());
    DatabaseOptions app = c.databases().get(0);
    assertEquals("app", app.name());
    assertEquals(dir.resolve("app.sqlite"), app.path());
    assertEquals("s3://bucket/prod?region=eu-west-1", app.target());
    assertEquals(Duration.ofMillis(250), app.syncInterval());
    assertEquals(500, app.checkpointPages());
    assertEquals(Duration.ofSeconds(2), app.checkpointInterval());
    DatabaseOptions billing = c.databases().get(1);
    assertEquals("billing", billing.name());
    assertEquals("file:///backups/fallback", billing.target());
    assertEquals(Duration.ZERO, billing.syncInterval());
    assertEquals("a", c.databases().get(2).name());
    assertEquals("b", c.databases().get(3).name());
    assertEquals(9191, c.admin().getPort());
  }

  @Test
  void retentionHoursSetsRetentionAndAHourlySnapshotIfNoneIsGiven() {
    PrimaryConfig c = PrimaryConfig.parse(
        "target: file:///b\nretention-hours: 24\ndatabases:\n  - path: a.db\n", dir);
    DatabaseOptions o = c.databases().get(0);
    assertEquals(Duration.ofHours(24), o.retention());
    assertEquals(DatabaseOptions.DEFAULT_CHECKPOINT_INTERVAL, o.checkpointInterval());
    assertEquals(Duration.ofHours(1), o.snapshotInterval());
    DatabaseOptions explicit = PrimaryConfig.parse(
        "target: file:///b\nretention-hours: 2\nsnapshot-interval: 10m\ndatabases:\n  - path: a.db\n",
        dir).databases().get(0);
    assertEquals(Duration.ofMinutes(10), explicit.snapshotInterval());
    assertEquals(Duration.ZERO, PrimaryConfig.parse(
        "target: file:///b\ndatabases:\n  - path: a.db\n", dir).databases().get(0).retention());
    PrimaryException bad = assertThrows(PrimaryException.class, () -> PrimaryConfig.parse(
        "target: file:///b\nretention-hours: 1h\ndatabases:\n  - path: a.db\n", dir));
    assertTrue(bad.getMessage().contains("retention-hours"), bad.getMessage());
  }

  @Test
  void mistakesAreReportedClearly() throws Exception {
    Path yml = dir.resolve("w.yml");
    Files.writeString(yml, "target: s3://b/${NOPE}\ndatabases:\n  - path: a.db\n");
    PrimaryException e = assertThrows(PrimaryException.class, () -> PrimaryConfig.load(yml, k -> null));
    assertTrue(e.getMessage().contains("${NOPE}"), e.getMessage());
    Files.writeString(yml, "target: s3://b/x\nsync-intervall: 1s\ndatabases:\n  - path: a.db\n");
    e = assertThrows(PrimaryException.class, () -> PrimaryConfig.load(yml, k -> null));
    assertTrue(e.getMessage().contains("sync-intervall"), e.getMessage());
    Files.writeString(yml, "databases:\n  - path: a.db\n");
    e = assertThrows(PrimaryException.class, () -> PrimaryConfig.load(yml, k -> null));
    assertTrue(e.getMessage().contains("no target"), e.getMessage());
    e = assertThrows(PrimaryException.class, () -> PrimaryConfig.load(dir.resolve("none.yml"), k -> null));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    assertThrows(PrimaryException.class, () -> PrimaryConfig.parseDuration("5"));
    assertEquals(Duration.ofMinutes(2), PrimaryConfig.parseDuration("2m"));
  }

  @Test
  void variablesInCommentsAreIgnoredAndErrorsNameLineAndField() throws Exception {
    Path yml = dir.resolve("walship.yml");
    Files.writeString(yml, """
        # the target comes from ${WALSHIP_TARGET}; nothing in a comment is expanded
        target: ${WALSHIP_TARGET}
        databases:
          - path: a.db   # ${NOT_SET_EITHER}
        """);
    PrimaryConfig c = PrimaryConfig.load(yml, Map.of("WALSHIP_TARGET", "file:///b")::get);
    assertEquals("file:///b", c.databases().get(0).target());

    PrimaryException e = assertThrows(PrimaryException.class, () -> PrimaryConfig.load(yml, k -> null));
    assertTrue(e.getMessage().startsWith(yml + " line 2, target: ${WALSHIP_TARGET} is not set"), e.getMessage());

    Files.writeString(yml, """
        target: file:///b
        databases:
          - path: a.db
          - path: b.db
            sync-interval: fast
        """);
    e = assertThrows(PrimaryException.class, () -> PrimaryConfig.load(yml, k -> null));
    assertTrue(e.getMessage().startsWith(yml + " line 5, databases[1].sync-interval: expected a duration"
        + " like 1s or 250ms"), e.getMessage());
    assertTrue(e.getMessage().endsWith("got 'fast'"), e.getMessage());

    Files.writeString(yml, "target: file:///b\ndatabases:\n  - path: a.db\n    nmae: x\n");
    e = assertThrows(PrimaryException.class, () -> PrimaryConfig.load(yml, k -> null));
    assertTrue(e.getMessage().startsWith(yml + " line 4, databases[0].nmae: unknown field (did you mean 'name'?)"),
        e.getMessage());

    Files.writeString(yml, "target: file:///b\ncheckpoint-pages: lots\ndatabases:\n  - path: a.db\n");
    e = assertThrows(PrimaryException.class, () -> PrimaryConfig.load(yml, k -> null));
    assertTrue(e.getMessage().startsWith(yml + " line 2, checkpoint-pages: expected a whole number"), e.getMessage());
  }
}
