package dev.walship.cli;

import dev.walship.restore.RestoreTarget;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.Option;

/** {@code --txid N | --timestamp T} (mutually exclusive; neither means the latest commit). */
final class RestoreTargetOptions {
  @Option(names = "--txid", paramLabel = "N", description = "Restore exactly after TXID N.")
  Long txid;

  @Option(
      names = "--timestamp",
      paramLabel = "TIME",
      description = "Restore the last commit at or before TIME (ISO-8601, e.g. 2026-11-21T10:15:00Z).")
  String timestamp;

  /** The target, {@link RestoreTarget.Latest} when {@code options} is null. */
  static RestoreTarget of(RestoreTargetOptions options) {
    if (options == null) {
      return RestoreTarget.latest();
    }
    if (options.txid != null) {
      return RestoreTarget.txid(options.txid);
    }
    if (options.timestamp != null) {
      return RestoreTarget.atOrBefore(parseInstant(options.timestamp));
    }
    return RestoreTarget.latest();
  }

  static Instant parseInstant(String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(text).toInstant();
      } catch (DateTimeParseException e2) {
        throw new IllegalArgumentException(
            "--timestamp " + text + " is not an ISO-8601 instant such as 2026-11-21T10:15:00Z");
      }
    }
  }
}
