package dev.walship.restore;

import dev.walship.format.CommitRecord;
import dev.walship.format.DatabaseChecksum;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.sqlite.SQLiteConfig;

/**
 * Applies segments to a local SQLite file in place, while other connections of this process (and
 * other processes) keep reading it: the lock-coordinated method of DESIGN.md ("Facts already
 * checked"). Used by the restore tool (to build a restored file) and by the replica (to follow the
 * bucket), so it is written once here.
 *
 * <h2>How an apply works</h2>
 *
 * <ol>
 *   <li>The file is kept in rollback-journal mode (page 1 bytes 18-19 = 1), so SQLite's file locks
 *       (POSIX advisory locks) coordinate readers with the applier.
 *   <li>Pre-check: an INCREMENTAL segment must start from the local database checksum ({@link
 *       SegmentReader#checksumBefore()} or, when the file is already inside the segment, the
 *       commit record of the local TXID). A SNAPSHOT segment replaces the whole file, unchecked.
 *   <li>The intent is written to the sidecar state file {@code NAME.walship.state} ({@link
 *       StateFile}: one slot written in place, {@code fdatasync}) before any page is touched. It
 *       names every segment applied since the pages were last fsynced (the base), from and upto
 *       TXIDs and the expected checksum.
 *   <li>{@code BEGIN EXCLUSIVE} on a dedicated sqlite-jdbc connection, so no reader is inside a
 *       read transaction; for each page the newest version with {@code from < txid <= upto} is
 *       written through one {@link FileChannel} opened once and never closed while SQLite
 *       connections are open (closing any descriptor of the file drops every POSIX lock the process
 *       holds on it); the file size is set to {@code dbSizePages * pageSize}; page 1 gets the
 *       change counter (bytes 24-27) bumped and version-valid-for (92-95) set, so readers drop
 *       their page caches; {@code COMMIT}. Readers see the new TXID from here on.
 *   <li>Post-check: the running checksum (updated per page from the old and new images) must equal
 *       the commit record of {@code upto}. A mismatch marks the database failed (persisted) and
 *       throws.
 *   <li>Later ({@link #sync}: when the follower goes idle, every {@value #MAX_UNSYNCED_SEGMENTS}
 *       segments, after a snapshot, at {@link #close}): {@code fdatasync} of the file, then a record
 *       naming the new TXID as the base, written without fsync.
 * </ol>
 *
 * <p>The fsyncs, and why each is needed. <b>Per apply, one</b>: the intent, because a page that
 * reaches the disk while the durable state does not cover it would be a silent divergence no
 * restart could detect. <b>Per sync, one</b>: the pages, because a record naming a later base
 * must never be on disk before them. <b>None</b> for the record that moves the base: if it is
 * lost, the durable intent before it is repaired. SQLite adds none: {@code BEGIN EXCLUSIVE ...
 * COMMIT} writes no journal when nothing was changed through SQL. Readers may see pages that are
 * not yet durable; after a crash (even a power loss) the repair on open brings the file back to
 * at least that TXID before anything is served, so a replica's TXID never goes backwards.
 *
 * <p>The first apply to an empty file (a bootstrap) is written without SQLite's lock: until it
 * has a valid header nobody can read the file, and a SQLite write transaction on an empty file
 * would create a fresh page 1 of its own. Serve reads only once {@link #txid()} is above 0.
 *
 * <p>Crash safety: a pending intent found by {@link #open} is repaired before the applier is
 * returned: the segments since the base (at most {@value #MAX_UNSYNCED_SEGMENTS}) are fetched
 * again through the {@link SegmentSource}, re-applied without the pre-check (full page images are
 * idempotent), fsynced, and the whole file's checksum is recomputed and compared with the
 * intent's expected checksum.
 *
 * <p>One applier per file, in one process: it owns the file's sidecar state and is the only
 * writer of the file; any number of readers (this process or others) may read it.
 *
 * <p>Thread safety: {@link #apply} and {@link #close} are serialized on this object; {@link
 * #txid()}, {@link #checksum()} and {@link #openReader()} may be called from any thread at any
 * time.
 *
 * <p>Checksums are {@link DatabaseChecksum} (team decision 1).
 */
public final class PageApplier implements AutoCloseable {

  /** A segment to apply together with the object key it came from (recorded in the intent). */
  public record SegmentRef(String key, SegmentReader reader) {
    public SegmentRef {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(reader, "reader");
    }
  }

  private static final int DEFAULT_BUSY_TIMEOUT_MS = 30_000;
  /** Largest write of consecutive pages: see {@link SnapshotStreamWriter#WRITE_BYTES}. */
  private static final int WRITE_RUN_BYTES = SnapshotStreamWriter.WRITE_BYTES;
  private static final int PARALLEL_MIN_PAGES = 8192;
  private static final int MAX_APPLY_THREADS = 4;
  /** Segments applied without an fsync of the pages before {@link #apply} syncs by itself. */
  static final int MAX_UNSYNCED_SEGMENTS = 64;
  /** GETs of a streamed snapshot: the first, and one more if its body breaks. */
  private static final int SNAPSHOT_BODY_ATTEMPTS = 2;

