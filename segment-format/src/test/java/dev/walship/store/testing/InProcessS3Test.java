package dev.walship.store.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test helper itself: plain resource use, restarts on the filesystem backend, URLs. */
class InProcessS3Test {
  @org.junit.jupiter.api.extension.RegisterExtension
  final InProcessS3 perTest = InProcessS3.transientBackend();

  @Test
  void anInstanceFieldExtensionRunsOneServerPerTest() {
    try (ObjectStore store = perTest.openFresh()) {
      store.put("k", new byte[] {1});
      assertEquals(1, store.listAll("", null).size());
    }
  }

  @Test
  void worksAsAPlainResourceAndStopsOnClose() {
    InProcessS3 stopped;
    try (InProcessS3 s3 = InProcessS3.transientBackend().start();
        ObjectStore store = s3.open("plain")) {
      store.put("k", "v".getBytes(StandardCharsets.UTF_8));
      assertEquals("v", new String(store.get("k").orElseThrow().data(), StandardCharsets.UTF_8));
      assertTrue(
          s3.endpoint().toString().startsWith("http://127.0.0.1:"), s3.endpoint().toString());
      assertEquals(
          "s3://walship-test/db1?endpoint=http%3A%2F%2F127.0.0.1%3A"
              + s3.endpoint().getPort()
              + "&path-style=true&region=us-east-1",
          s3.targetUrl("/db1/"));
      stopped = s3;
    }
    assertThrows(IllegalStateException.class, stopped::endpoint);
  }

  @Test
  void theFilesystemBackendKeepsObjectsAcrossARestart(@TempDir Path dir) {
    byte[] data = "kept".getBytes(StandardCharsets.UTF_8);
    try (InProcessS3 s3 = InProcessS3.filesystemBackend(dir).start();
        ObjectStore store = s3.open("p")) {
      store.putIfAbsent("db/lineage.json", data);
    }
    try (InProcessS3 s3 = InProcessS3.filesystemBackend(dir).start();
        ObjectStore store = s3.open("p")) {
      assertArrayEquals(data, store.get("db/lineage.json").orElseThrow().data());
    }
  }

  @Test
  void theDefaultCredentialChainFindsTheServersKeys() {
    // What a child process gets from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; here the
    // equivalent system properties, which the SDK's default chain reads first.
    try (InProcessS3 s3 = InProcessS3.transientBackend().start()) {
      System.setProperty("aws.accessKeyId", InProcessS3.ACCESS_KEY);
      System.setProperty("aws.secretAccessKey", InProcessS3.SECRET_KEY);
      try (ObjectStore store = ObjectStores.open(s3.targetUrl("chain"))) {
        store.put("k", new byte[] {7});
        assertEquals(7, store.get("k").orElseThrow().data()[0]);
      } finally {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
      }
    }
  }
}
