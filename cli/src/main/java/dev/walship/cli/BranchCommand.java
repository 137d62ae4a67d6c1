package dev.walship.cli;

import dev.walship.restore.Brancher;
import dev.walship.restore.Lineage;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code walship branch}: a new lineage from any restore point, without copying page data. */
@Command(
    name = "branch",
    mixinStandardHelpOptions = true,
    description = {
      "Branch a database at any restore point, without copying data.",
      "Branches at the latest commit, --txid or --timestamp into a new database in",
      "the same bucket. O(1): writes NEWNAME/lineage.json naming the parent and TXID, and a",
      "back-reference NAME/branches/NEWNAME.json; restoring NEWNAME reads the parent up to that",
      "TXID, then NEWNAME's own segments. The parent is never modified."
    })
final class BranchCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--source", required = true, paramLabel = "URL", description = "Bucket URL.")
  String source;

  @Option(names = "--db", required = true, paramLabel = "NAME", description = "Database to branch.")
  String db;

  @Option(names = "--to", required = true, paramLabel = "NEWNAME", description = "Name of the branch.")
  String to;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  RestoreTargetOptions target;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    return RestoreToolErrors.run(spec.commandLine().getErr(), "branch", () -> {
      try (ObjectStore store = ObjectStores.open(source)) {
        Lineage l = new Brancher(store, Clock.systemUTC()).branch(db, to, RestoreTargetOptions.of(target));
        out.printf("created %s (lineage %s) from %s at TXID %d, checksum %016x%n", l.db(),
            l.lineageId(), l.parent().db(), l.parent().txid(), l.parent().checksum());
        out.printf("restore it with: walship restore --source '%s' --db %s -o %s.db%n", source, l.db(), l.db());
        out.flush();
        return 0;
      }
    });
  }
}
