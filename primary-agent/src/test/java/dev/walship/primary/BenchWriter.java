package dev.walship.primary;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Benchmark app (a separate process): one-row transactions, synchronous=NORMAL, WAL.
 *
 * <pre>
 * BenchWriter DB max SECONDS        as many commits as possible; prints "commits N seconds S
 *                                   cpu_ns C" (C: this process's CPU time, start-up included)
 * BenchWriter DB paced RATE SECONDS RATE commits/s; prints "commit EPOCH_MICROS" per commit
 * </pre>
 */
public final class BenchWriter {
  private BenchWriter() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + args[0]);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout=20000");
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=NORMAL");
      s.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)");
      byte[] row = new byte[100];
      try (PreparedStatement ins = c.prepareStatement("INSERT INTO t(v) VALUES (?)")) {
        if (args[1].equals("max")) {
          long end = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
          long start = System.nanoTime();
          long n = 0;
          while (System.nanoTime() < end) {
            ThreadLocalRandom.current().nextBytes(row);
            ins.setBytes(1, row);
            ins.executeUpdate();
            n++;
          }
          long cpu = ((com.sun.management.OperatingSystemMXBean)
                  java.lang.management.ManagementFactory.getOperatingSystemMXBean())
              .getProcessCpuTime();
          out.printf("commits %d seconds %.3f cpu_ns %d%n", n, (System.nanoTime() - start) / 1e9, cpu);
        } else {
          int rate = Integer.parseInt(args[2]);
          long total = (long) rate * Long.parseLong(args[3]);
          long period = 1_000_000_000L / rate;
          long next = System.nanoTime();
          for (long i = 0; i < total; i++) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
              java.util.concurrent.locks.LockSupport.parkNanos(wait); // pacing, not a condition
            }
            next += period;
            ThreadLocalRandom.current().nextBytes(row);
            ins.setBytes(1, row);
            ins.executeUpdate();
            java.time.Instant now = java.time.Instant.now();
            out.println("commit " + (now.getEpochSecond() * 1_000_000L + now.getNano() / 1000));
          }
        }
      }
    }
    out.flush();
  }
}
