package dev.walship.replica.hrana;

import java.time.Duration;

/**
 * Limits one Hrana server enforces.
 *
 * @param queryTimeout wall time one statement may run before SQLite interrupts it
 * @param maxResponseBytes approximate JSON size of one pipeline response (values and names); a
 *     statement whose rows would pass it fails with {@code RESPONSE_TOO_LARGE}
 * @param streamIdleTimeout a stream with state (an open transaction or stored SQL) that receives
 *     no request for this long is closed and its transaction rolled back; keep it short, since an
 *     open read transaction holds SQLite's SHARED lock and delays the next apply
 * @param maxStreams stateful streams held at once; a new one beyond this is refused (HTTP 503)
 */
public record HranaLimits(
    Duration queryTimeout, long maxResponseBytes, Duration streamIdleTimeout, int maxStreams) {

  public HranaLimits {
    if (queryTimeout.isNegative() || queryTimeout.isZero()) {
      throw new IllegalArgumentException("queryTimeout must be positive, got " + queryTimeout);
    }
    if (maxResponseBytes < 1024) {
      throw new IllegalArgumentException("maxResponseBytes must be >= 1024, got " + maxResponseBytes);
    }
    if (maxStreams < 1) {
      throw new IllegalArgumentException("maxStreams must be >= 1, got " + maxStreams);
    }
  }

  /** 5 s per statement, 16 MiB per response, streams idle 10 s, 1,000 streams. */
  public static HranaLimits defaults() {
    return new HranaLimits(Duration.ofSeconds(5), 16L << 20, Duration.ofSeconds(10), 1000);
  }
}
