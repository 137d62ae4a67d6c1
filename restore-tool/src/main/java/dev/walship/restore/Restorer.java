package dev.walship.restore;

import dev.walship.format.CorruptSegmentException;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentReader;
import dev.walship.store.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * Executes a {@link RestorePlan}: downloads the objects in parallel (a bounded pool, a bounded
 * number of bytes downloaded but not yet applied) into a temporary directory, verifies each one
 * ({@link SegmentReader#open(Path, String)} checks the file checksum), checks that consecutive
 * objects link (TXIDs and checksums), and applies them in order with a {@link PageApplier}, a
 * batch of segments at a time, stopping exactly at the target TXID.
 *
 * <p>{@link #restoreTo} builds the database in a temporary file next to the output, runs {@code
 * PRAGMA integrity_check}, switches to WAL (or keeps rollback-journal mode), fsyncs and renames it
 * into place; on any failure nothing is left at the output path.
 *
 * <p>Not thread-safe: one restore at a time per instance.
 */
public final class Restorer {

  /** Journal mode of the restored file. */
  public enum JournalMode {
    WAL,
    DELETE
  }

  /**
   * @param parallelism concurrent downloads (>= 1)
   * @param maxBytesInFlight bytes downloaded but not yet applied before further downloads wait
   *     (an object larger than this is still fetched, alone)
   * @param maxSegmentsPerApply segments applied in one EXCLUSIVE transaction (bounds open files)
   */
  public record Options(int parallelism, long maxBytesInFlight, int maxSegmentsPerApply) {
    public Options {
      if (parallelism < 1 || maxBytesInFlight < 1 || maxSegmentsPerApply < 1) {
        throw new IllegalArgumentException("options must be positive: " + parallelism + ", "
            + maxBytesInFlight + ", " + maxSegmentsPerApply);
      }
    }

    /** 8 downloads, 512 MiB in flight, 512 segments per apply. */
    public static Options defaults() {
      return new Options(8, 512L << 20, 512);
    }
  }

  /** What a restore produced. */
  public record Result(Path file, long txid, long checksum, long bytesDownloaded, int objects) {}

  private final ObjectStore store;
  private final Options options;
  private final RestoreProgress progress;

  public Restorer(ObjectStore store, Options options, RestoreProgress progress) {
    this.store = Objects.requireNonNull(store, "store");
    this.options = Objects.requireNonNull(options, "options");
    this.progress = Objects.requireNonNull(progress, "progress");
  }

  /**
   * Restores {@code plan} into {@code out}.
   *
   * @param force replace an existing {@code out} (and delete its stale {@code -wal}, {@code -shm},
   *     {@code -journal} files); without it an existing file is refused before anything is fetched
   * @throws FileAlreadyExistsWithoutForceException if {@code out} exists and {@code force} is false
   * @throws MissingObjectException, CorruptSegmentException, ChecksumChainException, or
   *     IllegalStateException (integrity_check failed) — in every case no file is left at {@code
   *     out} (an existing one is untouched)
   */
  public Result restoreTo(RestorePlan plan, Path out, boolean force, JournalMode mode) {
    Path target = out.toAbsolutePath();
    if (Files.exists(target) && !force) {
      throw new FileAlreadyExistsWithoutForceException(target);
    }
    Path dir = target.getParent();
    String tag = UUID.randomUUID().toString().substring(0, 8);
    Path tmp = dir.resolve("." + target.getFileName() + ".walship-restore-" + tag);
    Path downloads = null;
    boolean done = false;
    try {
      downloads = Files.createDirectory(dir.resolve("." + target.getFileName() + ".walship-download-" + tag));
      long bytes;
      try (PageApplier applier = PageApplier.open(tmp, plan.lineageId(), SegmentSource.none())) {
        bytes = applyPlan(plan, applier, downloads);
        if (applier.txid() != plan.targetTxid() || applier.checksum() != plan.targetChecksum()) {
          throw new ChecksumChainException(ChecksumChainException.Stage.POST_APPLY, plan.db(),
              plan.targetTxid(), plan.targetChecksum(), applier.checksum(),
              "restored TXID " + applier.txid() + " does not match the plan");
        }
      }
      Files.deleteIfExists(ApplierState.pathFor(tmp));
      finishSqlite(tmp, mode);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      if (force) {
        for (String suffix : List.of("-wal", "-shm", "-journal")) {
          Files.deleteIfExists(target.resolveSibling(target.getFileName() + suffix));
        }
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      ApplierState.fsyncDirectory(dir);
      done = true;
      return new Result(target, plan.targetTxid(), plan.targetChecksum(), bytes, plan.objects().size());
    } catch (IOException e) {
      throw new UncheckedIOException("restore to " + target + " failed", e);
    } finally {
      if (!done) {
        for (String suffix : List.of("", ".walship.json", ".walship.json.tmp", "-journal", "-wal", "-shm")) {
          deleteQuietly(tmp.resolveSibling(tmp.getFileName() + suffix));
        }
      }
      deleteTree(downloads);
      progress.finished();
    }
  }

  /**
   * Downloads and applies every object of {@code plan} to {@code applier} (which must be at TXID 0
   * or at a TXID the plan's first object continues from). Returns the bytes downloaded.
   */
  public long applyPlan(RestorePlan plan, PageApplier applier, Path downloadDir) {
    progress.started(plan);
    List<RestorePlan.PlannedObject> objects = plan.objects();
    ExecutorService pool = Executors.newFixedThreadPool(options.parallelism(), r -> {
      Thread t = new Thread(r, "walship-restore-download");
      t.setDaemon(true);
      return t;
    });
    Deque<Pending> inFlight = new ArrayDeque<>();
    List<Opened> batch = new ArrayList<>();
    long bytesInFlight = 0;
    long downloaded = 0;
    int next = 0;
    try {
      while (next < objects.size() || !inFlight.isEmpty()) {
        while (next < objects.size()
            && (inFlight.isEmpty()
                || (bytesInFlight + objects.get(next).sizeBytes() <= options.maxBytesInFlight()
                    && inFlight.size() < options.parallelism() * 4))) {
          RestorePlan.PlannedObject o = objects.get(next);
          Path file = downloadDir.resolve(String.format("%06d.seg", next));
          inFlight.add(new Pending(o, file, CompletableFuture.supplyAsync(() -> download(o, file), pool)));
          bytesInFlight += o.sizeBytes();
          next++;
        }
        Pending p = inFlight.removeFirst();
        SegmentReader reader = join(p);
        downloaded += p.object().sizeBytes();
        Opened opened = new Opened(p.object(), p.file(), reader);
        check(opened);
        boolean startsNewBatch = reader.kind() == SegmentKind.SNAPSHOT && !batch.isEmpty();
        if (startsNewBatch || batch.size() >= options.maxSegmentsPerApply()) {
          bytesInFlight -= applyBatch(applier, batch);
        }
        batch.add(opened);
      }
      if (!batch.isEmpty()) {
        bytesInFlight -= applyBatch(applier, batch);
      }
      return downloaded;
    } finally {
      pool.shutdownNow();
      for (Opened o : batch) {
        o.reader().close();
      }
      for (Pending p : inFlight) {
        p.future().cancel(true);
      }
    }
  }

  private record Pending(RestorePlan.PlannedObject object, Path file, CompletableFuture<SegmentReader> future) {}

  private record Opened(RestorePlan.PlannedObject object, Path file, SegmentReader reader) {}

  private SegmentReader download(RestorePlan.PlannedObject o, Path file) {
    if (!store.getToFile(o.key(), file)) {
      throw new MissingObjectException(o.key());
    }
    progress.downloaded(o.key(), o.sizeBytes());
    try {
      return SegmentReader.open(file, o.key());
    } catch (CorruptSegmentException e) {
      if (e.getMessage() != null && e.getMessage().contains(o.key())) {
        throw e;
      }
      throw new CorruptSegmentException(o.key() + ": " + e.getMessage(), e);
    }
  }

  private static SegmentReader join(Pending p) {
    try {
      return p.future().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /** The object's contents must match its place in the plan (key TXIDs, kind, coverage). */
  private static void check(Opened o) {
    RestorePlan.PlannedObject p = o.object();
    SegmentReader r = o.reader();
    if (r.firstTxid() != p.firstTxid()) {
      throw new CorruptSegmentException(p.key() + ": starts at TXID " + r.firstTxid()
          + " but its key says " + p.firstTxid());
    }
    if (p.snapshot() && r.kind() != SegmentKind.SNAPSHOT) {
      throw new CorruptSegmentException(p.key() + ": a snapshot key holds a " + r.kind() + " segment");
    }
    if (r.lastTxid() < p.applyUptoTxid()) {
      throw new MissingHistoryException(p.key() + " ends at TXID " + r.lastTxid() + " but the next "
          + "object starts at TXID " + (p.applyUptoTxid() + 1) + ": TXIDs " + (r.lastTxid() + 1) + ".."
          + p.applyUptoTxid() + " are missing from the bucket");
    }
  }

  /** Applies and releases a batch; returns the bytes it held. */
  private long applyBatch(PageApplier applier, List<Opened> batch) {
    long bytes = 0;
    try {
      List<PageApplier.SegmentRef> refs = new ArrayList<>();
      for (Opened o : batch) {
        refs.add(new PageApplier.SegmentRef(o.object().key(), o.reader()));
        bytes += o.object().sizeBytes();
      }
      long upto = batch.get(batch.size() - 1).object().applyUptoTxid();
      if (upto > applier.txid()) {
        applier.apply(refs, upto);
      }
      progress.applied(upto);
    } finally {
      for (Opened o : batch) {
        o.reader().close();
        deleteQuietly(o.file());
      }
      batch.clear();
    }
    return bytes;
  }

  private static void finishSqlite(Path file, JournalMode mode) {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      List<String> problems = new ArrayList<>();
      try (ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
        while (rs.next()) {
          problems.add(rs.getString(1));
        }
      }
      if (!problems.equals(List.of("ok"))) {
        throw new IllegalStateException("integrity_check of the restored database failed: "
            + String.join("; ", problems.subList(0, Math.min(10, problems.size()))));
      }
      if (mode == JournalMode.WAL) {
        try (ResultSet rs = st.executeQuery("PRAGMA journal_mode=WAL")) {
          if (!rs.next() || !"wal".equalsIgnoreCase(rs.getString(1))) {
            throw new IllegalStateException("could not switch the restored database to WAL mode");
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("the restored database cannot be opened by SQLite: " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // Best effort clean-up of a temporary file; the restore's outcome is already decided.
    }
  }

  private static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(Restorer::deleteQuietly);
    } catch (IOException ignored) {
      // Best effort clean-up of the download directory.
    }
    deleteQuietly(dir);
  }

  /** {@code out} exists and {@code --force} was not given. */
  public static final class FileAlreadyExistsWithoutForceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FileAlreadyExistsWithoutForceException(Path out) {
      super(out + " already exists; pass --force to replace it", new FileAlreadyExistsException(out.toString()));
    }
  }
}
