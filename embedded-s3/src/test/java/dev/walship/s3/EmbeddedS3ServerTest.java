package dev.walship.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

class EmbeddedS3ServerTest {

  private static S3Client client(EmbeddedS3Server s3, AwsCredentialsProvider creds) {
    return S3Client.builder()
        .endpointOverride(s3.endpoint())
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(creds)
        .build();
  }

  @Test
  void servesTheBucketToItsCredentialsOnly() {
    try (EmbeddedS3Server s3 = EmbeddedS3Server.builder().start();
        S3Client ok = client(s3, s3.credentials());
        S3Client wrong = client(s3, StaticCredentialsProvider.create(
            AwsBasicCredentials.create(s3.accessKeyId(), "not-the-secret")))) {
      ok.putObject(b -> b.bucket(s3.bucket()).key("demo/a"), RequestBody.fromString("hello"));
      assertEquals("hello",
          ok.getObjectAsBytes(b -> b.bucket(s3.bucket()).key("demo/a")).asUtf8String());
      S3Exception e = assertThrows(S3Exception.class,
          () -> wrong.getObjectAsBytes(b -> b.bucket(s3.bucket()).key("demo/a")));
      assertEquals(403, e.statusCode());
      // Atomic conditional create: the second writer of a key loses with 412.
      S3Exception lost = assertThrows(S3Exception.class, () -> ok.putObject(
          b -> b.bucket(s3.bucket()).key("demo/a").ifNoneMatch("*"), RequestBody.fromString("x")));
      assertEquals(412, lost.statusCode());
    }
  }

  @Test
  void targetUrlNamesBucketPrefixAndEndpointWithoutSecrets() {
    try (EmbeddedS3Server s3 = EmbeddedS3Server.builder().bucket("walship-x").start()) {
      String url = s3.targetUrl("/tenants/a/");
      assertTrue(url.startsWith("s3://walship-x/tenants/a?endpoint="), url);
      assertTrue(URLDecoder.decode(url, StandardCharsets.UTF_8)
          .contains("endpoint=http://127.0.0.1:" + s3.port() + "&path-style=true"), url);
      String secret = s3.credentials().resolveCredentials().secretAccessKey();
      assertFalse(url.contains(secret));
      assertFalse(s3.toString().contains(secret));
    }
  }

  @Test
  void closeReleasesThePortAndAGivenPortIsUsed() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    EmbeddedS3Server s3 = EmbeddedS3Server.builder().port(port).start();
    assertEquals(port, s3.port());
    s3.close();
    assertFalse(s3.isRunning());
    assertThrows(java.io.IOException.class, () -> new Socket("127.0.0.1", port).close());
    assertThrows(IllegalStateException.class, s3::endpoint);
  }

  @Test
  void filesystemBackendKeepsObjectsAcrossRestarts(@TempDir Path dir) {
    EmbeddedS3Server.Builder b =
        EmbeddedS3Server.builder().filesystemBackend(dir).credentials("id", "secret-1");
    try (EmbeddedS3Server s3 = b.start(); S3Client c = client(s3, s3.credentials())) {
      c.putObject(r -> r.bucket(s3.bucket()).key("k"), RequestBody.fromString("kept"));
    }
    try (EmbeddedS3Server s3 = b.start(); S3Client c = client(s3, s3.credentials())) {
      assertEquals("kept", c.getObjectAsBytes(r -> r.bucket(s3.bucket()).key("k")).asUtf8String());
    }
  }

  @Test
  void rejectsInvalidSettings() {
    assertThrows(IllegalArgumentException.class, () -> EmbeddedS3Server.builder().bucket("A_B"));
    assertThrows(IllegalArgumentException.class, () -> EmbeddedS3Server.builder().port(70000));
  }
}
