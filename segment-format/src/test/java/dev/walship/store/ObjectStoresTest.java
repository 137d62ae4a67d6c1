package dev.walship.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Target URLs: what opens, what is refused, and how clearly. */
class ObjectStoresTest {

  @Test
  void s3UrlWithEverything() {
    S3Target t =
        S3Target.parse(
            "s3://my-bucket/some/prefix/?endpoint=http%3A%2F%2F127.0.0.1%3A9000&path-style=true&region=eu-west-1");
    assertEquals(
        new S3Target(
            "my-bucket", "some/prefix/", URI.create("http://127.0.0.1:9000"), true, "eu-west-1"),
        t);
    assertEquals("s3://my-bucket/some/prefix/db/lease.json", t.location("db/lease.json"));
  }

  @Test
  void s3UrlDefaults() {
    S3Target aws = S3Target.parse("s3://bucket");
    assertEquals(new S3Target("bucket", "", null, false, null), aws);
    S3Target endpoint = S3Target.parse("s3://bucket/p?endpoint=http://127.0.0.1:9000");
    assertEquals(
        "us-east-1", endpoint.region(), "an endpoint without a region signs for us-east-1");
    assertEquals("p/", endpoint.prefix());
    assertEquals(URI.create("http://127.0.0.1:9000"), endpoint.endpoint());
    assertFalse(endpoint.pathStyle());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "s3://bucket/p?endpoint=http://h:1&colour=blue",
        "s3://bucket/p?path-style=yes",
        "s3://bucket/p?endpoint=ftp://h",
        "s3://bucket/p?endpoint=",
        "s3://bucket/p?region=us-east-1&region=eu-west-1",
        "s3://bucket/a//b",
        "s3://bucket/a/../b",
        "s3:///prefix",
        "s3://Bad_Bucket!/p",
        "s3://AKIA:secret@bucket/p",
        "s3://bucket/p#frag",
        "gs://bucket/p",
        "http://bucket/p",
        "file:relative/dir",
        "file:///tmp/x?sync=false",
        "file://otherhost/tmp/x",
        "",
        "not a url"
      })
  void badUrlsAreRefusedWithAClearMessage(String url) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ObjectStores.open(url));
    assertFalse(e.getMessage().isBlank());
    assertFalse(e.getMessage().contains("secret"), "never echo credentials: " + e.getMessage());
  }

  @Test
  void unknownParametersAreNamedWithTheKnownOnes() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ObjectStores.open("s3://bucket/p?pathstyle=true"));
    assertTrue(e.getMessage().contains("'pathstyle'"), e.getMessage());
    assertTrue(e.getMessage().contains("endpoint, path-style, region"), e.getMessage());
  }

  @Test
  void fileUrlOpensAndCreatesTheDirectory(@TempDir Path dir) {
    Path root = dir.resolve("a/b");
    try (ObjectStore store = ObjectStores.open(root.toUri().toString())) {
      assertTrue(Files.isDirectory(root));
      store.put("k", new byte[] {1});
      assertTrue(Files.exists(root.resolve("k")));
      assertTrue(store.describe().startsWith("file:"), store.describe());
    }
    try (ObjectStore store = ObjectStores.open("file://" + root)) {
      assertEquals(
          1, store.get("k").orElseThrow().data()[0], "file:///abs and file:/abs both work");
    }
  }

  @Test
  void s3StoresOpenWithoutNetworkIo() {
    try (ObjectStore store =
        ObjectStores.open(
            "s3://bucket/p?endpoint=http://127.0.0.1:1&path-style=true",
            software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider.create())) {
      assertEquals(
          "s3://bucket/p/ (endpoint http://127.0.0.1:1, path-style, region us-east-1)",
          store.describe());
    }
    assertNull(S3Target.parse("s3://bucket").endpoint());
  }
}
