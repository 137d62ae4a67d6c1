package dev.walship.primary;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Drives a {@link TestApp} child JVM: one command, one answer. */
final class AppProcess implements AutoCloseable {
  private final Process process;
  private final PrintStream in;
  private final BufferedReader out;

  private AppProcess(Process p) {
    this.process = p;
    this.in = new PrintStream(p.getOutputStream(), true, StandardCharsets.UTF_8);
    this.out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  static AppProcess start(Path db, int pageSize) {
    return start(TestApp.class, List.of(db.toString(), Integer.toString(pageSize)));
  }

  static AppProcess start(Class<?> main, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(args);
    try {
      return new AppProcess(
          new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends one command and returns its result; fails the test on an error answer. */
  String run(String command) {
    in.println(command);
    String answer;
    try {
      do {
        answer = out.readLine(); // skip what libraries print (logback status lines)
      } while (answer != null && !answer.startsWith("ok") && !answer.startsWith("error"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (answer == null || !answer.startsWith("ok")) {
      throw new AssertionError("app command '" + command + "' failed: " + answer);
    }
    return answer.length() > 3 ? answer.substring(3) : "";
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    try {
      in.println("exit");
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
