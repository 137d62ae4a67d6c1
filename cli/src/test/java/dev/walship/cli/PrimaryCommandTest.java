package dev.walship.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code walship primary} refuses bad input with exit code 2 and a message naming the problem. */
class PrimaryCommandTest {
  @TempDir Path dir;

  private static String[] run(String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      int code = Walship.commandLine().execute(args);
      return new String[] {Integer.toString(code), buf.toString(StandardCharsets.UTF_8)};
    } finally {
      System.setErr(err);
    }
  }

  @Test
  void missingFileNonSqliteFileAndMissingTarget() throws Exception {
    String target = dir.resolve("bucket").toUri().toString();
    String[] r = run("primary", "--db", dir.resolve("none.db").toString(), "--target", target);
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("does not exist"), r[1]);

    Path notSqlite = dir.resolve("notes.db");
    Files.writeString(notSqlite, "hello, this is not a database at all, just some text here....");
    r = run("primary", "--db", notSqlite.toString(), "--target", target);
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("is not a SQLite database"), r[1]);

    r = run("primary", "--db", notSqlite.toString());
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("--target"), r[1]);

    r = run("primary", "--config", dir.resolve("walship.yml").toString());
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("does not exist"), r[1]);
  }
}
