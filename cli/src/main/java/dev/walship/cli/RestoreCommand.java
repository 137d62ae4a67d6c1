package dev.walship.cli;

import dev.walship.format.BucketLayout;
import dev.walship.restore.Inventory;
import dev.walship.restore.RestorePlan;
import dev.walship.restore.RestorePlanner;
import dev.walship.restore.Restorer;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code walship restore}: point-in-time restore of a database from the bucket to a file. */
@Command(
    name = "restore",
    mixinStandardHelpOptions = true,
    description = {
      "Restore a database from the bucket (point in time).",
      "Latest by default, exactly after a TXID, or the last commit at or before an instant.",
      "Verifies every object and the checksum chain, runs integrity_check, and renames the",
      "finished file into place (never a partial file)."
    })
final class RestoreCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--source", required = true, paramLabel = "URL",
      description = "Bucket URL: s3://bucket/prefix?endpoint=..&path-style=true or file:///dir.")
  String source;

  @Option(names = "--db", paramLabel = "NAME",
      description = "Database name (default: the only database in the bucket).")
  String db;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.db",
      description = "Where to write the restored database.")
  Path output;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  RestoreTargetOptions target;

  @Option(names = "--force", description = "Replace OUT.db if it exists.")
  boolean force;

  @Option(names = "--journal-mode", paramLabel = "wal|delete", defaultValue = "wal",
      description = "Journal mode of the restored file (default: ${DEFAULT-VALUE}).")
  String journalMode;

  @Option(names = "--parallelism", paramLabel = "N", defaultValue = "8",
      description = "Concurrent downloads (default: ${DEFAULT-VALUE}).")
  int parallelism;

  @Option(names = "--max-bytes-in-flight", paramLabel = "BYTES", defaultValue = "536870912",
      description = "Bytes downloaded but not yet applied (default: ${DEFAULT-VALUE}).")
  long maxBytesInFlight;

  @Option(names = "--part-size", paramLabel = "BYTES", defaultValue = "0",
      description = "Fetch objects larger than this as parallel ranged GETs of this size (0: one GET per object).")
  long partSize;

  @Option(names = "--progress", paramLabel = "auto|bar|log|none", defaultValue = "auto",
      description = "Progress output (default: a bar on a terminal, log lines otherwise).")
  String progress;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Restorer.JournalMode mode = switch (journalMode.toLowerCase(java.util.Locale.ROOT)) {
      case "wal" -> Restorer.JournalMode.WAL;
      case "delete", "rollback" -> Restorer.JournalMode.DELETE;
      default -> throw new CommandLine.ParameterException(spec.commandLine(),
          "--journal-mode must be wal or delete, not " + journalMode);
    };
    return RestoreToolErrors.run(err, "restore", () -> {
      if (java.nio.file.Files.exists(output) && !force) {
        throw new Restorer.FileAlreadyExistsWithoutForceException(output.toAbsolutePath());
      }
      try (ObjectStore store = ObjectStores.open(source)) {
        String name = db != null ? db : onlyDatabase(store);
        RestorePlan plan = new RestorePlanner(store).plan(name, RestoreTargetOptions.of(target));
        err.printf("restore: %s at TXID %d (committed %s) from %d objects%n", name, plan.targetTxid(),
            Instant.ofEpochMilli(plan.targetCommitTimeMillis()), plan.objects().size());
        err.flush();
        boolean terminal = switch (progress) {
          case "bar" -> true;
          case "log", "none" -> false;
          default -> isTerminal();
        };
        var listener = "none".equals(progress) ? dev.walship.restore.RestoreProgress.none()
            : new RestoreProgressBar(terminal, err);
        long start = System.nanoTime();
        Restorer.Result r = new Restorer(store,
            new Restorer.Options(parallelism, maxBytesInFlight, 512, partSize), listener)
            .restoreTo(plan, output, force, mode);
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf("restored %s to %s: TXID %d, checksum %016x, %d objects, %.1f MiB in %.2f s (%.1f MiB/s)%n",
            name, r.file(), r.txid(), r.checksum(), r.objects(), r.bytesDownloaded() / 1048576.0,
            seconds, r.bytesDownloaded() / 1048576.0 / Math.max(seconds, 1e-9));
        out.flush();
        return 0;
      }
    });
  }

  /**
   * Whether stdout/stderr is an interactive terminal. JDK 22+ returns a Console even when
   * redirected and says so with {@code Console.isTerminal()} (absent from the Java 21 API).
   */
  static boolean isTerminal() {
    java.io.Console c = System.console();
    if (c == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }

  /** The single database of the bucket; an error naming them when there are several. */
  static String onlyDatabase(ObjectStore store) {
    List<String> names = new Inventory(store).databaseNames();
    if (names.size() == 1) {
      return names.get(0);
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException("the bucket " + store.describe() + " holds no database (no "
          + BucketLayout.lineageKey("NAME") + ")");
    }
    throw new IllegalArgumentException("the bucket holds several databases, choose one with --db: "
        + String.join(", ", names));
  }
}
