package dev.walship.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.primary.PrimaryConfig;
import dev.walship.replica.ReplicaConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The full examples in the README's Configuration section load with the real parsers. */
class ReadmeConfigTest {
  private static final Path README = Path.of("..", "README.md").toAbsolutePath().normalize();
  @TempDir Path tmp;

  private static List<String> yamlBlocks(String heading) throws Exception {
    String text = Files.readString(README, StandardCharsets.UTF_8);
    int from = text.indexOf(heading);
    assertTrue(from >= 0, "README has no " + heading);
    int to = text.indexOf("\n### ", from + heading.length());
    int end = text.indexOf("\n## ", from + heading.length());
    String section = text.substring(from, to < 0 || (end >= 0 && end < to) ? end : to);
    Matcher m = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL).matcher(section);
    List<String> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @Test
  void primaryExampleLoads() throws Exception {
    List<String> blocks = yamlBlocks("### Primary (");
    assertEquals(1, blocks.size());
    Files.createDirectories(tmp.resolve("tenants"));
    Files.writeString(tmp.resolve("tenants/t1.db"), "");
    Path f = tmp.resolve("walship.yml");
    Files.writeString(f, blocks.get(0).replace("/data/tenants/", tmp.resolve("tenants") + "/"));
    PrimaryConfig c = PrimaryConfig.load(f, Map.of("AUDIT_REGION", "us-east-1")::get);
    assertEquals(3, c.databases().size());
    assertEquals("app", c.databases().get(0).name());
    assertEquals("s3://my-bucket/prod?region=eu-west-1", c.databases().get(0).target());
    assertEquals("s3://audit-bucket/x?region=us-east-1", c.databases().get(1).target());
    assertEquals(Duration.ZERO, c.databases().get(1).syncInterval());
    assertEquals("t1", c.databases().get(2).name());
    assertEquals(Duration.ofSeconds(5), c.databases().get(2).syncInterval());
    assertEquals(Duration.ofHours(1), c.databases().get(0).snapshotInterval());
    assertEquals(Duration.ofHours(24), c.databases().get(0).retention());
  }

  @Test
  void replicaExampleLoads() throws Exception {
    List<String> blocks = yamlBlocks("### Replica (");
    assertEquals(1, blocks.size());
    Path f = tmp.resolve("replica.yml");
    Files.writeString(f, blocks.get(0));
    ReplicaConfig c = ReplicaConfig.fromYaml(f, null, null, Map.of("WALSHIP_ENV", "staging")::get);
    assertEquals("s3://my-bucket/staging?region=eu-west-1", c.source());
    assertEquals(Path.of("/var/lib/walship/replica"), c.dir());
    assertEquals(List.of("app"), c.databases());
    assertEquals(16L << 20, c.limits().maxResponseBytes());
  }
}
