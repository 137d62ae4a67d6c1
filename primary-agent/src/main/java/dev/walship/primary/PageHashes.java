package dev.walship.primary;

import dev.walship.format.DatabaseChecksum;
import java.util.Arrays;

/**
 * Per-page hashes ({@link DatabaseChecksum#pageHash}) of the database at one TXID, plus their XOR,
 * which is the database checksum (HELPERS decision 1). 8 bytes of memory per page.
 *
 * <p>Updating a page XORs its old hash out and the new one in; {@link #resize(long, int)} XORs out
 * the pages beyond a smaller size and, on growth, adds pages holding zeros (what a file extended
 * without writing them reads back as).
 *
 * <p>Not thread-safe.
 */
final class PageHashes {
  private long[] hashes;
  private long sizePages;
  private long checksum;

  PageHashes() {
    this.hashes = new long[16];
  }

  private PageHashes(long[] hashes, long sizePages, long checksum) {
    this.hashes = hashes;
    this.sizePages = sizePages;
    this.checksum = checksum;
  }

  PageHashes copy() {
    return new PageHashes(Arrays.copyOf(hashes, hashes.length), sizePages, checksum);
  }

  /** Database checksum at this state. */
  long checksum() {
    return checksum;
  }

  /** Database size in pages at this state. */
  long sizePages() {
    return sizePages;
  }

  /** Hash of page {@code pageNumber} (1..size). */
  long get(long pageNumber) {
    return hashes[(int) (pageNumber - 1)];
  }

  /** Sets page {@code pageNumber} (1..size) to an image whose hash is {@code hash}. */
  void set(long pageNumber, long hash) {
    if (pageNumber < 1 || pageNumber > sizePages) {
      throw new IllegalArgumentException(
          "page " + pageNumber + " outside the database (size " + sizePages + " pages)");
    }
    int i = (int) (pageNumber - 1);
    checksum ^= hashes[i] ^ hash;
    hashes[i] = hash;
  }

  /** Changes the size; new pages are zero-filled images. */
  void resize(long newSizePages, int pageSize) {
    if (newSizePages > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("database too large: " + newSizePages + " pages");
    }
    if (newSizePages < sizePages) {
      for (long p = newSizePages + 1; p <= sizePages; p++) {
        int i = (int) (p - 1);
        checksum ^= hashes[i];
        hashes[i] = 0;
      }
    } else if (newSizePages > sizePages) {
      if (newSizePages > hashes.length) {
        hashes = Arrays.copyOf(hashes, (int) Math.max(newSizePages, Math.min(Integer.MAX_VALUE - 8, hashes.length * 2L)));
      }
      byte[] zero = null;
      for (long p = sizePages + 1; p <= newSizePages; p++) {
        if (zero == null) {
          zero = new byte[pageSize];
        }
        long h = DatabaseChecksum.pageHash(p, zero, 0, pageSize);
        hashes[(int) (p - 1)] = h;
        checksum ^= h;
      }
    }
    sizePages = newSizePages;
  }
}
