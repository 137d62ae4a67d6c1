package dev.walship.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * {@link ObjectStore} on S3 (or anything speaking its API) through the AWS SDK v2 sync client with
 * the Apache 5 HTTP client.
 *
 * <p>Retries: the SDK's standard retry strategy (5xx, throttling, timeouts, I/O errors) with {@link
 * Tuning#maxAttempts()} attempts and exponential backoff with jitter; a body stream that breaks in
 * {@link #getToFile} is retried here with the same bound. What escapes is an {@link
 * ObjectStoreException} naming {@code s3://bucket/key}, retryable or not.
 *
 * <p>Conditional writes: {@code If-None-Match: *} and {@code If-Match} on PutObject and
 * CompleteMultipartUpload. HTTP 412 becomes {@link PreconditionFailedException}. The 409 {@code
 * ConditionalRequestConflict} that S3 and MinIO answer while another write to the key is in flight
 * means this write did not happen: it is repeated (bounded), which then wins or gets the 412; a 409
 * that persists past the attempts is reported as a lost precondition too. If the SDK had to retry a
 * conditional write and the retry lost, the first attempt may have succeeded unseen: the object is
 * then read back and, if it holds exactly our bytes, the write counts as ours.
 *
 * <p>Request checksums are computed and validated only where S3 requires them (DeleteObjects), so
 * S3-compatible servers that do not know the SDK's flexible checksums work.
 *
 * <p>Thread-safe: one S3Client with a connection pool, shared by all callers.
 */
final class S3ObjectStore implements ObjectStore {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(S3ObjectStore.class);
  private static final Set<String> RETRYABLE_CODES =
      Set.of(
          "SlowDown",
          "Throttling",
          "ThrottlingException",
          "RequestTimeout",
          "RequestTimeoutException",
          "InternalError",
          "ServiceUnavailable",
          "TooManyRequestsException",
          "RequestThrottled");
  private static final Set<String> CREDENTIAL_CODES =
      Set.of(
          "AccessDenied",
          "InvalidAccessKeyId",
          "SignatureDoesNotMatch",
          "ExpiredToken",
          "InvalidToken",
          "AllAccessDisabled");

  /**
   * Knobs that are not part of the target URL.
   *
   * @param maxAttempts attempts per request including the first (>= 1)
   * @param baseDelay first backoff delay; doubles per attempt, with jitter
   * @param maxDelay cap on one backoff delay
   * @param multipartThresholdBytes files at least this large are uploaded in parts
   * @param partSizeBytes size of each part but the last (S3 wants >= 5 MiB)
   * @param deleteBatchSize keys per DeleteObjects request (S3 allows at most 1,000)
   */
  record Tuning(
      int maxAttempts,
      Duration baseDelay,
      Duration maxDelay,
      long multipartThresholdBytes,
      long partSizeBytes,
      int deleteBatchSize) {
    static final Tuning DEFAULT =
        new Tuning(5, Duration.ofMillis(100), Duration.ofSeconds(5), 64L << 20, 16L << 20, 1000);

    Tuning {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
      }
      if (partSizeBytes < 1 || multipartThresholdBytes < partSizeBytes) {
        throw new IllegalArgumentException(
            "need 1 <= partSizeBytes <= multipartThresholdBytes, got "
                + partSizeBytes
                + " and "
                + multipartThresholdBytes);
      }
      if (deleteBatchSize < 1 || deleteBatchSize > 1000) {
        throw new IllegalArgumentException(
            "deleteBatchSize must be in 1..1000, got " + deleteBatchSize);
      }
    }

    Tuning withMultipart(long thresholdBytes, long partBytes) {
      return new Tuning(
          maxAttempts, baseDelay, maxDelay, thresholdBytes, partBytes, deleteBatchSize);
    }

    Tuning withDeleteBatchSize(int keys) {
      return new Tuning(
          maxAttempts, baseDelay, maxDelay, multipartThresholdBytes, partSizeBytes, keys);
    }

    Tuning withRetries(int attempts, Duration base, Duration max) {
      return new Tuning(
          attempts, base, max, multipartThresholdBytes, partSizeBytes, deleteBatchSize);
    }
  }

  private final S3Target target;
  private final Tuning tuning;
  private final S3Client s3;

  S3ObjectStore(S3Target target, AwsCredentialsProvider credentials, Tuning tuning) {
    this.target = target;
    this.tuning = tuning;
    S3ClientBuilder builder =
        S3Client.builder()
            .credentialsProvider(credentials)
            .forcePathStyle(target.pathStyle())
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .httpClientBuilder(
                Apache5HttpClient.builder()
                    .maxConnections(64)
                    .connectionTimeout(Duration.ofSeconds(5))
                    .socketTimeout(Duration.ofSeconds(30)))
            .overrideConfiguration(
                c ->
                    c.retryStrategy(
                        r ->
                            r.maxAttempts(tuning.maxAttempts())
                                .backoffStrategy(
                                    BackoffStrategy.exponentialDelay(
                                        tuning.baseDelay(), tuning.maxDelay()))
                                .throttlingBackoffStrategy(
                                    BackoffStrategy.exponentialDelay(
                                        tuning.baseDelay().multipliedBy(5), tuning.maxDelay()))));
    if (target.endpoint() != null) {
      builder.endpointOverride(target.endpoint());
    }
    builder.region(Region.of(resolveRegion(target)));
    if (target.endpoint() == null && target.region() == null) {
      builder.crossRegionAccessEnabled(true);
    }
    this.s3 = builder.build();
  }

  private static String resolveRegion(S3Target target) {
    if (target.region() != null) {
      return target.region();
    }
    try {
      return DefaultAwsRegionProviderChain.builder().build().getRegion().id();
    } catch (SdkClientException e) {
      LOG.debug("no region configured, using us-east-1 with cross-region access", e);
      return "us-east-1";
    }
  }

  // ---------------------------------------------------------------- writes

  @Override
  public String put(String key, byte[] data) {
    return putBytes("PUT", key, data, null, null);
  }

  @Override
  public String put(String key, Path file) {
    return putFile("PUT", key, file, null);
  }

  @Override
  public String putIfAbsent(String key, byte[] data) {
    return putBytes("PUT If-None-Match", key, data, "*", null);
  }

  @Override
  public String putIfAbsent(String key, Path file) {
    return putFile("PUT If-None-Match", key, file, "*");
  }

  @Override
  public String putIfMatch(String key, byte[] data, String expectedEtag) {
    if (expectedEtag == null || Etags.normalize(expectedEtag).isEmpty()) {
      throw new IllegalArgumentException("expectedEtag must not be empty for " + key);
    }
    return putBytes("PUT If-Match", key, data, null, Etags.quoted(expectedEtag));
  }

  private String putBytes(String op, String key, byte[] data, String ifNoneMatch, String ifMatch) {
    ObjectKeys.check(key);
    PutObjectRequest request =
        PutObjectRequest.builder()
            .bucket(target.bucket())
            .key(target.fullKey(key))
            .contentLength((long) data.length)
            .ifNoneMatch(ifNoneMatch)
            .ifMatch(ifMatch)
            .build();
    boolean conditional = ifNoneMatch != null || ifMatch != null;
    try {
      return Etags.normalize(
          withConflictRetries(
                  op, key, conditional, () -> s3.putObject(request, RequestBody.fromBytes(data)))
              .eTag());
    } catch (SdkException e) {
      ObjectStoreException failure = translate(op, key, e, conditional);
      if (failure instanceof PreconditionFailedException && retried(e)) {
        Optional<StoredObject> current = get(key);
        if (current.isPresent() && Arrays.equals(current.get().data(), data)) {
          LOG.info(
              "{} {}: an earlier attempt had already written these bytes",
              op,
              target.location(key));
          return current.get().etag();
        }
      }
      throw failure;
    }
  }

  private String putFile(String op, String key, Path file, String ifNoneMatch) {
    ObjectKeys.check(key);
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new ObjectStoreException(
          op + " " + target.location(key) + ": cannot read source file " + file, false, e);
    }
    try {
      if (size >= tuning.multipartThresholdBytes()) {
        return putMultipart(key, file, size, ifNoneMatch);
      }
      PutObjectRequest request =
          PutObjectRequest.builder()
              .bucket(target.bucket())
              .key(target.fullKey(key))
              .contentLength(size)
              .ifNoneMatch(ifNoneMatch)
              .build();
      return Etags.normalize(
          withConflictRetries(
                  op,
                  key,
                  ifNoneMatch != null,
                  () -> s3.putObject(request, RequestBody.fromFile(file)))
              .eTag());
    } catch (SdkException e) {
      ObjectStoreException failure = translate(op, key, e, ifNoneMatch != null);
      if (failure instanceof PreconditionFailedException && retried(e) && holdsFile(key, file)) {
        LOG.info(
            "{} {}: an earlier attempt had already written this file", op, target.location(key));
        return head(key).map(ObjectInfo::etag).orElseThrow(() -> failure);
      }
      throw failure;
    }
  }

  private String putMultipart(String key, Path file, long size, String ifNoneMatch) {
    String fullKey = target.fullKey(key);
    if (ifNoneMatch != null && head(key).isPresent()) {
      // Fail before uploading every part; the completion below stays conditional for races.
      throw new PreconditionFailedException(
          "PUT If-None-Match "
              + target.location(key)
              + ": the key exists: another writer got"
              + " there first");
    }
    String uploadId =
        s3.createMultipartUpload(b -> b.bucket(target.bucket()).key(fullKey)).uploadId();
    try {
      List<CompletedPart> parts = new ArrayList<>();
      long offset = 0;
      for (int partNumber = 1; offset < size; partNumber++) {
        long length = Math.min(tuning.partSizeBytes(), size - offset);
        UploadPartRequest request =
            UploadPartRequest.builder()
                .bucket(target.bucket())
                .key(fullKey)
                .uploadId(uploadId)
                .partNumber(partNumber)
                .contentLength(length)
                .build();
        String etag =
            s3.uploadPart(
                    request,
                    RequestBody.fromContentProvider(
                        new FileSliceProvider(file, offset, length),
                        length,
                        "application/octet-stream"))
                .eTag();
        parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
        offset += length;
      }
      return Etags.normalize(
          withConflictRetries(
                  "PUT multipart",
                  key,
                  ifNoneMatch != null,
                  () ->
                      s3.completeMultipartUpload(
                          b ->
                              b.bucket(target.bucket())
                                  .key(fullKey)
                                  .uploadId(uploadId)
                                  .ifNoneMatch(ifNoneMatch)
                                  .multipartUpload(m -> m.parts(parts))))
              .eTag());
    } catch (SdkException | UncheckedIOException e) {
      try {
        s3.abortMultipartUpload(b -> b.bucket(target.bucket()).key(fullKey).uploadId(uploadId));
      } catch (SdkException abortFailure) {
        e.addSuppressed(abortFailure);
        LOG.warn(
            "could not abort multipart upload {} of {}",
            uploadId,
            target.location(key),
            abortFailure);
      }
      if (e instanceof UncheckedIOException io) {
        throw new ObjectStoreException(
            "PUT " + target.location(key) + ": cannot read source file " + file, false, io);
      }
      throw e;
    }
  }

  /**
   * Runs a conditional write, repeating it (bounded, with backoff) while S3 answers 409
   * ConditionalRequestConflict: that answer means a concurrent write to the key was in flight and
   * this one did not happen. The repeat then wins (200) or learns it lost (412).
   */
  private <T> T withConflictRetries(
      String op, String key, boolean conditional, java.util.function.Supplier<T> call) {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.get();
      } catch (S3Exception e) {
        if (!conditional || !isConditionalConflict(e) || attempt >= tuning.maxAttempts()) {
          throw e;
        }
        LOG.debug(
            "{} {}: concurrent write conflict, attempt {}", op, target.location(key), attempt);
        backoff(attempt);
      }
    }
  }

  private static boolean isConditionalConflict(S3Exception e) {
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    return e.statusCode() == 409 && (code == null || code.equals("ConditionalRequestConflict"));
  }

  /** Opens a fresh stream over one slice of a file each time the SDK (re)sends the part. */
  private static final class FileSliceProvider implements ContentStreamProvider {
    private final Path file;
    private final long offset;
    private final long length;
    private InputStream current;

    FileSliceProvider(Path file, long offset, long length) {
      this.file = file;
      this.offset = offset;
      this.length = length;
    }

    @Override
    public synchronized InputStream newStream() {
      try {
        if (current != null) {
          current.close();
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        channel.position(offset);
        current = new BoundedInputStream(Channels.newInputStream(channel), length);
        return current;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file + " at offset " + offset, e);
      }
    }
  }

  private static final class BoundedInputStream extends FilterInputStream {
    private long remaining;

    BoundedInputStream(InputStream in, long limit) {
      super(in);
      this.remaining = limit;
    }

    @Override
    public int read() throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int b = super.read();
      if (b >= 0) {
        remaining--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int n = super.read(b, off, (int) Math.min(len, remaining));
      if (n > 0) {
        remaining -= n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(Math.min(n, remaining));
      remaining -= skipped;
      return skipped;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(super.available(), remaining);
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }

  // ---------------------------------------------------------------- reads

  @Override
  public Optional<StoredObject> get(String key) {
    ObjectKeys.check(key);
    try {
      ResponseBytes<GetObjectResponse> bytes =
          s3.getObjectAsBytes(b -> b.bucket(target.bucket()).key(target.fullKey(key)));
      return Optional.of(
          new StoredObject(bytes.asByteArray(), Etags.normalize(bytes.response().eTag())));
    } catch (SdkException e) {
      if (isNoSuchKey(e)) {
        return Optional.empty();
      }
      throw translate("GET", key, e, false);
    }
  }

  @Override
  public Optional<byte[]> getRange(String key, long offset, long length) {
    ObjectKeys.check(key);
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException(
          "offset and length must be >= 0, got " + offset + " and " + length + " for " + key);
    }
    if (length == 0) {
      return head(key).map(info -> new byte[0]);
    }
    long last = offset + length - 1 < 0 ? Long.MAX_VALUE : offset + length - 1;
    try {
      return Optional.of(
          s3.getObjectAsBytes(
                  b ->
                      b.bucket(target.bucket())
                          .key(target.fullKey(key))
                          .range("bytes=" + offset + "-" + last))
              // The bytes are ours alone: skip the defensive copy (a ranged part is up to MiBs).
              .asByteArrayUnsafe());
    } catch (SdkException e) {
      if (isNoSuchKey(e)) {
        return Optional.empty();
      }
      if (e instanceof S3Exception s3e && s3e.statusCode() == 416) {
        return Optional.of(new byte[0]); // the object exists but ends before offset
      }
      throw translate("GET range", key, e, false);
    }
  }

  @Override
  public Optional<InputStream> getStream(String key) {
    ObjectKeys.check(key);
    try {
      ResponseInputStream<GetObjectResponse> in =
          s3.getObject(b -> b.bucket(target.bucket()).key(target.fullKey(key)));
      return Optional.of(new BodyStream(in, in.response().contentLength()));
    } catch (SdkException e) {
      if (isNoSuchKey(e)) {
        return Optional.empty();
      }
      throw translate("GET", key, e, false);
    }
  }

  /**
   * The body of one GET: SDK exceptions while reading become IOExceptions, a body shorter than its
   * Content-Length is an IOException rather than a silent end, and closing before the end aborts
   * the connection instead of draining the rest of the body.
   */
  private static final class BodyStream extends InputStream {
    private final ResponseInputStream<GetObjectResponse> in;
    private final Long expected;
    private long read;
    private boolean ended;

    BodyStream(ResponseInputStream<GetObjectResponse> in, Long expected) {
      this.in = in;
      this.expected = expected;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n;
      try {
        n = in.read(b, off, len);
      } catch (SdkException e) {
        throw new IOException("GET body failed after " + read + " bytes: " + e.getMessage(), e);
      }
      if (n < 0) {
        if (expected != null && read != expected) {
          throw new IOException("GET body ended after " + read + " of " + expected + " bytes");
        }
        ended = true;
        return -1;
      }
      read += n;
      return n;
    }

    @Override
    public void close() throws IOException {
      if (!ended && (expected == null || read < expected)) {
        in.abort();
      }
      try {
        in.close();
      } catch (SdkException e) {
        throw new IOException("closing a GET body failed: " + e.getMessage(), e);
      }
    }
  }

  @Override
  public boolean getToFile(String key, Path destination) {
    ObjectKeys.check(key);
    Path dir = destination.toAbsolutePath().getParent();
    GetObjectRequest request =
        GetObjectRequest.builder().bucket(target.bucket()).key(target.fullKey(key)).build();
    for (int attempt = 1; ; attempt++) {
      Path temp = null;
      boolean streaming = false;
      try {
        Files.createDirectories(dir);
        temp = Files.createTempFile(dir, "." + destination.getFileName() + ".", ".part");
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(request);
            FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
          streaming = true;
          long copied = in.transferTo(Channels.newOutputStream(out));
          Long expected = in.response().contentLength();
          if (expected != null && copied != expected) {
            throw new IOException("body ended after " + copied + " of " + expected + " bytes");
          }
          out.force(true);
        }
        Files.move(
            temp, destination, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        temp = null;
        return true;
      } catch (SdkException e) {
        if (isNoSuchKey(e)) {
          return false;
        }
        if (streaming && !(e instanceof S3Exception) && attempt < tuning.maxAttempts()) {
          LOG.debug(
              "GET {} broke mid-body (attempt {}), retrying", target.location(key), attempt, e);
          backoff(attempt);
          continue;
        }
        throw translate("GET", key, e, false);
      } catch (IOException e) {
        if (streaming
            && attempt < tuning.maxAttempts()
            && !(e instanceof java.nio.file.FileSystemException)) {
          LOG.debug(
              "GET {} broke mid-body (attempt {}), retrying", target.location(key), attempt, e);
          backoff(attempt);
          continue;
        }
        throw new ObjectStoreException(
            "GET " + target.location(key) + " to " + destination + " failed: " + e.getMessage(),
            !(e instanceof java.nio.file.FileSystemException),
            e);
      } finally {
        if (temp != null) {
          try {
            Files.deleteIfExists(temp);
          } catch (IOException cleanup) {
            LOG.warn("could not delete temporary file {}", temp, cleanup);
          }
        }
      }
    }
  }

  private void backoff(int attempt) {
    long max =
        Math.min(
            tuning.maxDelay().toMillis(),
            tuning.baseDelay().toMillis() << Math.min(attempt - 1, 20));
    try {
      Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(max / 2, max + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ObjectStoreException("interrupted while backing off", true, e);
    }
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    ObjectKeys.check(key);
    try {
      HeadObjectResponse r = s3.headObject(b -> b.bucket(target.bucket()).key(target.fullKey(key)));
      return Optional.of(new ObjectInfo(key, r.contentLength(), Etags.normalize(r.eTag())));
    } catch (SdkException e) {
      // A HEAD has no error body: a 404 is "no such key" (a missing bucket shows on other calls).
      if (isNoSuchKey(e) || e instanceof S3Exception s3e && s3e.statusCode() == 404) {
        return Optional.empty();
      }
      throw translate("HEAD", key, e, false);
    }
  }

  @Override
  public List<ObjectInfo> list(String prefix, String startAfter, int maxKeys) {
    String p = ObjectKeys.checkPrefix(prefix);
    if (maxKeys < 1) {
      throw new IllegalArgumentException("maxKeys must be >= 1, got " + maxKeys);
    }
    ListObjectsV2Request.Builder request =
        ListObjectsV2Request.builder()
            .bucket(target.bucket())
            .prefix(target.fullKey(p))
            .maxKeys(Math.min(maxKeys, 1000));
    if (startAfter != null && !startAfter.isEmpty()) {
      request.startAfter(target.fullKey(startAfter));
    }
    try {
      ListObjectsV2Response response = s3.listObjectsV2(request.build());
      List<ObjectInfo> infos = new ArrayList<>(response.contents().size());
      int strip = target.prefix().length();
      for (S3Object o : response.contents()) {
        infos.add(new ObjectInfo(o.key().substring(strip), o.size(), Etags.normalize(o.eTag())));
      }
      return infos;
    } catch (SdkException e) {
      throw translate("LIST", p + "*", e, false);
    }
  }

  // ---------------------------------------------------------------- deletes

  @Override
  public void delete(String key) {
    ObjectKeys.check(key);
    try {
      s3.deleteObject(b -> b.bucket(target.bucket()).key(target.fullKey(key)));
    } catch (SdkException e) {
      if (isNoSuchKey(e)) {
        return;
      }
      throw translate("DELETE", key, e, false);
    }
  }

  @Override
  public void deleteAll(Collection<String> keys) {
    List<String> all = new ArrayList<>(keys.size());
    for (String key : keys) {
      all.add(ObjectKeys.check(key));
    }
    for (int from = 0; from < all.size(); from += tuning.deleteBatchSize()) {
      List<ObjectIdentifier> batch = new ArrayList<>();
      for (String key : all.subList(from, Math.min(all.size(), from + tuning.deleteBatchSize()))) {
        batch.add(ObjectIdentifier.builder().key(target.fullKey(key)).build());
      }
      DeleteObjectsResponse response;
      try {
        response =
            s3.deleteObjects(
                b ->
                    b.bucket(target.bucket())
                        .delete(Delete.builder().objects(batch).quiet(true).build()));
      } catch (SdkException e) {
        throw translate("DELETE batch of " + batch.size() + " keys from", all.get(from), e, false);
      }
      List<S3Error> errors =
          response.errors().stream().filter(err -> !"NoSuchKey".equals(err.code())).toList();
      if (!errors.isEmpty()) {
        S3Error first = errors.get(0);
        boolean retryable = errors.stream().allMatch(err -> RETRYABLE_CODES.contains(err.code()));
        throw new ObjectStoreException(
            "DELETE s3://"
                + target.bucket()
                + ": "
                + errors.size()
                + " of "
                + batch.size()
                + " keys not deleted, first "
                + first.key()
                + ": "
                + first.code()
                + " "
                + first.message(),
            retryable,
            null);
      }
    }
  }

  @Override
  public String describe() {
    return target.describe();
  }

  @Override
  public void close() {
    s3.close();
  }

  @Override
  public String toString() {
    return describe();
  }

  // ---------------------------------------------------------------- errors

  private static boolean retried(SdkException e) {
    Integer attempts = e.numAttempts();
    return attempts != null && attempts > 1;
  }

  private boolean holdsFile(String key, Path file) {
    Optional<ObjectInfo> info = head(key);
    try {
      if (info.isEmpty() || info.get().size() != Files.size(file)) {
        return false;
      }
      Path copy = Files.createTempFile("walship-verify", ".tmp");
      try {
        return getToFile(key, copy) && Files.mismatch(copy, file) == -1;
      } finally {
        Files.deleteIfExists(copy);
      }
    } catch (IOException e) {
      LOG.warn("could not compare {} with {}", target.location(key), file, e);
      return false;
    }
  }

  private static boolean isNoSuchKey(SdkException e) {
    return e instanceof S3Exception s3e
        && s3e.statusCode() == 404
        && (s3e.awsErrorDetails() == null
            || s3e.awsErrorDetails().errorCode() == null
            || "NoSuchKey".equals(s3e.awsErrorDetails().errorCode()));
  }

  /** Maps an SDK failure (after the SDK's own retries) to the store's exception types. */
  ObjectStoreException translate(String op, String key, SdkException e, boolean conditional) {
    String where = op + " " + target.location(key);
    if (e instanceof S3Exception s3e) {
      int status = s3e.statusCode();
      String code = s3e.awsErrorDetails() == null ? null : s3e.awsErrorDetails().errorCode();
      String detail =
          "HTTP "
              + status
              + (code == null ? "" : " " + code)
              + (s3e.awsErrorDetails() == null || s3e.awsErrorDetails().errorMessage() == null
                  ? ""
                  : ": " + s3e.awsErrorDetails().errorMessage());
      if (conditional
          && (status == 412
              || status == 409 && (code == null || code.equals("ConditionalRequestConflict"))
              || status == 404 && "NoSuchKey".equals(code))) {
        return new PreconditionFailedException(
            where + ": precondition failed (" + detail + "): another writer got there first");
      }
      if ("NoSuchBucket".equals(code)) {
        return new ObjectStoreException(
            where + " failed: bucket '" + target.bucket() + "' does not exist (" + detail + ")",
            false,
            e);
      }
      if (status == 403 || status == 401 || CREDENTIAL_CODES.contains(code)) {
        return new ObjectStoreException(
            where
                + " failed: access denied to bucket '"
                + target.bucket()
                + "'; check the credentials and the bucket policy ("
                + detail
                + ")",
            false,
            e);
      }
      boolean retryable = status >= 500 || status == 429 || RETRYABLE_CODES.contains(code);
      return new ObjectStoreException(where + " failed: " + detail, retryable, e);
    }
    if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException) {
      return new ObjectStoreException(where + " timed out: " + e.getMessage(), true, e);
    }
    if (e instanceof AbortedException) {
      return new ObjectStoreException(where + " was interrupted: " + e.getMessage(), true, e);
    }
    boolean io = false;
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof IOException) {
        io = true;
        break;
      }
    }
    if (io || e.retryable()) {
      return new ObjectStoreException(
          where + " failed (network, retryable): " + e.getMessage(), true, e);
    }
    return new ObjectStoreException(where + " failed: " + e.getMessage(), false, e);
  }
}
