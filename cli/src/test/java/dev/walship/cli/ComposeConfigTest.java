package dev.walship.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.walship.primary.PrimaryConfig;
import dev.walship.replica.ReplicaConfig;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * compose/ stays correct without a Docker engine: the files it mounts exist, its walship configs
 * load with the real config parsers, and {@code docker-compose config} accepts it where the
 * docker-compose binary is installed (Debian package docker-compose; skipped, saying so, where it
 * is not).
 */
class ComposeConfigTest {
  private static final Path COMPOSE = Path.of("..", "compose").toAbsolutePath().normalize();

  @Test
  void servicesMountsAndImageFilesExist() throws Exception {
    JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(COMPOSE.resolve("docker-compose.yml").toFile());
    JsonNode services = doc.path("services");
    for (String s : List.of("minio", "create-bucket", "app", "primary", "replica-eu", "replica-us")) {
      assertTrue(services.has(s), "service " + s + " missing");
    }
    for (JsonNode service : services) {
      for (JsonNode v : service.path("volumes")) {
        String src = v.asText().split(":")[0];
        if (src.startsWith("./")) {
          assertTrue(Files.exists(COMPOSE.resolve(src)), "mounted file " + src + " missing");
        }
      }
    }
    String dockerfile = Files.readString(COMPOSE.resolve("Dockerfile"), StandardCharsets.UTF_8);
    assertTrue(dockerfile.contains("COPY compose/music-store-app"));
    String app = Files.readString(COMPOSE.resolve("music-store-app"), StandardCharsets.UTF_8);
    assertTrue(app.contains(dev.walship.demo.MusicStoreApp.class.getName()));
    assertTrue(app.contains(dev.walship.demo.SeedChinook.class.getName()));
    assertTrue(Files.isExecutable(COMPOSE.resolve("music-store-app")));
  }

  @Test
  void walshipConfigsLoadWithTheRealParsers() {
    PrimaryConfig p = PrimaryConfig.load(COMPOSE.resolve("primary.yml"), Map.<String, String>of()::get);
    assertEquals(1, p.databases().size());
    assertEquals("chinook", p.databases().get(0).name());
    assertEquals(Path.of("/data/chinook.db"), p.databases().get(0).path());
    assertTrue(p.databases().get(0).target().contains("endpoint=http://minio:9000"));
    assertEquals(9090, p.admin().getPort());
    for (String region : List.of("eu", "us")) {
      ReplicaConfig r = ReplicaConfig.fromYaml(COMPOSE.resolve("replica-" + region + ".yml"));
      assertEquals(List.of("chinook"), r.databases());
      assertEquals(8080, r.listen().getPort());
      assertEquals(p.databases().get(0).target().replace("/demo?", "/demo?"), r.source());
    }
  }

  @Test
  void dockerComposeAcceptsTheFile() throws Exception {
    String binary = onPath("docker-compose");
    Assumptions.assumeTrue(binary != null,
        "docker-compose is not installed (Debian: apt-get install docker-compose); not validated");
    Process p = new ProcessBuilder(binary, "-f", COMPOSE.resolve("docker-compose.yml").toString(),
        "config", "-q").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "docker-compose config hung");
    assertEquals(0, p.exitValue(), "docker-compose config rejected compose/docker-compose.yml:\n" + out);
  }

  private static String onPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path f = Path.of(dir, name);
      if (Files.isExecutable(f)) {
        return f.toString();
      }
    }
    return null;
  }
}
