package dev.walship.replica.testing;

import dev.walship.replica.ReplicaAgent;
import dev.walship.replica.ReplicaConfig;
import dev.walship.store.ObjectStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * A replica in its own process, for crash tests: {@code ReplicaMain SOURCE_URL DIR DB}. Prints
 * {@code READY <port>} once serving and runs until killed. Credentials come from the environment
 * ({@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}).
 */
public final class ReplicaMain {
  private ReplicaMain() {}

  public static void main(String[] args) throws Exception {
    ReplicaConfig config =
        ReplicaConfig.of(args[0], Path.of(args[1]))
            .withListen(new InetSocketAddress("127.0.0.1", 0))
            .withDatabases(List.of(args[2]), args[2])
            .withPolling(Duration.ofMillis(5), Duration.ofSeconds(5), false);
    ReplicaAgent agent =
        new ReplicaAgent(
                config,
                ObjectStores.open(config.source()),
                Clock.systemUTC(),
                Executors.newScheduledThreadPool(2),
                Executors.newFixedThreadPool(4),
                new SimpleMeterRegistry(),
                System::nanoTime)
            .start();
    System.out.println("READY " + agent.port());
    new CountDownLatch(1).await();
  }
}
