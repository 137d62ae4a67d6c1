package dev.walship.s3;

import java.io.InputStream;
import java.util.concurrent.locks.ReentrantLock;
import org.gaul.s3proxy.S3ErrorCode;
import org.gaul.s3proxy.S3ProxyException;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * Makes S3Proxy's {@code If-Match} writes atomic, as S3's are.
 *
 * <p>S3Proxy 4.1.0 checks {@code If-Match} in its HTTP handler and then writes: two writers holding
 * the same ETag can both succeed (measured: 4 threads x 10 compare-and-swap increments lost 5 of
 * 40). Its {@code If-None-Match: *} is atomic in the backend. This wrapper serialises the writes
 * and deletes of each key and re-checks {@code If-Match} under that lock, answering 412
 * PreconditionFailed as S3 does. S3Proxy still recognises the backend through {@link
 * ForwardingBlobStore}.
 */
final class AtomicConditionalBlobStore extends ForwardingBlobStore {
  private final ReentrantLock[] locks = new ReentrantLock[64];

  AtomicConditionalBlobStore(BlobStore delegate) {
    super(delegate);
    for (int i = 0; i < locks.length; i++) {
      locks[i] = new ReentrantLock();
    }
  }

  private ReentrantLock lockFor(String bucket, String key) {
    return locks[Math.floorMod((bucket + "/" + key).hashCode(), locks.length)];
  }

  @Override
  public PutObjectResponse putBlob(PutObjectRequest request, InputStream input) {
    ReentrantLock lock = lockFor(request.bucket(), request.key());
    lock.lock();
    try {
      if (request.ifMatch() != null) {
        requireEtag(request.bucket(), request.key(), request.ifMatch());
      }
      return delegate().putBlob(request, input);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public CompleteMultipartUploadResponse completeMultipartUpload(
      org.gaul.s3proxy.blobstore.domain.MultipartUpload upload,
      CompleteMultipartUploadRequest request) {
    ReentrantLock lock = lockFor(request.bucket(), request.key());
    lock.lock();
    try {
      if (request.ifMatch() != null) {
        requireEtag(request.bucket(), request.key(), request.ifMatch());
      }
      return delegate().completeMultipartUpload(upload, request);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public DeleteObjectResponse removeBlob(DeleteObjectRequest request) {
    ReentrantLock lock = lockFor(request.bucket(), request.key());
    lock.lock();
    try {
      return delegate().removeBlob(request);
    } finally {
      lock.unlock();
    }
  }

  private void requireEtag(String bucket, String key, String ifMatch) {
    if (ifMatch.equals("*")) {
      if (delegate().blobMetadataIfPresent(bucket, key) == null) {
        throw new S3ProxyException(S3ErrorCode.PRECONDITION_FAILED);
      }
      return;
    }
    HeadObjectResponse current = delegate().blobMetadataIfPresent(bucket, key);
    if (current == null || !unquote(current.eTag()).equals(unquote(ifMatch))) {
      throw new S3ProxyException(S3ErrorCode.PRECONDITION_FAILED);
    }
  }

  private static String unquote(String etag) {
    if (etag == null) {
      return "";
    }
    String e = etag.strip();
    return e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")
        ? e.substring(1, e.length() - 1)
        : e;
  }
}
