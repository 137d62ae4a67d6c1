package dev.walship.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Runs {@code walship demo} in this JVM (embedded S3, primary, two replicas, the app as a child
 * JVM) for a few seconds: every check must pass; and with a fault injected on purpose, the check
 * that covers it must fail and the exit code must say so.
 */
class DemoCommandTest {

  private record Run(int exitCode, String out) {}

  private static Run demo(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cl = Walship.commandLine();
    cl.setOut(new PrintWriter(out, true));
    int code = cl.execute(Stream.concat(Stream.of("demo"), Stream.of(args)).toArray(String[]::new));
    System.out.println(out);
    return new Run(code, out.toString());
  }

  @Test
  void shortDemoPassesEveryCheck(@TempDir Path dir) {
    Run r = demo("--duration", "5s", "--rate", "40", "--dir", dir.toString());
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().contains("walship demo: all 6 checks passed"), r.out());
    for (String check : List.of("app process", "TXID per commit", "Hrana reads",
        "replicas = primary", "point-in-time", "branch")) {
      assertTrue(r.out().contains("PASS " + check), check + " missing:\n" + r.out());
    }
    assertFalse(r.out().contains("FAIL"), r.out());
    // one live line per second, with the figures it promises
    assertTrue(r.out().lines().filter(l -> l.matches(" +\\d+s  primary TXID .*")).count() >= 4, r.out());
    assertTrue(r.out().contains("S3 requests"), r.out());
    // --dir keeps the evidence: the app's commit log and the restored files
    assertTrue(Files.exists(dir.resolve("app-commits.tsv")));
    assertTrue(Files.isDirectory(dir.resolve("restores")));
  }

  @Test
  void aCorruptedReplicaFailsTheReplicaCheck() {
    Run r = demo("--duration", "3s", "--rate", "40", "--fault", "replica");
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().contains("FAIL replicas = primary"), r.out());
    assertTrue(r.out().contains("PASS point-in-time"), r.out());
    assertTrue(r.out().contains("1 of 6 checks FAILED"), r.out());
  }

  @Test
  void aRestoreMissingAnInvoiceFailsThePointInTimeCheck() {
    Run r = demo("--duration", "3s", "--rate", "40", "--fault", "restore");
    assertEquals(1, r.exitCode(), r.out());
    assertTrue(r.out().contains("FAIL point-in-time"), r.out());
    assertTrue(r.out().contains("invoices differ"), r.out());
    assertTrue(r.out().contains("PASS replicas = primary"), r.out());
  }

  @Test
  void rejectsBadOptionsWithoutStartingAnything() {
    StringWriter err = new StringWriter();
    CommandLine cl = Walship.commandLine();
    cl.setErr(new PrintWriter(err, true));
    assertEquals(2, cl.execute("demo", "--rate", "0"));
    assertTrue(err.toString().contains("--rate"), err.toString());
  }
}
