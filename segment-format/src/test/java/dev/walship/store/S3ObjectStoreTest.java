package dev.walship.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.walship.store.testing.InProcessS3;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** What only the S3 store does: error mapping, SDK retries against a flaky server, prefixes. */
class S3ObjectStoreTest {
  @RegisterExtension static final InProcessS3 S3 = InProcessS3.transientBackend();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static S3ObjectStore store(String targetUrl, S3ObjectStore.Tuning tuning) {
    return new S3ObjectStore(S3Target.parse(targetUrl), S3.credentials(), tuning);
  }

  private static S3ObjectStore.Tuning fastRetries(int attempts) {
    return S3ObjectStore.Tuning.DEFAULT.withRetries(
        attempts, Duration.ofMillis(1), Duration.ofMillis(5));
  }

  @Test
  void aMissingBucketIsANonRetryableFailureNamingTheBucket() {
    String url = S3.targetUrl("p").replace("s3://" + S3.bucket() + "/", "s3://no-such-bucket/");
    try (ObjectStore store = ObjectStores.open(url, S3.credentials())) {
      for (Runnable call :
          new Runnable[] {
            () -> store.put("k", utf8("v")), () -> store.get("k"), () -> store.list("", null, 10)
          }) {
        ObjectStoreException e = assertThrows(ObjectStoreException.class, call::run);
        assertFalse(e.retryable(), e.getMessage());
        assertTrue(
            e.getMessage().contains("bucket 'no-such-bucket' does not exist"), e.getMessage());
      }
    }
  }

  @Test
  void wrongCredentialsAreANonRetryableAccessDenied() {
    var wrong =
        StaticCredentialsProvider.create(
            AwsBasicCredentials.create(InProcessS3.ACCESS_KEY, "wrong"));
    try (ObjectStore store = ObjectStores.open(S3.targetUrl("p"), wrong)) {
      ObjectStoreException e =
          assertThrows(ObjectStoreException.class, () -> store.put("db/k", utf8("v")));
      assertFalse(e.retryable());
      assertTrue(e.getMessage().contains("access denied"), e.getMessage());
      assertTrue(e.getMessage().contains("s3://" + S3.bucket() + "/p/db/k"), e.getMessage());
      assertFalse(e.getMessage().contains(InProcessS3.SECRET_KEY));
    }
  }

