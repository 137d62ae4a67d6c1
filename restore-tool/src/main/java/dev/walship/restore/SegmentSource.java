package dev.walship.restore;

import dev.walship.format.SegmentReader;

/**
 * Fetches a segment by its object key again, for {@link PageApplier}'s crash repair (a pending
 * apply intent names the keys it was applying). A replica answers from its {@code ObjectStore};
 * the caller owns nothing: the applier closes the returned reader.
 */
@FunctionalInterface
public interface SegmentSource {
  /**
   * @param key object key recorded in the intent, e.g. {@code db/L0/0000000000000007.seg}
   * @return an opened (and therefore verified) reader
   * @throws RuntimeException if the segment cannot be fetched; repair then fails and the database
   *     stays unavailable
   */
  SegmentReader open(String key);

  /** A source for callers that never need repair (a fresh file): any repair fails. */
  static SegmentSource none() {
    return key -> {
      throw new IllegalStateException("no segment source to repair from (needed " + key + ")");
    };
  }
}
