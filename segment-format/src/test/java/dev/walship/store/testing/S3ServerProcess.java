package dev.walship.store.testing;

import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The embedded S3 server ({@code dev.walship.s3.EmbeddedS3Server#main}) in a child JVM, for
 * benchmarks: the bucket server's CPU (request parsing, SigV4 chunk verification, MD5 ETags)
 * then does not run in the JVM being measured, and with {@code nice} it takes only CPU the app
 * and the agent leave idle, like S3 running on other machines.
 *
 * <p>Thread-safe. {@link #close()} ends the child (it exits when its standard input closes).
 */
public final class S3ServerProcess implements AutoCloseable {
  private final Process process;
  private final String endpoint;

  private S3ServerProcess(Process process, String endpoint) {
    this.process = process;
    this.endpoint = endpoint;
  }

  /**
   * Starts the server with this JVM's class path.
   *
   * @param niceness 0 for normal priority, up to 19 to run it only on idle CPU (uses {@code nice})
   * @throws IOException if the child cannot start or does not report its endpoint
   */
  public static S3ServerProcess start(int niceness) throws IOException {
    List<String> cmd = new ArrayList<>();
    if (niceness > 0 && Files.isExecutable(Path.of("/usr/bin/nice"))) {
      cmd.addAll(List.of("/usr/bin/nice", "-n", Integer.toString(niceness)));
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        "dev.walship.s3.EmbeddedS3Server", InProcessS3.ACCESS_KEY, InProcessS3.SECRET_KEY));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith("endpoint ")) {
        return new S3ServerProcess(p, line.substring("endpoint ".length()).trim());
      }
    }
    p.destroyForcibly();
    throw new IOException("the S3 server process exited before reporting its endpoint");
  }

  /** Target URL of {@code prefix} in the server's bucket (same form as {@link InProcessS3}). */
  public String targetUrl(String prefix) {
    return "s3://walship/" + prefix + "?endpoint="
        + URLEncoder.encode(endpoint, StandardCharsets.UTF_8) + "&path-style=true&region=us-east-1";
  }

  /** Opens a store on {@code prefix} (the caller closes it). */
  public ObjectStore open(String prefix) {
    return ObjectStores.open(targetUrl(prefix), StaticCredentialsProvider.create(
        AwsBasicCredentials.create(InProcessS3.ACCESS_KEY, InProcessS3.SECRET_KEY)));
  }

  @Override
  public void close() {
    try {
      process.getOutputStream().close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (IOException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
