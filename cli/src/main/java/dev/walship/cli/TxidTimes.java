package dev.walship.cli;

import java.util.Arrays;

/**
 * When a growing TXID counter (a primary's captured or durable TXID, a replica's applied TXID) was
 * first seen at or past each TXID, in epoch microseconds. TXIDs are contiguous, so every TXID the
 * counter skipped over between two observations gets the time of the later one. Thread-safe.
 */
final class TxidTimes {
  private long[] micros = new long[1024];
  private long last;

  /** Records that the counter is at {@code txid} at {@code nowMicros}. */
  synchronized void observe(long txid, long nowMicros) {
    if (txid <= last) {
      return;
    }
    if (txid >= micros.length) {
      micros = Arrays.copyOf(micros, (int) Math.max(txid + 1, micros.length * 2L));
    }
    for (long t = last + 1; t <= txid; t++) {
      micros[(int) t] = nowMicros;
    }
    last = txid;
  }

  /** The highest TXID observed. */
  synchronized long last() {
    return last;
  }

  /** First time the counter reached {@code txid}, or -1 if it has not. */
  synchronized long micros(long txid) {
    return txid <= last && txid >= 1 ? micros[(int) txid] : -1;
  }

  /** Current epoch microseconds. */
  static long nowMicros() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }
}
