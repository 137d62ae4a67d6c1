package dev.walship.cli;

import dev.walship.demo.AppLog;
import dev.walship.demo.MusicStoreApp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link MusicStoreApp} running as a separate process: a child JVM started from this JVM's {@code
 * java.home} and class path. It stops when told (a line {@code stop} on its standard input), when
 * its input closes (this JVM died), or when {@link #destroy()} kills it.
 */
final class AppProcess implements AutoCloseable {
  private static final Pattern DONE =
      Pattern.compile("done commits=(\\d+) errors=(\\d+) seconds=([0-9.]+)");

  /** What the app reported on exit. */
  record Outcome(int exitCode, long commits, long errors, double seconds, List<AppLog.Entry> log) {}

  private final Process process;
  private final Path logFile;
  private final CompletableFuture<String> done = new CompletableFuture<>();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  private AppProcess(Process process, Path logFile) {
    this.process = process;
    this.logFile = logFile;
    Thread reader = new Thread(this::readOutput, "app-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts the app and waits until it has opened the database.
   *
   * @param args MusicStoreApp arguments besides {@code --db} and {@code --log}
   * @throws IllegalStateException if it exits or stays silent for 30 s
   */
  static AppProcess start(Path db, Path logFile, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-Xmx128m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(MusicStoreApp.class.getName());
    cmd.addAll(List.of("--db", db.toString(), "--log", logFile.toString()));
    cmd.addAll(args);
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the app process: " + cmd.get(0), e);
    }
    AppProcess app = new AppProcess(p, logFile);
    try {
      app.ready.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      app.destroy();
      throw new IllegalStateException("the app process did not start: " + e.getMessage(), e);
    }
    return app;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  private void readOutput() {
    try (BufferedReader r = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.equals("ready")) {
          ready.complete(null);
        } else if (line.startsWith("done ")) {
          done.complete(line);
        }
      }
    } catch (IOException e) {
      // the process went away; waitFor reports it
    }
    ready.completeExceptionally(new IllegalStateException("the app exited before it was ready"));
    done.complete("");
  }

  /**
   * Asks the app to stop after its current transaction and waits up to {@code timeoutSeconds}.
   *
   * @return what it reported, its exit code, and its commit log
   */
  Outcome stop(long timeoutSeconds) throws InterruptedException {
    try {
      OutputStream in = process.getOutputStream();
      in.write("stop\n".getBytes(StandardCharsets.US_ASCII));
      in.close();
    } catch (IOException e) {
      // already gone: waitFor says how
    }
    return await(timeoutSeconds);
  }

  /** Waits for an app started with {@code --duration} to finish on its own. */
  Outcome await(long timeoutSeconds) throws InterruptedException {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      destroy();
      throw new IllegalStateException("the app did not stop within " + timeoutSeconds + " s");
    }
    String line;
    try {
      line = done.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      line = "";
    }
    Matcher m = DONE.matcher(line);
    long commits = -1;
    long errors = -1;
    double seconds = 0;
    if (m.matches()) {
      commits = Long.parseLong(m.group(1));
      errors = Long.parseLong(m.group(2));
      seconds = Double.parseDouble(m.group(3));
    }
    return new Outcome(process.exitValue(), commits, errors, seconds, AppLog.read(logFile));
  }

  /** Kills the process (and waits briefly for it to be gone). */
  void destroy() {
    process.destroy();
    try {
      if (!process.waitFor(3, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(3, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      destroy();
    }
  }
}
