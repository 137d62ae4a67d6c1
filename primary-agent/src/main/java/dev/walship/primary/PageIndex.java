package dev.walship.primary;

import java.util.Arrays;

/**
 * A map from page number (&gt;= 1) to a non-negative {@code long} (a WAL frame offset, a frame's
 * index in its transaction), without boxing: open addressing with linear probing over two
 * parallel arrays, key 0 marking a free slot. Memory: 16 bytes per slot, at most half the slots
 * in use.
 *
 * <p>Not thread-safe.
 */
final class PageIndex {
  /** What {@link #get} returns for a page that has no entry. */
  static final long MISSING = -1;

  private static final int INITIAL_SLOTS = 16;
  /** Above this many slots, {@link #clear()} gives the arrays back instead of wiping them. */
  private static final int KEEP_SLOTS = 1 << 16;

  private long[] keys = new long[INITIAL_SLOTS];
  private long[] values = new long[INITIAL_SLOTS];
  private int size;

  /** Number of entries. */
  int size() {
    return size;
  }

  /**
   * The value of {@code page}, or {@link #MISSING}.
   *
   * @throws IllegalArgumentException if {@code page} is below 1
   */
  long get(long page) {
    int mask = keys.length - 1;
    for (int i = slot(checkPage(page), mask); ; i = (i + 1) & mask) {
      long k = keys[i];
      if (k == page) {
        return values[i];
      }
      if (k == 0) {
        return MISSING;
      }
    }
  }

  /**
   * Sets the value of {@code page}, replacing any previous one.
   *
   * @throws IllegalArgumentException if {@code page} is below 1 or {@code value} is negative
   */
  void put(long page, long value) {
    checkPage(page);
    if (value < 0) {
      throw new IllegalArgumentException("values must be >= 0, got " + value);
    }
    if (2 * (size + 1) > keys.length) {
      rehash(keys.length * 2);
    }
    insert(page, value);
  }

  /** Removes every entry. */
  void clear() {
    if (keys.length > KEEP_SLOTS) {
      keys = new long[INITIAL_SLOTS];
      values = new long[INITIAL_SLOTS];
    } else if (size > 0) {
      Arrays.fill(keys, 0);
    }
    size = 0;
  }

  /** Removes the entries of pages above {@code lastPage}. */
  void removeAbove(long lastPage) {
    long[] oldKeys = keys;
    long[] oldValues = values;
    keys = new long[oldKeys.length];
    values = new long[oldKeys.length];
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      long k = oldKeys[i];
      if (k != 0 && k <= lastPage) {
        insert(k, oldValues[i]);
      }
    }
  }

  private void insert(long page, long value) {
    int mask = keys.length - 1;
    int i = slot(page, mask);
    while (keys[i] != 0 && keys[i] != page) {
      i = (i + 1) & mask;
    }
    if (keys[i] == 0) {
      keys[i] = page;
      size++;
    }
    values[i] = value;
  }

  private void rehash(int slots) {
    long[] oldKeys = keys;
    long[] oldValues = values;
    keys = new long[slots];
    values = new long[slots];
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != 0) {
        insert(oldKeys[i], oldValues[i]);
      }
    }
  }

  /** Fibonacci hashing: consecutive page numbers land far apart. */
  private static int slot(long page, int mask) {
    int h = (int) ((page * 0x9E3779B97F4A7C15L) >>> 32);
    return (h ^ (h >>> 16)) & mask;
  }

  private static long checkPage(long page) {
    if (page < 1) {
      throw new IllegalArgumentException("page numbers start at 1, got " + page);
    }
    return page;
  }
}
