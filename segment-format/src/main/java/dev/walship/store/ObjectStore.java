package dev.walship.store;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The seam between walship and the bucket: a flat key space of immutable-by-convention objects.
 *
 * <p>Keys are relative to the store's root (the bucket prefix or directory named by the target
 * URL, see {@link ObjectStores#open(String)}), use {@code /} as separator, and never start with
 * {@code /}. Listing order is the lexicographic order of the UTF-8 bytes of the key, which is why
 * every key walship writes uses fixed-width, zero-padded hex numbers.
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
 * <p>Implementations are thread-safe.
 */
public interface ObjectStore extends AutoCloseable {

  /** Writes (or replaces) {@code key} with {@code data}; returns the new ETag. */
  String put(String key, byte[] data);

  /**
   * Writes (or replaces) {@code key} with the contents of {@code file}, streaming it (multipart
   * on S3 for large files) so memory stays bounded; returns the new ETag.
   */
  String put(String key, Path file);

  /**
   * Creates {@code key} only if no object has that key (S3 {@code If-None-Match: *}); returns the
   * new ETag.
   *
   * @throws PreconditionFailedException if the key exists (another writer won)
   */
  String putIfAbsent(String key, byte[] data);

  /** As {@link #putIfAbsent(String, byte[])} for a file, streamed. */
  String putIfAbsent(String key, Path file);

  /**
   * Replaces {@code key} only if its current ETag equals {@code expectedEtag} (S3 {@code
   * If-Match}); returns the new ETag.
   *
   * @throws PreconditionFailedException if the object is missing or its ETag differs
   */
  String putIfMatch(String key, byte[] data, String expectedEtag);

  /** Reads a whole object into memory; empty if absent. For small objects (manifests, leases). */
  Optional<StoredObject> get(String key);

  /**
   * Reads {@code length} bytes starting at byte {@code offset}; fewer if the object is shorter.
   * Empty if the object is absent.
   */
  Optional<byte[]> getRange(String key, long offset, long length);

  /**
   * Streams an object into {@code destination} (replaced if present), bounded memory.
   *
   * @return false if the object is absent (nothing is written)
   */
  boolean getToFile(String key, Path destination);

  /** Size and ETag of an object, or empty if absent. */
  Optional<ObjectInfo> head(String key);

  /**
   * Lists keys that start with {@code prefix} and sort strictly after {@code startAfter} (null:
   * from the start), in key order, at most {@code maxKeys} of them (one page of an S3
   * ListObjectsV2; implementations may return fewer).
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

  /** Deletes {@code key}; deleting an absent key succeeds. */
  void delete(String key);

  /** Deletes many keys (batched, S3 DeleteObjects); absent keys are not an error. */
  void deleteAll(Collection<String> keys);

  /** A short description for logs, e.g. {@code s3://bucket/prefix (endpoint ...)}, no secrets. */
  String describe();

  @Override
  void close();
}
