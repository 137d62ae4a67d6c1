package dev.walship.store;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The seam between walship and the bucket: a flat key space of immutable-by-convention objects.
 *
 * <p>Keys are relative to the store's root (the bucket prefix or directory named by the target URL,
 * see {@link ObjectStores#open(String)}), use {@code /} as separator, and never start with {@code
 * /}. Listing order is the lexicographic order of the UTF-8 bytes of the key, which is why every
 * key walship writes uses fixed-width, zero-padded hex numbers.
 *
 * <p>Contracts every implementation honours (checked by the shared contract test suite):
 *
 * <ul>
 *   <li>A successful {@code put*} is durable and visible to every later {@code get} and {@code
 *       list} (read-after-write, as S3 has offered since 2020).
 *   <li>{@link #putIfAbsent} is atomic: of any number of racing writers of one key exactly one
 *       succeeds; the others get {@link PreconditionFailedException}.
 *   <li>{@link #putIfMatch} replaces an object only if its current ETag equals the given one.
 *   <li>Readers never observe a partially written object.
 *   <li>Transient failures (5xx, throttling, timeouts) are retried inside the implementation with
 *       bounded backoff; what escapes is {@link ObjectStoreException}, retryable or not as it says.
 * </ul>
 *
 * <p>Implementations: {@code ObjectStores.open("s3://...")} (AWS SDK v2) and {@code
 * ObjectStores.open("file:///...")} (a local directory); {@link RetryingObjectStore} adds retries
 * around any store. All are thread-safe. The contract test suite is {@code
 * dev.walship.store.testing.ObjectStoreContract} in segment-format's test-jar.
 */
public interface ObjectStore extends AutoCloseable {

  /**
   * Writes (or replaces) {@code key} with {@code data}, atomically: readers see the old object or
   * the new one, never a mix.
   *
   * @return the new ETag (unquoted; the hex MD5 of the bytes on S3 and the local store)
   * @throws IllegalArgumentException if the key breaks the key rules (empty, leading or trailing
   *     {@code /}, empty or {@code .}/{@code ..} segment, backslash or control character)
   * @throws ObjectStoreException if the write failed after retries (then it did not happen, or may
   *     have happened if the exception is retryable)
   */
  String put(String key, byte[] data);

  /**
   * Writes (or replaces) {@code key} with the contents of {@code file}, streaming it (multipart on
   * S3 for files of 64 MiB and more, in 16 MiB parts) so memory stays bounded; returns the new ETag
   * (for a multipart object an S3 ETag is not the content MD5). The file must not change while it
   * is being written.
   *
   * @throws ObjectStoreException non-retryable if {@code file} cannot be read
   */
  String put(String key, Path file);

  /**
   * Creates {@code key} only if no object has that key (S3 {@code If-None-Match: *}); returns the
   * new ETag. Of any number of writers racing for one key, in this process or others, exactly one
   * succeeds. If a retry of this write finds the key taken and the object holds exactly {@code
   * data}, an earlier attempt landed and the write counts as successful.
   *
   * @throws PreconditionFailedException if the key exists (another writer won): the caller is
   *     fenced and must not retry
   */
  String putIfAbsent(String key, byte[] data);

  /**
   * As {@link #putIfAbsent(String, byte[])} for a file, streamed (multipart on S3 for large files,
   * the condition checked when the upload completes).
   *
   * @throws PreconditionFailedException if the key exists
   */
  String putIfAbsent(String key, Path file);

  /**
   * Replaces {@code key} only if its current ETag equals {@code expectedEtag} (S3 {@code If-Match},
   * quoted or not); returns the new ETag. Used for compare-and-swap on small objects such as the
   * lease: of two writers holding the same ETag at most one succeeds.
   *
   * <p>Ambiguity: after a timeout or lost response the write may have landed unseen. A retry that
   * then fails its precondition but finds exactly {@code data} stored counts as success; one that
   * finds other bytes reports {@link PreconditionFailedException} even if the first attempt had
   * landed and was then overwritten. So make the bytes of every conditional write unique to its
   * writer (the lease carries its holder id), and treat a lost precondition as "re-read before
   * deciding", never as proof that nothing was written.
   *
   * @throws PreconditionFailedException if the object is missing or its ETag differs
   * @throws IllegalArgumentException if {@code expectedEtag} is null or empty
   */
  String putIfMatch(String key, byte[] data, String expectedEtag);

  /**
   * Reads a whole object into memory with the ETag of exactly those bytes; empty if absent. For
   * small objects (manifests, leases, segments already bounded in size); use {@link #getToFile} for
   * snapshots.
   *
   * @throws ObjectStoreException if the read failed after retries (never for a missing key)
   */
  Optional<StoredObject> get(String key);

  /**
   * Reads {@code length} bytes starting at byte {@code offset} (HTTP range GET); fewer if the
   * object ends first, and an empty array (not an empty Optional) if it ends at or before {@code
   * offset}. Empty only if the object is absent.
   *
   * @throws IllegalArgumentException if {@code offset} or {@code length} is negative
   */
  Optional<byte[]> getRange(String key, long offset, long length);

  /**
   * Streams an object into {@code destination} (replaced if present, parent directories created),
   * bounded memory. The bytes go to a temporary file beside the destination, are fsynced and
   * renamed over it: on failure the destination is as it was.
   *
   * @return false if the object is absent (nothing is written)
   */
  boolean getToFile(String key, Path destination);

  /**
   * Opens the whole object as a stream (one GET), for reading a large object front to back with
   * bounded memory, e.g. applying a snapshot while it downloads. The caller must close the stream
   * (closing early abandons the rest of the body). A failure while the body is being read surfaces
   * as an {@link java.io.IOException} from {@code read}; nothing is retried mid-stream (a caller
   * that wants to retry opens a new stream and starts over). The stream reads one version of the
   * object: if the key is replaced meanwhile, it keeps reading the version it opened or fails.
   *
   * @return empty if the object is absent
   * @throws ObjectStoreException if the object cannot be opened (after retries)
   */
  Optional<java.io.InputStream> getStream(String key);

  /** Size in bytes and ETag of an object, or empty if absent. No body is transferred. */
  Optional<ObjectInfo> head(String key);

  /**
   * Lists keys that start with {@code prefix} (plain string prefix, need not end with {@code /};
   * empty for all) and sort strictly after {@code startAfter} (null: from the start), in key order,
   * at most {@code maxKeys} of them (one page of an S3 ListObjectsV2, capped at 1,000;
   * implementations may return fewer, an empty page means the end). Keys and {@code startAfter} are
   * relative to the store root.
   *
   * @throws IllegalArgumentException if {@code maxKeys < 1}
   */
  List<ObjectInfo> list(String prefix, String startAfter, int maxKeys);

  /** Lists every key with {@code prefix} after {@code startAfter}, following pagination. */
  default List<ObjectInfo> listAll(String prefix, String startAfter) {
    List<ObjectInfo> all = new java.util.ArrayList<>();
    String after = startAfter;
    while (true) {
      List<ObjectInfo> page = list(prefix, after, 1000);
      if (page.isEmpty()) {
        return all;
      }
      all.addAll(page);
      after = page.get(page.size() - 1).key();
    }
  }

  /** Deletes {@code key}; deleting an absent key succeeds (idempotent). */
  void delete(String key);

  /**
   * Deletes many keys (S3 DeleteObjects in batches of at most 1,000); absent keys are not an error.
   * Not atomic: on failure some keys may be gone; calling again is safe (idempotent).
   */
  void deleteAll(Collection<String> keys);

  /** A short description for logs, e.g. {@code s3://bucket/prefix (endpoint ...)}, no secrets. */
  String describe();

  /** Releases connections and file handles; the store must not be used afterwards. */
  @Override
  void close();
}
