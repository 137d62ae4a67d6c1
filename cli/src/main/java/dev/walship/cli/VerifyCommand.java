package dev.walship.cli;

import dev.walship.restore.Verifier;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code walship verify}: download and check every object; non-zero exit on any problem. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Download and check every object in the bucket.",
      "For one or all databases: file checksums, TXID continuity,",
      "the checksum chain, and snapshots against the segments before them. Each problem is",
      "reported with its key; the exit status is 1 if there is any."
    })
final class VerifyCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--source", required = true, paramLabel = "URL", description = "Bucket URL.")
  String source;

  @Option(names = "--db", paramLabel = "NAME", description = "Only this database.")
  String db;

  @Option(names = "--parallelism", paramLabel = "N", defaultValue = "8",
      description = "Concurrent downloads (default: ${DEFAULT-VALUE}).")
  int parallelism;

  @Option(names = "--temp-dir", paramLabel = "DIR", description = "Where downloads are spooled (default: java.io.tmpdir).")
  Path tempDir;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    return RestoreToolErrors.run(spec.commandLine().getErr(), "verify", () -> {
      try (ObjectStore store = ObjectStores.open(source)) {
        Path tmp = tempDir != null ? tempDir : Path.of(System.getProperty("java.io.tmpdir"));
        Verifier verifier = new Verifier(store, parallelism, tmp);
        List<Verifier.Report> reports = db == null ? verifier.verifyAll() : List.of(verifier.verify(db));
        int problems = 0;
        for (Verifier.Report r : reports) {
          String range = r.firstTxid() < 0 ? "no segments" : "TXIDs " + r.firstTxid() + ".." + r.lastTxid();
          out.printf("%s: %s (%d objects, %s, %s)%n", r.db(), r.ok() ? "OK" : r.problems().size() + " problem(s)",
              r.objectsChecked(), LsCommand.humanBytes(r.bytesChecked()), range);
          for (Verifier.Problem p : r.problems()) {
            out.printf("  %s: %s%n", p.key(), p.message());
          }
          problems += r.problems().size();
        }
        if (reports.isEmpty()) {
          out.println("no databases in " + store.describe());
        }
        out.flush();
        return problems == 0 ? 0 : 1;
      }
    });
  }
}
