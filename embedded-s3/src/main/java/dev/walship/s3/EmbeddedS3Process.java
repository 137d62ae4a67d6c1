package dev.walship.s3;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The embedded S3 server ({@link EmbeddedS3Server#main}, transient backend) in a child JVM
 * started with this JVM's class path. Benchmarks use it so that the bucket server's CPU (request
 * parsing, SigV4 chunk verification, MD5 ETags) is not spent in the JVM being measured, and, with
 * a niceness, only on CPU the measured processes leave idle — as when S3 runs on other machines.
 *
 * <p>Thread-safe. {@link #close()} closes the child's standard input, on which it exits.
 */
public final class EmbeddedS3Process implements BucketServer {
  private static final String ACCESS_KEY = "walship";

  private final Process process;
  private final URI endpoint;
  private final String secret;

  private EmbeddedS3Process(Process process, URI endpoint, String secret) {
    this.process = process;
    this.endpoint = endpoint;
    this.secret = secret;
  }

  /**
   * Starts the child and waits until it accepts requests.
   *
   * @param niceness 0 for normal priority, up to 19 to run it on idle CPU only ({@code
   *     /usr/bin/nice}; ignored where that does not exist)
   * @throws IOException if the child cannot start or exits before reporting its endpoint
   */
  public static EmbeddedS3Process start(int niceness) throws IOException {
    byte[] random = new byte[16];
    new SecureRandom().nextBytes(random);
    String secret = HexFormat.of().formatHex(random);
    List<String> cmd = new ArrayList<>();
    if (niceness > 0 && Files.isExecutable(Path.of("/usr/bin/nice"))) {
      cmd.addAll(List.of("/usr/bin/nice", "-n", Integer.toString(niceness)));
    }
    cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), EmbeddedS3Server.class.getName(),
        ACCESS_KEY, secret));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith("endpoint ")) {
        return new EmbeddedS3Process(p, URI.create(line.substring(9).trim()), secret);
      }
    }
    p.destroyForcibly();
    throw new IOException("the embedded S3 process exited before reporting its endpoint");
  }

  @Override
  public URI endpoint() {
    return endpoint;
  }

  @Override
  public String bucket() {
    return EmbeddedS3Server.DEFAULT_BUCKET;
  }

  @Override
  public AwsCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, secret));
  }

  @Override
  public String targetUrl(String prefix) {
    String p = prefix == null ? "" : prefix.replaceAll("^/+|/+$", "");
    return "s3://" + bucket() + "/" + p + "?endpoint="
        + URLEncoder.encode(endpoint.toString(), StandardCharsets.UTF_8)
        + "&path-style=true&region=us-east-1";
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