  @Test
  void anUnreachableEndpointIsRetryableAfterBoundedAttempts() throws IOException {
    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    String url = "s3://bucket/p?endpoint=http://127.0.0.1:" + port + "&path-style=true";
    try (ObjectStore store = store(url, fastRetries(3))) {
      ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.get("k"));
      assertTrue(e.retryable(), e.getMessage());
      assertTrue(e.getMessage().contains("s3://bucket/p/k"), e.getMessage());
    }
  }

  @Test
  void theSdkRetriesServerErrorsAndRecovers() throws Exception {
    try (FlakyFront front = new FlakyFront(S3.endpoint().getPort(), 2);
        ObjectStore store = store(front.targetUrl("flaky"), fastRetries(4))) {
      store.put("k", utf8("survived"));
      assertEquals(2, front.refused.get(), "two 503s were served before the request got through");
      assertArrayEquals(utf8("survived"), store.get("k").orElseThrow().data());
    }
  }

  @Test
  void persistentServerErrorsSurfaceAsRetryableAfterMaxAttempts() throws Exception {
    try (FlakyFront front = new FlakyFront(S3.endpoint().getPort(), 100);
        ObjectStore store = store(front.targetUrl("flaky"), fastRetries(3))) {
      ObjectStoreException e =
          assertThrows(ObjectStoreException.class, () -> store.put("k", utf8("v")));
      assertTrue(e.retryable(), e.getMessage());
      assertEquals(3, front.refused.get(), "maxAttempts requests, no more");
    }
  }

  @Test
  void theUrlPrefixIsPrependedAndHiddenFromKeys() {
    try (ObjectStore a = S3.open("tenants/a");
        ObjectStore b = S3.open("tenants/b");
        ObjectStore root = S3.open("")) {
      a.put("db/lineage.json", utf8("a"));
      b.put("db/lineage.json", utf8("b"));
      assertEquals(
          "a", new String(a.get("db/lineage.json").orElseThrow().data(), StandardCharsets.UTF_8));
      assertEquals("db/lineage.json", a.listAll("", null).get(0).key());
      assertTrue(root.head("tenants/b/db/lineage.json").isPresent());
      assertTrue(a.describe().startsWith("s3://walship-test/tenants/a/"), a.describe());
    }
  }

  @Test
  void aCreateWhoseResponseWasLostIsRecognisedAsOursOnTheSdkRetry() throws Exception {
    try (FlakyFront front =
            new FlakyFront(S3.endpoint().getPort(), 1, FlakyFront.Spoil.LOSE_RESPONSE);
        ObjectStore store = store(front.targetUrl("lost-" + System.nanoTime()), fastRetries(4))) {
      String etag = store.putIfAbsent("db/L0/0000000000000001.seg", utf8("ours"));
      assertEquals(
          1, front.lostFinalResponses.get(), "the first response was lost after the write landed");
      assertEquals(etag, store.head("db/L0/0000000000000001.seg").orElseThrow().etag());
      assertThrows(
          PreconditionFailedException.class,
          () -> store.putIfAbsent("db/L0/0000000000000001.seg", utf8("ours")),
          "without a retry, an existing key is a lost race even with equal bytes");
    }
  }

  @Test
  void aLostResponseWithSomeoneElsesBytesStaysALostRace() throws Exception {
    String prefix = "lost-" + System.nanoTime();
    try (ObjectStore direct = S3.open(prefix)) {
      direct.put("db/lease.json", utf8("theirs"));
    }
    try (FlakyFront front =
            new FlakyFront(S3.endpoint().getPort(), 1, FlakyFront.Spoil.LOSE_RESPONSE);
        ObjectStore store = store(front.targetUrl(prefix), fastRetries(4))) {
      assertThrows(
          PreconditionFailedException.class,
          () -> store.putIfAbsent("db/lease.json", utf8("ours")));
      assertEquals(1, front.lostFinalResponses.get());
    }
  }

  @Test
  void bodiesCutShortAreFetchedAgain(@TempDir Path dir) throws Exception {
    byte[] data = new byte[200_000];
    new java.util.Random(9).nextBytes(data);
    String prefix = "cut-" + System.nanoTime();
    try (ObjectStore direct = S3.open(prefix)) {
      direct.put("snapshots/0000000000000001.seg", data);
    }
    try (FlakyFront front =
            new FlakyFront(S3.endpoint().getPort(), 0, FlakyFront.Spoil.TRUNCATE_BODY);
        ObjectStore store = store(front.targetUrl(prefix), fastRetries(4))) {
      front.spoilNext(1);
      Path destination = dir.resolve("restore.seg");
      assertTrue(store.getToFile("snapshots/0000000000000001.seg", destination));
      assertArrayEquals(data, Files.readAllBytes(destination));
      assertEquals(1, front.refused.get(), "one download was cut short");
    }
    try (FlakyFront front =
            new FlakyFront(S3.endpoint().getPort(), 1, FlakyFront.Spoil.TRUNCATE_BODY);
        ObjectStore store = store(front.targetUrl(prefix), fastRetries(4))) {
      assertArrayEquals(data, store.get("snapshots/0000000000000001.seg").orElseThrow().data());
      assertEquals(1, front.refused.get(), "a whole-object read was cut short, and retried");
    }
  }

  /**
   * A TCP front for S3Proxy that spoils the first {@code failures} connections, then pipes bytes
   * through untouched (so signatures stay valid). See {@link Spoil} for how a connection fails.
   */
  private static final class FlakyFront implements AutoCloseable {
    final AtomicInteger refused = new AtomicInteger();
    final AtomicInteger lostFinalResponses = new AtomicInteger();
    private final ServerSocket server;
    private final int backendPort;
    private final Spoil spoil;
    private volatile int failures;

    /** How a spoiled connection fails. */
    enum Spoil {
      /** 503 SlowDown before the server sees the request. */
      REFUSE_503,
      /** The server handles the request; its response is dropped and the connection reset. */
      LOSE_RESPONSE,
      /** The response is cut after its head and a little of the body, then reset. */
      TRUNCATE_BODY
    }

    FlakyFront(int backendPort, int failures) throws IOException {
      this(backendPort, failures, Spoil.REFUSE_503);
    }

    FlakyFront(int backendPort, int failures, Spoil spoil) throws IOException {
      this.backendPort = backendPort;
      this.failures = failures;
      this.spoil = spoil;
      this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread.ofPlatform().daemon().name("flaky-front").start(this::acceptLoop);
    }

    String targetUrl(String prefix) {
      return "s3://"
          + S3.bucket()
          + "/"
          + prefix
          + "?endpoint=http://127.0.0.1:"
          + server.getLocalPort()
          + "&path-style=true&region=us-east-1";
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket client = server.accept();
          if (refused.get() < failures) {
            refused.incrementAndGet();
            switch (spoil) {
              case REFUSE_503 -> refuse(client);
              case LOSE_RESPONSE ->
                  loseResponse(client, new Socket(InetAddress.getLoopbackAddress(), backendPort));
              case TRUNCATE_BODY ->
                  truncate(client, new Socket(InetAddress.getLoopbackAddress(), backendPort));
            }
          } else {
            Socket backend = new Socket(InetAddress.getLoopbackAddress(), backendPort);
            pipe(client, backend);
            pipe(backend, client);
          }
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private static void refuse(Socket client) {
      try (client) {
        InputStream in = client.getInputStream();
        int state = 0; // read the request head up to the blank line
        while (state < 4) {
          int b = in.read();
          if (b < 0) {
            return;
          }
          state =
              (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                  ? state + 1
                  : 0;
        }
        byte[] body =
            utf8(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                    + "<Message>Please reduce your request rate.</Message></Error>");
        OutputStream out = client.getOutputStream();
        out.write(
            utf8(
                "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: "
                    + body.length
                    + "\r\nConnection: close\r\n\r\n"));
        out.write(body);
        out.flush();
        client.shutdownOutput();
      } catch (IOException e) {
        // the client went away first: also a failure it must retry
      }
    }

    /**
     * Forwards the request; passes an interim {@code 100 Continue} through (so the body is sent),
     * and when the final response starts, resets the client connection instead.
     */
    private void loseResponse(Socket client, Socket backend) {
      pipe(client, backend);
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try (client;
                    backend) {
                  InputStream in = backend.getInputStream();
                  while (true) {
                    StringBuilder head = new StringBuilder();
                    while (!head.toString().endsWith("\r\n\r\n")) {
                      int b = in.read();
                      if (b < 0) {
                        return;
                      }
                      head.append((char) b);
                    }
                    if (head.toString().startsWith("HTTP/1.1 100")) {
                      client
                          .getOutputStream()
                          .write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
                      client.getOutputStream().flush();
                      continue;
                    }
                    lostFinalResponses.incrementAndGet(); // the server has handled the request
                    client.setSoLinger(true, 0); // reset, no response
                    return;
                  }
                } catch (IOException e) {
                  // closed either way
                }
              });
    }

    /** Spoils the next {@code count} new connections. */
    void spoilNext(int count) {
      failures = refused.get() + count;
    }

    /** Forwards the request; passes 1,500 bytes of the response through, then resets. */
    private static void truncate(Socket client, Socket backend) {
      pipe(client, backend);
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try (client;
                    backend) {
                  byte[] part = backend.getInputStream().readNBytes(1500);
                  client.getOutputStream().write(part);
                  client.getOutputStream().flush();
                  client.setSoLinger(true, 0);
                } catch (IOException e) {
                  // closed either way
                }
              });
    }

    private static void pipe(Socket from, Socket to) {
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try {
                  from.getInputStream().transferTo(to.getOutputStream());
                } catch (IOException e) {
                  // connection closed
                } finally {
                  try {
                    to.shutdownOutput();
                  } catch (IOException ignored) {
                    // already closed
                  }
                }
              });
    }

    @Override
    public void close() throws IOException {
      server.close(); // the acceptor thread ends on the closed socket
    }
  }
}
