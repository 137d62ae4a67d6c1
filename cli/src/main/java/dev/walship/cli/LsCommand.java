package dev.walship.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.walship.restore.Inventory;
import dev.walship.store.ObjectStore;
import dev.walship.store.ObjectStores;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code walship ls}: what the bucket holds. */
@Command(
    name = "ls",
    mixinStandardHelpOptions = true,
    description = {
      "List the databases in the bucket.",
      "Lineage, parent and branches, restorable TXID range, first and last commit times,",
      "snapshots, retention horizon (TXID up to which retention may delete), object counts",
      "and bytes. A table, or --json for scripts."
    })
final class LsCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--source", required = true, paramLabel = "URL", description = "Bucket URL.")
  String source;

  @Option(names = "--db", paramLabel = "NAME", description = "Only this database.")
  String db;

  @Option(names = "--json", description = "JSON output (an array of databases).")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    return RestoreToolErrors.run(spec.commandLine().getErr(), "ls", () -> {
      try (ObjectStore store = ObjectStores.open(source)) {
        Inventory inventory = new Inventory(store);
        List<Inventory.DatabaseInfo> dbs = db == null ? inventory.all() : List.of(inventory.describe(db));
        if (json) {
          out.println(toJson(dbs));
        } else {
          printTable(out, dbs);
        }
        out.flush();
        return 0;
      }
    });
  }

  static String toJson(List<Inventory.DatabaseInfo> dbs) throws Exception {
    ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ArrayNode arr = m.createArrayNode();
    for (Inventory.DatabaseInfo d : dbs) {
      ObjectNode n = arr.addObject();
      n.put("db", d.db());
      n.put("lineage_id", d.lineageId());
      if (d.parent() == null) {
        n.putNull("parent");
      } else {
        ObjectNode p = n.putObject("parent");
        p.put("db", d.parent().db());
        p.put("lineage_id", d.parent().lineageId());
        p.put("txid", d.parent().txid());
        p.put("checksum", String.format("%016x", d.parent().checksum()));
      }
      ArrayNode b = n.putArray("branches");
      d.branches().forEach(b::add);
      n.put("first_txid", d.firstTxid());
      n.put("last_txid", d.lastTxid());
      putTime(n, "first_commit", d.firstCommitMs());
      putTime(n, "last_commit", d.lastCommitMs());
      ArrayNode s = n.putArray("snapshot_txids");
      d.snapshotTxids().forEach(s::add);
      n.put("level0_segments", d.level0Segments());
      if (d.horizonTxid() < 0) {
        n.putNull("retention_horizon_txid");
      } else {
        n.put("retention_horizon_txid", d.horizonTxid());
      }
      if (d.horizonProblem() != null) {
        n.put("retention_horizon_problem", d.horizonProblem());
      }
      n.put("objects", d.objects());
      n.put("bytes", d.bytes());
    }
    return m.writeValueAsString(arr);
  }

  private static void putTime(ObjectNode n, String field, long ms) {
    if (ms < 0) {
      n.putNull(field);
    } else {
      n.put(field, Instant.ofEpochMilli(ms).toString());
    }
  }

  static void printTable(PrintWriter out, List<Inventory.DatabaseInfo> dbs) {
    String fmt = "%-16s %-10s %-20s %-16s %-24s %-24s %9s %8s %8s %10s  %s%n";
    out.printf(fmt, "DATABASE", "LINEAGE", "PARENT", "TXIDS", "FIRST COMMIT", "LAST COMMIT",
        "SNAPSHOTS", "HORIZON", "OBJECTS", "BYTES", "BRANCHES");
    for (Inventory.DatabaseInfo d : dbs) {
      out.printf(fmt, d.db(), d.lineageId().substring(0, Math.min(8, d.lineageId().length())),
          d.parent() == null ? "-" : d.parent().db() + "@" + d.parent().txid(),
          d.firstTxid() < 0 ? "-" : d.firstTxid() + ".." + d.lastTxid(),
          d.firstCommitMs() < 0 ? "-" : Instant.ofEpochMilli(d.firstCommitMs()).toString(),
          d.lastCommitMs() < 0 ? "-" : Instant.ofEpochMilli(d.lastCommitMs()).toString(),
          d.snapshotTxids().size(),
          d.horizonProblem() != null ? "?" : d.horizonTxid() < 0 ? "-" : String.valueOf(d.horizonTxid()),
          d.objects(), humanBytes(d.bytes()),
          d.branches().isEmpty() ? "-" : String.join(",", d.branches()));
    }
  }

  static String humanBytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    if (b < 1 << 20) {
      return String.format("%.1f KiB", b / 1024.0);
    }
    if (b < 1L << 30) {
      return String.format("%.1f MiB", b / 1048576.0);
    }
    return String.format("%.2f GiB", b / 1073741824.0);
  }
}
