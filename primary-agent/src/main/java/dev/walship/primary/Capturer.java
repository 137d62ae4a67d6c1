package dev.walship.primary;

import dev.walship.format.CommitRecord;
import dev.walship.format.DatabaseChecksum;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures every commit of one SQLite database from its WAL, assigns TXIDs, tracks the database
 * checksum, and hands pages and commit records to a {@link CaptureSink}.
 *
 * <h2>Why nothing can be missed</h2>
 *
 * The agent's {@link SqliteSession} holds a read transaction at all times except for a moment
 * inside {@link Checkpointer}'s write barrier. While that read transaction is open:
 *
 * <ul>
 *   <li>no checkpoint (the app's or anyone's) can backfill a frame the agent has not read: a
 *       checkpoint stops at the oldest reader's read mark, and a reader at mark 0 blocks backfill
 *       altogether;
 *   <li>no writer can restart the WAL unless every frame was backfilled, which by the previous
 *       point means every frame was read by the agent.
 * </ul>
 *
 * The read transaction is re-opened under the barrier after reading the WAL to its end, or moved
 * forward by {@link SqliteSession#rotateRead()} (the next one begins before the previous ends)
 * just before the agent reads the WAL to its end and makes it durable, then checkpoints. Committed
 * frames newer than the read mark cannot be backfilled, so they stay in the WAL until read.
 *
 * <h2>States</h2>
 *
 * <dl>
 *   <dt>CLOSED
 *   <dd>after construction and after {@link #close()}: no connection, no file open.
 *   <dt>RESYNCING (inside {@link #resync})
 *   <dd>under the write barrier, with a fresh read transaction: hashes every page of the database
 *       file (state 0), then replays the WAL's committed transactions 1..n over it, computing the
 *       checksum of each state k. If the lineage is not empty and some state k has the lineage's
 *       checksum (largest k wins), commits k+1..n are emitted as TXIDs lastTxid+1..; otherwise a
 *       snapshot of state n is emitted at lastTxid+1 (TXID 1 for an empty lineage). Reading the
 *       database file while an app checkpoint backfills into it cannot produce a wrong state n:
 *       every page a checkpoint may write is overlaid from the WAL.
 *   <dt>TAILING
 *   <dd>{@link #poll()} emits each newly committed transaction as the next TXID. On a salt change
 *       in the WAL header (the WAL restarted) it continues with the new generation from its first
 *       frame if the restart was expected: the last checkpoint was complete (every frame
 *       backfilled) and no frame was read since. Any other restart, a page-size change, or the
 *       database path now naming a different file (replaced or restored underneath) sends it
 *       back through RESYNCING with the last captured TXID and checksum: the resync answers with
 *       the missing commits if the file still matches, with a snapshot otherwise — never silent
 *       loss.
 * </dl>
 *
 * <p>Not thread-safe: all methods are called from the capture thread.
 */
public final class Capturer implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(Capturer.class);

  private final Path dbPath;
  private final CaptureSink sink;
  private final InstantSource clock;
  private final int barrierTimeoutMillis;

  private DatabaseFile dbFile;
  private SqliteSession session;
  private WalReader wal;

  private int pageSize;
  private long lastTxid;
  private PageHashes hashes = new PageHashes();
  /**
   * Offset of the latest committed frame per page in the current WAL generation (overlay over
   * the file).
   */
  private final PageIndex walIndex = new PageIndex();

  /** Scratch for {@link #applyHashes}: index of the last frame of each page in a transaction. */
  private final PageIndex lastFrameInTx = new PageIndex();

  /** True right after a complete checkpoint until a frame of the generation is read. */
  private boolean restartExpected;

  private long resyncs;
  private long snapshots;
  private byte[] buf = new byte[0];

  /**
   * @param dbPath the application's database file
   * @param sink receives captured pages and commits
   * @param clock stamps commit records (capture time, ms)
   * @param barrierTimeoutMillis how long the write barrier waits for the app's writer
   */
  public Capturer(Path dbPath, CaptureSink sink, InstantSource clock, int barrierTimeoutMillis) {
    this.dbPath = dbPath;
    this.sink = sink;
    this.clock = clock;
    this.barrierTimeoutMillis = barrierTimeoutMillis;
  }

  /**
   * Opens the database: checks it is a SQLite file, opens the agent's connections, switches to
   * WAL mode.
   *
   * @throws PrimaryException with an operator-facing message on any problem
   */
  public void open() {
    if (!java.nio.file.Files.isRegularFile(dbPath)) {
      throw new PrimaryException("database file " + dbPath + " does not exist");
    }
    DatabaseFile f = new DatabaseFile(dbPath);
    try {
      f.header(); // throws if not SQLite
    } catch (IllegalStateException e) {
      f.close();
      throw new PrimaryException(e.getMessage() + "; walship replicates SQLite database files");
    }
    try {
      session = new SqliteSession(dbPath, barrierTimeoutMillis);
    } catch (RuntimeException e) {
      f.close();
      throw e;
    }
    dbFile = f;
    wal = new WalReader(walPath());
  }

  /** Page size of the database file (or of its WAL for a file still empty; 4096 if neither). */
  public int filePageSize() {
    int ps = dbFile.pageSize();
    return ps != 0 ? ps : wal.readHeader().map(WalHeader::pageSize).orElse(4096);
  }

  /** Last TXID captured. */
  public long lastTxid() {
    return lastTxid;
  }

  /** Database checksum at {@link #lastTxid()}. */
  public long checksum() {
    return hashes.checksum();
  }

  public int pageSize() {
    return pageSize;
  }

  /** Frames of the current WAL generation read so far. */
  public long walFrames() {
    return wal == null ? 0 : wal.committedFrames();
  }

  /** The WAL generation being tailed (null if none yet). */
  WalHeader walGeneration() {
    return wal == null ? null : wal.header();
  }

  /** The database's {@code -wal} file. */
  Path walPath() {
    return Path.of(dbPath + "-wal");
  }

  /** Byte offset just after the last captured commit frame of the current WAL generation. */
  long walEnd() {
    return wal == null || wal.header() == null ? 0 : wal.committedOffset();
  }

  /** Size of the {@code -wal} file in bytes. */
  public long walBytes() {
    return wal == null ? 0 : wal.fileSize();
  }

  /** Resyncs performed after start-up (each one either matched or took a snapshot). */
  public long resyncs() {
    return resyncs;
  }

  /** Snapshots emitted (initial and resync). */
  public long snapshots() {
    return snapshots;
  }

  SqliteSession session() {
    return session;
  }

  /** fsyncs the {@code -wal} file (through the agent's read-only descriptor). */
  void syncWal() {
    wal.force();
  }

  /**
   * Called by {@link Checkpointer} after a checkpoint that backfilled every frame: the database
   * file now holds every captured page, so the WAL overlay is dropped (its frames may be
   * overwritten as soon as the app restarts the WAL).
   */
  void checkpointCompleted() {
    restartExpected = true;
    walIndex.clear();
  }

  /**
   * Writes every page of the database at {@link #lastTxid()} into {@code writer} (a SNAPSHOT
   * writer created at that TXID) followed by its commit record. Each page read back is checked
   * against the tracked page hash, so a snapshot can never disagree with the checksum chain.
   *
   * @throws IllegalStateException if a page does not match (the capture then resyncs)
   */
  public void writeSnapshot(dev.walship.format.SegmentWriter writer) {
    for (long p = 1; p <= hashes.sizePages(); p++) {
      readCurrentPage(p);
      if (DatabaseChecksum.pageHash(p, buf, 0, pageSize) != hashes.get(p)) {
        throw new IllegalStateException(
            dbPath + ": page " + p + " read for a snapshot at TXID " + lastTxid
                + " does not match the captured page hash");
      }
      writer.addPage(p, lastTxid, buf, 0);
    }
    writer.addCommit(
        new CommitRecord(lastTxid, clock.millis(), hashes.sizePages(), hashes.checksum()));
  }

  /**
   * Brings the capture in line with the lineage at {@code pos} (see RESYNCING above) and enters
   * TAILING.
   *
   * @return true if a snapshot was emitted, false if the local database matched the lineage
   */
  public boolean resync(BucketPosition pos) {
    boolean took = !session.barrierHeld();
    while (took && !session.tryBarrier()) {
      log.info("{}: waiting for the app's writer to take the resync barrier", dbPath);
    }
    try {
      session.endRead();
      session.beginRead();
      return resyncUnderBarrier(pos);
    } finally {
      if (took) {
        session.releaseBarrier();
      }
    }
  }

  private boolean resyncUnderBarrier(BucketPosition pos) {
    Optional<WalHeader> header = wal.readHeader();
    int filePageSize = dbFile.pageSize();
    int ps = filePageSize != 0 ? filePageSize : header.map(WalHeader::pageSize).orElse(4096);
    if (ps != pageSize) {
      pageSize = ps;
      buf = new byte[ps];
    }
    PageHashes base = new PageHashes();
    long size0 = dbFile.sizePages(ps);
    base.resize(size0, ps);
    for (long p = 1; p <= size0; p++) {
      dbFile.readPage(p, buf, ps);
      base.set(p, DatabaseChecksum.pageHash(p, buf, 0, ps));
    }
    List<WalTransaction> txs = List.of();
    walIndex.clear();
    if (header.isPresent() && header.get().pageSize() == ps) {
      wal.start(header.get());
      txs = wal.poll();
    } else if (header.isPresent()) {
      log.warn("{}: WAL page size {} differs from the database's {}; ignoring stale WAL",
          dbPath, header.get().pageSize(), ps);
    }
    // Pass 1: checksum of every state k; the largest k that matches the lineage wins.
    int match = -1;
    PageHashes work = base.copy();
    if (!pos.empty() && work.checksum() == pos.checksum()) {
      match = 0;
    }
    for (int i = 0; i < txs.size(); i++) {
      applyHashes(work, txs.get(i), null, false);
      if (!pos.empty() && work.checksum() == pos.checksum()) {
        match = i + 1;
      }
    }
    restartExpected = false;
    lastTxid = pos.lastTxid();
    if (match >= 0) {
      hashes = base;
      for (int i = 0; i < match; i++) {
        applyHashes(hashes, txs.get(i), walIndex, false);
      }
      sink.resume(ps, lastTxid, hashes.checksum());
      for (int i = match; i < txs.size(); i++) {
        emitCommit(txs.get(i));
      }
      log.info("{}: local database matches the lineage at TXID {} (WAL commit {} of {});"
              + " resuming without a snapshot", dbPath, pos.lastTxid(), match, txs.size());
      return false;
    }
    if (!pos.empty()) {
      log.warn("{}: no local state matches the lineage at TXID {} (checksum {}): database file"
              + " holds {} pages (checksum {}), WAL holds {} commits (last state checksum {})",
          dbPath, pos.lastTxid(), DatabaseChecksum.toHex(pos.checksum()), base.sizePages(),
          DatabaseChecksum.toHex(base.checksum()), txs.size(), DatabaseChecksum.toHex(work.checksum()));
    }
    hashes = base;
    for (WalTransaction tx : txs) {
      applyHashes(hashes, tx, walIndex, false);
    }
    long txid = pos.lastTxid() + 1;
    emitSnapshot(txid);
    log.info("{}: {} at TXID {} ({} pages of {} bytes)", dbPath,
        pos.empty() ? "initial snapshot" : "local database differs from the lineage; snapshot",
        txid, hashes.sizePages(), ps);
    return true;
  }

  /** Emits every page of the current state as a snapshot at {@code txid}. */
  private void emitSnapshot(long txid) {
    sink.beginSnapshot(txid, pageSize);
    for (long p = 1; p <= hashes.sizePages(); p++) {
      readCurrentPage(p);
      sink.page(p, txid, buf, 0);
    }
    sink.commit(new CommitRecord(txid, clock.millis(), hashes.sizePages(), hashes.checksum()));
    lastTxid = txid;
    snapshots++;
  }

  /** Reads page {@code p} of the captured state: latest WAL frame, else the database file. */
  private void readCurrentPage(long p) {
    long frameOffset = walIndex.get(p);
    if (frameOffset != PageIndex.MISSING) {
      wal.readPage(frameOffset, buf, 0);
    } else {
      dbFile.readPage(p, buf, pageSize);
    }
  }

  /**
   * Applies one transaction to {@code h}: last image per page wins, pages beyond the commit's
   * size are dropped. Optionally records frames in {@code index} and emits pages. Each image is
   * hashed (and emitted) where the WAL reader holds it, without a copy when it can.
   */
  private void applyHashes(PageHashes h, WalTransaction tx, PageIndex index, boolean emit) {
    List<WalFrame> frames = tx.frames();
    int n = frames.size();
    if (n > 1) {
      lastFrameInTx.clear();
      for (int i = 0; i < n; i++) {
        lastFrameInTx.put(frames.get(i).pageNumber(), i);
      }
    }
    long size = tx.dbSizePages();
    boolean shrank = size < h.sizePages();
    h.resize(size, pageSize);
    if (index != null && shrank) {
      // Only a shrink can leave indexed pages beyond the end (the index never holds a page
      // beyond the size it was built at); scanning on every commit cost 2/3 of the capture.
      index.removeAbove(size);
    }
    for (int i = 0; i < n; i++) {
      WalFrame f = frames.get(i);
      long p = f.pageNumber();
      if (p > size || (n > 1 && lastFrameInTx.get(p) != i)) {
        continue; // beyond the end, or a later frame of the transaction has this page
      }
      byte[] image = wal.images();
      int at = wal.imageOffset(f.offset());
      if (at < 0) {
        wal.readPage(f.offset(), buf, 0);
        image = buf;
        at = 0;
      }
      h.set(p, DatabaseChecksum.pageHash(p, image, at, pageSize));
      if (index != null) {
        index.put(p, f.offset());
      }
      if (emit) {
        sink.page(p, lastTxid + 1, image, at);
      }
    }
  }

  private void emitCommit(WalTransaction tx) {
    applyHashes(hashes, tx, walIndex, true);
    lastTxid++;
    sink.commit(new CommitRecord(lastTxid, clock.millis(), tx.dbSizePages(), hashes.checksum()));
  }

  /**
   * Captures every transaction committed since the last call (TAILING), resyncing first if the
   * WAL restarted unexpectedly or the database file was replaced.
   *
   * @return the number of commits captured (a snapshot counts as one)
   */
  public int poll() {
    return pollAtMost(Integer.MAX_VALUE);
  }

  /** Like {@link #poll()}, but captures at most {@code maxCommits} WAL transactions. */
  int pollAtMost(int maxCommits) {
    if (dbFile.replaced()) {
      log.warn("{}: the database file was replaced underneath the agent; reopening and resyncing",
          dbPath);
      reopen();
      return resyncFromHere();
    }
    Optional<WalHeader> h = wal.readHeader();
    if (h.isEmpty()) {
      return 0; // empty or truncated WAL: nothing committed since
    }
    WalHeader current = wal.header();
    if (!h.get().sameGeneration(current)) {
      if (h.get().pageSize() != pageSize) {
        log.warn("{}: page size changed from {} to {}; resyncing", dbPath, pageSize,
            h.get().pageSize());
        return resyncFromHere();
      }
      if (current != null && !restartExpected) {
        log.warn("{}: the WAL restarted (salt-1 {} -> {}) with frames the agent had not"
                + " checkpointed; resyncing", dbPath, current.salt1(), h.get().salt1());
        return resyncFromHere();
      }
      wal.start(h.get());
      walIndex.clear();
    }
    List<WalTransaction> txs = wal.poll(maxCommits);
    if (!txs.isEmpty()) {
      restartExpected = false;
    }
    for (WalTransaction tx : txs) {
      emitCommit(tx);
    }
    return txs.size();
  }

  private int resyncFromHere() {
    resyncs++;
    long before = lastTxid;
    resync(BucketPosition.at(lastTxid, hashes.checksum()));
    return (int) (lastTxid - before);
  }

  private void reopen() {
    closeQuietly();
    open();
  }

  private void closeQuietly() {
    if (session != null) {
      session.close(); // connections first: closing the file's channel drops their locks
      session = null;
    }
    if (wal != null) {
      wal.close();
      wal = null;
    }
    if (dbFile != null) {
      dbFile.close();
      dbFile = null;
    }
  }

  @Override
  public void close() {
    closeQuietly();
  }
}
