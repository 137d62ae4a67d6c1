package dev.walship.primary;

import dev.walship.store.ObjectStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;

/**
 * The primary agent as its own process, for tests that SIGKILL it. Args: database path, target
 * URL, spool directory. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Prints
 * "started" once shipping; SIGTERM drains and exits.
 */
public final class AgentMain {
  private AgentMain() {}

  public static void main(String[] args) throws InterruptedException {
    System.out.println("starting " + java.time.Instant.now());
    System.out.flush();
    DatabaseOptions o =
        DatabaseOptions.of(Path.of(args[0]), args[1])
            .withSyncInterval(Duration.ZERO)
            .withCheckpointPages(100, 400)
            .withSpoolDir(Path.of(args[2]));
    PrimaryAgent agent =
        new PrimaryAgent(
            List.of(o),
            ObjectStores::open,
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
            InstantSource.system(),
            null);
    agent.start();
    Runtime.getRuntime().addShutdownHook(new Thread(agent::close));
    System.out.println("started");
    System.out.flush();
    Thread.currentThread().join();
  }
}