  private final Path file;
  private final StateFile stateFile;
  private final FileChannel channel;
  private final Connection lock;
  private final String readerUrl;
  private volatile ApplierState state;
  private Unsynced unsynced = Unsynced.NONE;
  private volatile RuntimeException interrupted;
  private boolean closed;

  private PageApplier(Path file, StateFile stateFile, FileChannel channel, Connection lock, ApplierState state) {
    this.file = file;
    this.stateFile = stateFile;
    this.channel = channel;
    this.lock = lock;
    this.readerUrl = "jdbc:sqlite:file:" + file.toAbsolutePath() + "?mode=ro";
    this.state = state;
  }

  /**
   * Opens (or creates, empty) the database file {@code dbFile} and its sidecar state, repairing an
   * interrupted apply first.
   *
   * @param dbFile the SQLite file; created empty (TXID 0) if absent. An existing non-empty file
   *     without a sidecar state file is refused: it was not built by walship.
   * @param lineageId lineage the file follows; null to accept whatever the state file says. A
   *     state file naming another lineage is refused (IllegalStateException).
   * @param repairSource fetches segments by key to repair a pending intent; {@link
   *     SegmentSource#none()} for a fresh file
   * @throws DatabaseFailedException if the repair re-applied the segments but the checksum does
   *     not match (the database is then marked failed)
   * @throws UncheckedIOException on I/O errors
   */
  public static PageApplier open(Path dbFile, String lineageId, SegmentSource repairSource) {
    StateFile stateFile = null;
    FileChannel channel = null;
    Connection lock = null;
    try {
      ApplierState state;
      if (StateFile.exists(dbFile)) {
        stateFile = StateFile.open(dbFile);
        state = stateFile.current();
        if (lineageId != null && state.lineageId() != null && !lineageId.equals(state.lineageId())) {
          throw new IllegalStateException(
              dbFile + " follows lineage " + state.lineageId() + ", not " + lineageId);
        }
        if (state.lineageId() == null && lineageId != null) {
          state = new ApplierState(lineageId, state.txid(), state.checksum(), state.pageSize(),
              state.pending(), state.failure());
          stateFile.writeDurable(state);
        }
      } else {
        if (Files.exists(dbFile) && Files.size(dbFile) > 0) {
          throw new IllegalStateException(
              dbFile + " exists but has no walship state file " + StateFile.pathFor(dbFile)
                  + "; refusing to apply segments to a file walship did not build");
        }
        state = new ApplierState(lineageId, 0, 0, 0, null, null);
        stateFile = StateFile.create(dbFile, state);
      }
      if (!Files.exists(dbFile)) {
        Files.createFile(dbFile);
      }
      channel = FileChannel.open(dbFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
      forceRollbackJournalMode(channel);
      SQLiteConfig config = new SQLiteConfig();
      config.setBusyTimeout(DEFAULT_BUSY_TIMEOUT_MS);
      lock = config.createConnection("jdbc:sqlite:" + dbFile.toAbsolutePath());
      PageApplier applier = new PageApplier(dbFile, stateFile, channel, lock, state);
      if (state.pending() != null && state.failure() == null) {
        applier.repair(repairSource);
      }
      return applier;
    } catch (IOException e) {
      closeQuietly(lock, channel, stateFile);
      throw new UncheckedIOException("cannot open " + dbFile, e);
    } catch (SQLException e) {
      closeQuietly(lock, channel, stateFile);
      throw new UncheckedIOException(new IOException("cannot open SQLite connection on " + dbFile, e));
    } catch (RuntimeException e) {
      closeQuietly(lock, channel, stateFile);
      throw e;
    }
  }

  /**
   * What the sidecar state of {@code dbFile} records, read without opening or repairing anything
   * (for tools and tests; safe while an applier in another process writes it).
   *
   * @param txid last TXID whose pages are durable
   * @param pendingUptoTxid TXID an interrupted (or running) apply was going to, or -1
   * @param failure why the file was marked failed, or null
   */
  public record RecordedState(long txid, long checksum, long pendingUptoTxid, String failure) {}

  /**
   * Reads the sidecar state of {@code dbFile}.
   *
   * @return empty if there is no state file
   * @throws IllegalStateException if the state file is corrupt (neither slot valid)
   */
  public static Optional<RecordedState> recordedState(Path dbFile) {
    if (!StateFile.exists(dbFile)) {
      return Optional.empty();
    }
    ApplierState s = StateFile.read(dbFile);
    return Optional.of(new RecordedState(s.txid(), s.checksum(),
        s.pending() == null ? -1 : s.pending().uptoTxid(), s.failure()));
  }

  /** The sidecar files walship may keep beside {@code dbFile} (to delete with it). */
  public static List<Path> sidecarFiles(Path dbFile) {
    return StateFile.sidecars(dbFile);
  }

  /** The database file. */
  public Path file() {
    return file;
  }

  /**
   * Last TXID applied: what readers see (durable, or brought back by the repair on open after a
   * crash); 0 for an empty file.
   */
  public long txid() {
    return state.txid();
  }

  /** {@link DatabaseChecksum} of the file at {@link #txid()}. */
  public long checksum() {
    return state.checksum();
  }

  /** Bytes per page, 0 while the file is empty. */
  public int pageSize() {
    return state.pageSize();
  }

  /** The lineage this file follows (null until named). */
  public String lineageId() {
    return state.lineageId();
  }

  /**
   * Why the database was marked failed (or an apply failed half way and a reopen must repair
   * it), or empty if it is healthy.
   */
  public Optional<String> failure() {
    RuntimeException i = interrupted;
    if (i != null) {
      return Optional.of("an apply failed half way (" + i.getMessage() + "); reopen to repair");
    }
    return Optional.ofNullable(state.failure());
  }

  /**
   * JDBC URL for read-only connections on the file (a connection pool may use it directly; set a
   * busy timeout, since readers wait while an apply holds the EXCLUSIVE lock, typically a few ms).
   */
  public String readerUrl() {
    return readerUrl;
  }

  /**
   * Opens a read-only connection on the file with a busy timeout of 30 s. The caller must close it
   * before {@link #close()} is called on this applier.
   *
   * @throws DatabaseFailedException if the database is marked failed
   */
  public Connection openReader() throws SQLException {
    requireHealthy();
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setBusyTimeout(DEFAULT_BUSY_TIMEOUT_MS);
    return config.createConnection(readerUrl);
  }

  /**
   * Applies one segment up to {@code uptoTxid} (any TXID inside it).
   *
   * @see #apply(List, long)
   */
  public void apply(String key, SegmentReader segment, long uptoTxid) {
    apply(List.of(new SegmentRef(key, segment)), uptoTxid);
  }

  /**
   * Applies consecutive segments as one step up to {@code uptoTxid} (inside the last one): each
   * page is written once, with its newest version in {@code (txid(), uptoTxid]}. Only the first
   * segment may be a SNAPSHOT. On return readers see {@code uptoTxid}; the pages are durable after
   * the next {@link #sync} (until then a crash is repaired from the recorded intent).
   *
   * @param segments in TXID order; the first must contain {@code txid() + 1} (or be a snapshot),
   *     each next one must start at most one past the previous one's end and link to its checksum
   * @param uptoTxid target TXID, {@code txid() < uptoTxid <= last.lastTxid()}
   * @throws ChecksumChainException PRE_APPLY or LINK: nothing was written, the database is still
   *     intact at {@link #txid()}; POST_APPLY: the database is now marked failed
   * @throws IllegalArgumentException if the segments do not cover the range contiguously, or the
   *     page size differs from the file's
   * @throws DatabaseFailedException if the database was already marked failed, or an earlier
   *     apply failed half way (an I/O or SQLite error while writing pages): close and reopen the
   *     applier, which repairs it from the intent in the sidecar
   * @throws UncheckedIOException on an I/O error while writing (then as above)
   */
  public synchronized void apply(List<SegmentRef> segments, long uptoTxid) {
    requireOpen();
    requireHealthy();
    if (segments.isEmpty()) {
      throw new IllegalArgumentException("no segments to apply");
    }
    ApplierState s = state;
    SegmentRef first = segments.get(0);
    SegmentReader f = first.reader();
    boolean snapshot = f.kind() == SegmentKind.SNAPSHOT;
    long from = snapshot ? f.firstTxid() - 1 : s.txid();
    if (!snapshot) {
      if (s.pageSize() != 0 && f.pageSize() != s.pageSize()) {
        throw new IllegalArgumentException(
            first.key() + ": page size " + f.pageSize() + " differs from the file's " + s.pageSize());
      }
      if (from < f.firstTxid() - 1 || from >= f.lastTxid()) {
        throw new IllegalArgumentException(
            first.key() + " covers TXIDs " + f.firstTxid() + ".." + f.lastTxid()
                + " but the database is at TXID " + from + " (needs " + (from + 1) + ")");
      }
      long expectedBefore = checksumAt(f, from);
      if (expectedBefore != s.checksum()) {
        throw new ChecksumChainException(
            ChecksumChainException.Stage.PRE_APPLY, first.key(), from, expectedBefore, s.checksum(),
            "the segment does not continue the local database");
      }
    }
    long[][] ranges = ranges(segments, from, uptoTxid, snapshot);
    SegmentReader last = segments.get(segments.size() - 1).reader();
    CommitRecord target = commitOf(last, uptoTxid);
    List<String> keys = segments.stream().map(SegmentRef::key).toList();
    if (!snapshot && unsynced.size() + keys.size() > MAX_UNSYNCED_SEGMENTS) {
      syncPages();
    }
    // The intent covers every segment applied since the pages were last fsynced (the "base"), so
    // a repair re-applies all page images that may be missing from the disk.
    Unsynced chain = snapshot || unsynced.isEmpty()
        ? new Unsynced(keys, from, snapshot, s)
        : unsynced.extendedBy(keys);
    ApplierState.Intent intent = new ApplierState.Intent(
        chain.keys(), chain.fromTxid(), uptoTxid, target.checksumAfter(), chain.snapshot());
    ApplierState.Intent own = new ApplierState.Intent(keys, from, uptoTxid, target.checksumAfter(), snapshot);
    stateFile.writeDurable(chain.base().withPending(intent)); // the fsync: intent before any page
    state = new ApplierState(s.lineageId(), s.txid(), s.checksum(), s.pageSize(), own, null);
    long computed;
    try {
      computed = writePages(segments, ranges, target.dbSizePages(), snapshot, s, false);
    } catch (RuntimeException e) {
      // Pages may be half written: the intent stays in the sidecar; reopening repairs it.
      interrupted = e;
      throw e;
    }
    if (computed != target.checksumAfter()) {
      String why = "post-apply checksum mismatch at TXID " + uptoTxid + " applying " + keys
          + ": expected " + ChecksumChainException.hex(target.checksumAfter()) + ", computed "
          + ChecksumChainException.hex(computed);
      markFailed(why);
      throw new ChecksumChainException(
          ChecksumChainException.Stage.POST_APPLY, String.join(",", keys), uptoTxid,
          target.checksumAfter(), computed, "database marked failed");
    }
    // No fsync of the pages here and no record: the durable intent names everything since the
    // base, so a crash (or power loss) at any point from now on is repaired on open.
    state = new ApplierState(s.lineageId(), uptoTxid, computed, f.pageSize(), null, null);
    unsynced = chain;
    if (snapshot) {
      syncPages(); // a repair never needs to fetch a (large) snapshot again after this
    }
  }

  /**
   * Makes every page applied so far durable ({@code fdatasync} of the file) and records the TXID
   * as the new base, so a crash repair re-applies nothing older. {@link #apply} does it by itself
   * every {@value #MAX_UNSYNCED_SEGMENTS} segments and {@link #close} does it; a follower calls it
   * when it goes idle. No-op if nothing was applied since the last one, or the database is failed.
   *
   * @throws UncheckedIOException if the fsync fails (the intent stays; a reopen repairs)
   */
  public synchronized void sync() {
    requireOpen();
    if (interrupted == null && state.failure() == null) {
      syncPages();
    }
  }

  /** Segments applied (visible to readers) but not yet fsynced; 0 after {@link #sync}. */
  public synchronized int unsyncedSegments() {
    return unsynced.keys().size();
  }

  private void syncPages() {
    if (unsynced.keys().isEmpty()) {
      return;
    }
    try {
      channel.force(false);
    } catch (IOException e) {
      interrupted = new UncheckedIOException("fsync of " + file + " failed", e);
      throw (UncheckedIOException) interrupted;
    }
    // No fsync of this record: if it is lost, the durable intent before it is repaired on open.
    stateFile.writeLazy(state);
    unsynced = Unsynced.NONE;
  }

  /**
   * What was applied since the pages were last fsynced: the segment keys in apply order, the TXID
   * the first one was applied from, whether it is a snapshot, and the recorded state at the base.
   */
  private record Unsynced(List<String> keys, long fromTxid, boolean snapshot, ApplierState base) {
    static final Unsynced NONE = new Unsynced(List.of(), 0, false, ApplierState.EMPTY);

    int size() {
      return keys.size();
    }

    boolean isEmpty() {
      return keys.isEmpty();
    }

    /** Appends {@code more}; a segment continued from where the last apply stopped is listed once. */
    Unsynced extendedBy(List<String> more) {
      List<String> all = new ArrayList<>(keys);
      for (String k : more) {
        if (all.isEmpty() || !all.get(all.size() - 1).equals(k)) {
          all.add(k);
        }
      }
      return new Unsynced(List.copyOf(all), fromTxid, snapshot, base);
    }
  }

  /** What {@link #applyStreamedSnapshot} found in the snapshot's header. */
  record StreamedSnapshot(long txid, long checksum, long dbSizePages, int pageSize) {}

  /**
   * Bootstraps an empty file from a SNAPSHOT segment read front to back from {@code in} (the whole
   * object, {@code objectBytes} long), verifying while writing: header and metadata CRC32C before
   * any page, each page's CRC32C and LZ4 block before it is written, and the file CRC32C and the
   * database checksum at the end. Pages are therefore written before the whole object is known
   * to be intact: use it only on a file that is discarded when this throws (a restore's temporary
   * file). On any exception the file is left half written with the intent pending.
   *
   * <p>A body that breaks (a {@link SnapshotBodyStream.BrokenBodyException}: the connection failed,
   * not the bytes) is read once more from its first byte through {@code opener}, after the file is
   * emptied again and the intent withdrawn, so nothing of the broken attempt is kept; a second
   * break is thrown. Any other failure (a check, a write) is thrown at once.
   *
   * @param opener opens the object's body from its first byte (called once, or twice on a retry)
   * @throws CorruptSegmentException naming {@code key} if any check fails
   * @throws ChecksumChainException POST_APPLY if the pages do not hash to the recorded checksum
   * @throws SnapshotBodyStream.BrokenBodyException if the body broke on both attempts
   * @throws IllegalStateException if the file is not empty (TXID 0, no pages)
   */
  synchronized StreamedSnapshot applyStreamedSnapshot(String key, Supplier<SnapshotBodyStream> opener,
      long objectBytes) {
    requireOpen();
    requireHealthy();
    ApplierState empty = state;
    try {
      if (empty.txid() != 0 || channel.size() != 0) {
        throw new IllegalStateException(file + " is not empty: a streamed snapshot only bootstraps");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    for (int attempt = 1; ; attempt++) {
      try (SnapshotBodyStream in = opener.get()) {
        return applyStreamedSnapshotOnce(key, in, objectBytes, empty);
      } catch (SnapshotBodyStream.BrokenBodyException e) {
        if (attempt >= SNAPSHOT_BODY_ATTEMPTS) {
          throw e;
        }
        try {
          channel.truncate(0);
        } catch (IOException io) {
          e.addSuppressed(io);
          throw e;
        }
        stateFile.writeDurable(empty);
        state = empty;
        interrupted = null;
      }
    }
  }

  private StreamedSnapshot applyStreamedSnapshotOnce(String key, SnapshotBodyStream in, long objectBytes,
      ApplierState s) {
    java.util.zip.CRC32C fileCrc = new java.util.zip.CRC32C();
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    byte[] header = new byte[128];
    in.readFully(header, 0, 128);
    ByteBuffer h = ByteBuffer.wrap(header);
    byte[] magic = {0x57, 0x53, 0x45, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
    if (!Arrays.equals(Arrays.copyOf(header, 8), magic) || h.getShort(8) != 1 || h.getShort(10) != 0) {
      throw new dev.walship.format.CorruptSegmentException(key + ": not a version-1 segment (magic, "
          + "version or flags)");
    }
    int kind = header[12];
    int compression = header[14];
    int pageSize = h.getInt(16);
    long commitCount = Integer.toUnsignedLong(h.getInt(20));
    long first = h.getLong(24);
    long last = h.getLong(32);
    long dbSize = h.getLong(40);
    long checksumAfter = h.getLong(56);
    long pageCount = Integer.toUnsignedLong(h.getInt(64));
    long bodyLength = h.getLong(72);
    long metaEnd = 128 + 32 * commitCount + 32 * pageCount;
    if (kind != 1 || (compression != 0 && compression != 1) || pageSize < 512 || pageSize > 65536
        || Integer.bitCount(pageSize) != 1 || commitCount != 1 || first < 1 || last != first
        || bodyLength < 0 || metaEnd + 8 > Integer.MAX_VALUE) {
      throw new dev.walship.format.CorruptSegmentException(key + ": header is not a valid snapshot "
          + "(kind " + kind + ", compression " + compression + ", page size " + pageSize
          + ", commits " + commitCount + ", TXIDs " + first + ".." + last + ")");
    }
    if (metaEnd + 8 + bodyLength + 8 != objectBytes) {
      throw new dev.walship.format.CorruptSegmentException(key + ": header implies "
          + (metaEnd + 8 + bodyLength + 8) + " bytes but the object has " + objectBytes);
    }
    byte[] meta = new byte[(int) metaEnd + 8];
    System.arraycopy(header, 0, meta, 0, 128);
    in.readFully(meta, 128, meta.length - 128);
    crc.update(meta, 0, (int) metaEnd);
    ByteBuffer m = ByteBuffer.wrap(meta);
    if ((int) crc.getValue() != m.getInt((int) metaEnd)) {
      throw new dev.walship.format.CorruptSegmentException(key + ": metadata CRC32C mismatch");
    }
    fileCrc.update(meta, 0, meta.length);
    if (m.getLong(128) != first || m.getLong(128 + 16) != dbSize || m.getLong(128 + 24) != checksumAfter) {
      throw new dev.walship.format.CorruptSegmentException(key + ": commit entry differs from the header");
    }
    ApplierState.Intent intent = new ApplierState.Intent(List.of(key), first - 1, first, checksumAfter, true);
    ApplierState pending = new ApplierState(s.lineageId(), s.txid(), s.checksum(), s.pageSize(), intent, null);
    stateFile.writeDurable(pending); // fsync 1 of 2: the intent is on disk before any page
    state = pending;
    long computed;
    try {
      SnapshotStreamWriter.Result r = new SnapshotStreamWriter(key, channel, m, (int) (128 + 32 * commitCount),
          pageSize, compression).write(in, (int) pageCount, first, dbSize, bodyLength, fileCrc);
      computed = r.checksum();
      long newBytes = dbSize * pageSize;
      if (channel.size() > newBytes) {
        channel.truncate(newBytes);
      }
      if (dbSize >= 1) {
        byte[] p1 = r.page1();
        if (p1 == null) {
          p1 = new byte[pageSize];
          readFully(p1, 0);
        }
        patchHeader(p1, 1, dbSize);
        writeFully(p1, 0);
      }
      channel.force(true);
    } catch (IOException e) {
      UncheckedIOException u = new UncheckedIOException("apply to " + file + " failed", e);
      interrupted = u;
      throw u;
    } catch (RuntimeException e) {
      interrupted = e;
      throw e;
    }
    if (computed != checksumAfter) {
      String why = "post-apply checksum mismatch at TXID " + first + " applying " + key
          + ": expected " + ChecksumChainException.hex(checksumAfter) + ", computed "
          + ChecksumChainException.hex(computed);
      markFailed(why);
      throw new ChecksumChainException(ChecksumChainException.Stage.POST_APPLY, key, first,
          checksumAfter, computed, "database marked failed");
    }
    ApplierState done = new ApplierState(s.lineageId(), first, computed, pageSize, null, null);
    stateFile.writeLazy(done);
    state = done;
    return new StreamedSnapshot(first, computed, dbSize, pageSize);
  }

  /**
   * Validates that the segments link and returns, per segment, the TXID range {@code (lo, hi]} of
   * the page versions taken from it: a segment is superseded by the next one from the next one's
   * first TXID on; a snapshot contributes its single TXID.
   */
  private static long[][] ranges(List<SegmentRef> segments, long from, long upto, boolean snapshot) {
    int n = segments.size();
    long[][] r = new long[n][2];
    long lo = from;
    for (int j = 0; j < n; j++) {
      SegmentRef ref = segments.get(j);
      SegmentReader c = ref.reader();
      if (j > 0) {
        SegmentRef prevRef = segments.get(j - 1);
        SegmentReader p = prevRef.reader();
        if (c.kind() == SegmentKind.SNAPSHOT) {
          throw new IllegalArgumentException(ref.key() + ": only the first segment may be a snapshot");
        }
        if (c.pageSize() != p.pageSize()) {
          throw new IllegalArgumentException(ref.key() + ": page size " + c.pageSize()
              + " differs from " + prevRef.key() + "'s " + p.pageSize());
        }
        if (c.firstTxid() - 1 > lo || c.lastTxid() < lo) {
          throw new IllegalArgumentException("TXID gap: " + prevRef.key() + " is applied up to TXID "
              + lo + " but " + ref.key() + " covers " + c.firstTxid() + ".." + c.lastTxid());
        }
        long expected = commitOf(p, lo).checksumAfter();
        long found = checksumAt(c, lo);
        if (expected != found) {
          throw new ChecksumChainException(ChecksumChainException.Stage.LINK, ref.key(), lo, expected,
              found, "the checksum " + ref.key() + " starts from differs from the commit record in "
                  + prevRef.key());
        }
      }
      long hi;
      if (j == 0 && snapshot) {
        hi = c.lastTxid();
        r[j][0] = Long.MIN_VALUE;
      } else {
        hi = j + 1 < n ? segments.get(j + 1).reader().firstTxid() - 1 : upto;
        hi = Math.max(lo, Math.min(hi, upto));
        r[j][0] = lo;
      }
      if (hi > c.lastTxid() || hi > upto) {
        throw new IllegalArgumentException("target TXID " + upto + " is not inside " + ref.key()
            + " (" + c.firstTxid() + ".." + c.lastTxid() + ")");
      }
      r[j][1] = hi;
      lo = hi;
    }
    if (lo != upto || upto <= from) {
      throw new IllegalArgumentException("target TXID " + upto + " is not reached by "
          + segments.get(n - 1).key() + " (applied up to " + lo + ") after the database's TXID " + from);
    }
    return r;
  }

  /** Database checksum at {@code txid} as recorded by {@code r} ({@code firstTxid - 1 <= txid}). */
  private static long checksumAt(SegmentReader r, long txid) {
    return txid == r.firstTxid() - 1 ? r.checksumBefore() : commitOf(r, txid).checksumAfter();
  }

  /**
   * Recomputes the {@link DatabaseChecksum} of the whole file from its bytes (reads every page;
   * takes the EXCLUSIVE lock meanwhile so no apply runs). For checks and tests.
   */
  public synchronized long recomputeChecksum() {
    requireOpen();
    return fullChecksum(state.pageSize());
  }

  /**
   * Closes the lock connection, then the file channel. Every reader connection opened with {@link
   * #openReader()} must be closed first (closing the channel drops this process's POSIX locks on
   * the file). Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (interrupted == null && state.failure() == null) {
        syncPages();
      }
    } catch (RuntimeException e) {
      // The pages are then not known to be durable; the recorded intent is repaired on reopen.
    } finally {
      closeQuietly(lock, channel, stateFile);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private void repair(SegmentSource source) {
    ApplierState s = state;
    ApplierState.Intent intent = s.pending();
    List<SegmentRef> refs = new ArrayList<>();
    try {
      for (String key : intent.keys()) {
        refs.add(new SegmentRef(key, source.open(key)));
      }
      SegmentReader last = refs.get(refs.size() - 1).reader();
      CommitRecord target = commitOf(last, intent.uptoTxid());
      int pageSize = refs.get(0).reader().pageSize();
      long[][] ranges = ranges(refs, intent.fromTxid(), intent.uptoTxid(), intent.snapshot());
      writePages(refs, ranges, target.dbSizePages(), intent.snapshot(), s, true);
      channel.force(false);
      long full = fullChecksum(pageSize);
      if (full != intent.checksumAfter()) {
        String why = "crash repair of " + intent.keys() + " up to TXID " + intent.uptoTxid()
            + " gave checksum " + ChecksumChainException.hex(full) + ", expected "
            + ChecksumChainException.hex(intent.checksumAfter());
        markFailed(why);
        throw new DatabaseFailedException(why);
      }
      ApplierState done = new ApplierState(s.lineageId(), intent.uptoTxid(), full, pageSize, null, null);
      stateFile.writeDurable(done);
      state = done;
    } catch (IOException e) {
      throw new UncheckedIOException("fsync of " + file + " failed during crash repair", e);
    } finally {
      for (SegmentRef r : refs) {
        r.reader().close();
      }
    }
  }

  private void markFailed(String why) {
    ApplierState failed = state.withFailure(why);
    stateFile.writeDurable(failed);
    state = failed;
  }

  /**
   * Writes the selected page versions under the EXCLUSIVE lock and returns the running checksum
   * (meaningful only if the file matched {@code before} when called).
   */
  private long writePages(
      List<SegmentRef> segments, long[][] ranges, long newSizePages, boolean snapshot,
      ApplierState before, boolean repairing) {
    int pageSize = segments.get(0).reader().pageSize();
    // Newest version per page: later segments and later indexes (higher TXIDs) win.
    Map<Long, Long> chosen = new HashMap<>();
    for (int j = 0; j < segments.size(); j++) {
      SegmentReader r = segments.get(j).reader();
      long lower = ranges[j][0];
      long upper = ranges[j][1];
      int n = r.pageCount();
      for (int i = 0; i < n; i++) {
        long t = r.pageTxid(i);
        long pg = r.pageNumber(i);
        if (t > lower && t <= upper && pg <= newSizePages) {
          chosen.put(pg, ((long) j << 32) | i);
        }
      }
    }
    long[] pages = new long[chosen.size()];
    int k = 0;
    for (Long pg : chosen.keySet()) {
      pages[k++] = pg;
    }
    Arrays.sort(pages);
    try (Statement st = lock.createStatement()) {
      // A file without a valid SQLite header (empty, or an interrupted first apply) cannot be read
      // by anyone, and a write transaction on it would make SQLite initialise a fresh page 1 and
      // write it at COMMIT over ours: write such a file without SQLite's lock.
      boolean coordinated = hasSqliteHeader();
      if (coordinated) {
        try {
          st.execute("BEGIN EXCLUSIVE");
        } catch (SQLException e) {
          // A crash can leave page 1 on disk but not the pages or size it describes (SQLite then
          // calls the file corrupt and refuses even a lock). A repair runs inside open, before
          // this process serves any reader: write without the lock; the repair fixes the file.
          if (!repairing || e.getErrorCode() != org.sqlite.SQLiteErrorCode.SQLITE_CORRUPT.code) {
            throw e;
          }
          coordinated = false;
        }
      }
      boolean committed = !coordinated;
      try {
        long checksum;
        long oldSizePages;
        int oldCounter = readChangeCounter();
        if (snapshot || before.pageSize() != pageSize) {
          channel.truncate(0);
          checksum = 0;
          oldSizePages = 0;
        } else {
          checksum = before.checksum();
          oldSizePages = channel.size() / pageSize;
        }
        byte[] oldPage = new byte[pageSize];
        byte[] page1 = chosen.containsKey(1L) ? new byte[pageSize] : null;
        // Large batches (a snapshot) are split into contiguous slices of the sorted page numbers
        // written in parallel: decompression and hashing dominate, positional writes are safe.
        int slices = pages.length >= PARALLEL_MIN_PAGES
            ? Math.min(MAX_APPLY_THREADS, Runtime.getRuntime().availableProcessors()) : 1;
        long oldSize = oldSizePages;
        byte[] firstPage = page1;
        long[] partial = new long[slices];
        if (slices <= 1) {
          partial[0] = writeSlice(segments, chosen, pages, 0, pages.length, pageSize, oldSize, firstPage);
        } else {
          java.util.stream.IntStream.range(0, slices).parallel().forEach(slice -> {
            int from = (int) ((long) pages.length * slice / slices);
            int to = (int) ((long) pages.length * (slice + 1) / slices);
            partial[slice] = writeSlice(segments, chosen, pages, from, to, pageSize, oldSize, firstPage);
          });
        }
        for (long x : partial) {
          checksum ^= x;
        }
        for (long pg = newSizePages + 1; pg <= oldSizePages; pg++) {
          readFully(oldPage, (pg - 1) * pageSize);
          checksum ^= DatabaseChecksum.pageHash(pg, oldPage, 0, pageSize);
        }
        long newBytes = newSizePages * pageSize;
        if (channel.size() > newBytes) {
          channel.truncate(newBytes);
        }
        if (newSizePages >= 1) {
          if (page1 == null) {
            page1 = new byte[pageSize];
            readFully(page1, 0);
          }
          patchHeader(page1, oldCounter + 1, newSizePages);
          writeFully(page1, 0);
        }
        if (coordinated) {
          st.execute("COMMIT");
          committed = true;
        }
        return checksum;
      } finally {
        if (!committed) {
          try {
            st.execute("ROLLBACK");
          } catch (SQLException ignored) {
            // The transaction never wrote through SQLite; a failed ROLLBACK only means none was open.
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("apply to " + file + " failed", e);
    } catch (SQLException e) {
      throw new UncheckedIOException(new IOException("SQLite lock on " + file + " failed", e));
    }
  }

  /**
   * Writes {@code pages[from, to)} (sorted page numbers; page 1 is copied into {@code page1}
   * instead, to be written last) and returns the XOR of their old and new page hashes.
   */
  private long writeSlice(List<SegmentRef> segments, Map<Long, Long> chosen, long[] pages,
      int from, int to, int pageSize, long oldSizePages, byte[] page1) {
    try {
      long checksum = 0;
      byte[] newPage = new byte[pageSize];
      byte[] oldPage = new byte[pageSize];
      // Runs of consecutive pages are gathered and written with one call (fewer syscalls).
      int runPages = Math.max(1, WRITE_RUN_BYTES / pageSize);
      byte[] run = new byte[runPages * pageSize];
      int inRun = 0;
      long runStart = -1;
      for (int i = from; i < to; i++) {
        long pg = pages[i];
        long packed = chosen.get(pg);
        SegmentReader r = segments.get((int) (packed >>> 32)).reader();
        if (inRun > 0 && (pg != runStart + inRun || inRun == runPages)) {
          writeFully(run, 0, inRun * pageSize, (runStart - 1) * pageSize);
          inRun = 0;
        }
        r.readPage((int) packed, newPage, 0);
        if (pg <= oldSizePages) {
          readFully(oldPage, (pg - 1) * pageSize);
          checksum ^= DatabaseChecksum.pageHash(pg, oldPage, 0, pageSize);
        }
        checksum ^= DatabaseChecksum.pageHash(pg, newPage, 0, pageSize);
        if (pg == 1) {
          System.arraycopy(newPage, 0, page1, 0, pageSize);
          continue;
        }
        if (inRun == 0) {
          runStart = pg;
        }
        System.arraycopy(newPage, 0, run, inRun * pageSize, pageSize);
        inRun++;
      }
      if (inRun > 0) {
        writeFully(run, 0, inRun * pageSize, (runStart - 1) * pageSize);
      }
      return checksum;
    } catch (IOException e) {
      throw new UncheckedIOException("apply to " + file + " failed", e);
    }
  }

  /** Rollback-journal mode, change counter, version-valid-for (only masked header bytes). */
  private static void patchHeader(byte[] page1, int counter, long sizePages) {
    page1[18] = 1;
    page1[19] = 1;
    putInt(page1, 24, counter);
    long headerSize = Integer.toUnsignedLong(getInt(page1, 28));
    // SQLite trusts the in-header size (bytes 28-31) only when version-valid-for equals the change
    // counter; otherwise it uses the file size, which is exact here. Both bytes are masked.
    putInt(page1, 92, headerSize == sizePages ? counter : counter - 1);
  }

  private static final byte[] SQLITE_MAGIC =
      "SQLite format 3\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private boolean hasSqliteHeader() throws IOException {
    if (channel.size() < 100) {
      return false;
    }
    byte[] h = new byte[16];
    readFully(h, 0);
    return Arrays.equals(h, SQLITE_MAGIC);
  }

  private int readChangeCounter() throws IOException {
    if (channel.size() < 100) {
      return 0;
    }
    byte[] h = new byte[100];
    readFully(h, 0);
    return getInt(h, 24);
  }

  private long fullChecksum(int pageSize) {
    if (pageSize == 0) {
      return 0;
    }
    try {
      long size = channel.size() / pageSize;
      byte[] page = new byte[pageSize];
      long checksum = 0;
      for (long pg = 1; pg <= size; pg++) {
        readFully(page, (pg - 1) * pageSize);
        checksum ^= DatabaseChecksum.pageHash(pg, page, 0, pageSize);
      }
      return checksum;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static void forceRollbackJournalMode(FileChannel ch) throws IOException {
    if (ch.size() < 20) {
      return;
    }
    ByteBuffer b = ByteBuffer.allocate(2);
    ch.read(b, 18);
    if (b.get(0) != 1 || b.get(1) != 1) {
      ch.write(ByteBuffer.wrap(new byte[] {1, 1}), 18);
      ch.force(true);
    }
  }

  private void readFully(byte[] dest, long position) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(dest);
    long pos = position;
    while (b.hasRemaining()) {
      int n = channel.read(b, pos);
      if (n < 0) {
        Arrays.fill(dest, b.position(), dest.length, (byte) 0);
        return;
      }
      pos += n;
    }
  }

  private void writeFully(byte[] src, long position) throws IOException {
    writeFully(src, 0, src.length, position);
  }

  private void writeFully(byte[] src, int offset, int length, long position) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(src, offset, length);
    long pos = position;
    while (b.hasRemaining()) {
      pos += channel.write(b, pos);
    }
  }

  static CommitRecord commitOf(SegmentReader r, long txid) {
    return r.commits().get((int) (txid - r.firstTxid()));
  }

  private static int getInt(byte[] b, int off) {
    return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8)
        | (b[off + 3] & 0xff);
  }

  private static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("applier for " + file + " is closed");
    }
  }

  private void requireHealthy() {
    RuntimeException i = interrupted;
    if (i != null) {
      throw new DatabaseFailedException(file + ": an apply failed half way (" + i.getMessage()
          + "); close and reopen the applier to repair it from the recorded intent", i);
    }
    String f = state.failure();
    if (f != null) {
      throw new DatabaseFailedException(file + " is marked failed: " + f);
    }
  }

  private static void closeQuietly(Connection lock, FileChannel channel, StateFile stateFile) {
    // Order matters: SQLite connections first, the channel last (its close drops POSIX locks).
    if (lock != null) {
      try {
        lock.close();
      } catch (SQLException ignored) {
        // Closing a connection that holds no transaction cannot lose data.
      }
    }
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Every write was already forced; nothing is lost by a failed close.
      }
    }
    if (stateFile != null) {
      try {
        stateFile.close(); // fsyncs the last apply's record, so a reopen need not repair
      } catch (UncheckedIOException ignored) {
        // That record is then not durable: the durable intent before it is repaired on reopen.
      }
    }
  }
}
