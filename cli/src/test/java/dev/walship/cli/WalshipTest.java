package dev.walship.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class WalshipTest {

  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    CommandLine cli = Walship.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void helpListsUsageAndExitsZero() {
    Run r = run("--help");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().contains("Usage: walship"), r.out());
  }

  @Test
  void versionNamesTheBuiltVersion() {
    Run r = run("--version");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().matches("(?s)walship \\d+\\.\\d+\\.\\d+.*"), r.out());
  }

  @Test
  void unknownCommandIsAUsageErrorNotACrash() {
    Run r = run("no-such-command");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().contains("no-such-command"), r.err());
  }
}
