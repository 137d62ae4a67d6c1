package dev.walship.replica.hrana;

/**
 * Approximate bytes one pipeline response may still grow by. Not thread-safe (one request).
 */
final class ResponseBudget {
  private final long limit;
  private long used;

  ResponseBudget(long limitBytes) {
    this.limit = limitBytes;
  }

  /** Bytes counted so far; pass to {@link #rewind(long)} if what followed is discarded. */
  long mark() {
    return used;
  }

  /** Forgets what was counted after {@code mark} (a failed statement's rows are not sent). */
  void rewind(long mark) {
    used = mark;
  }

  /**
   * Counts {@code bytes} more.
   *
   * @throws HranaException code {@code RESPONSE_TOO_LARGE} once the limit is passed
   */
  void charge(long bytes) {
    used += bytes;
    if (used > limit) {
      throw new HranaException(
          "RESPONSE_TOO_LARGE",
          "the response would exceed the replica's limit of "
              + limit
              + " bytes; select fewer rows or columns (LIMIT/OFFSET)");
    }
  }
}
