package dev.walship.primary;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.format.Compression;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns captured commits into level-0 segment files in the spool directory: one {@link
 * SegmentWriter} accumulates commits (page images spooled to disk, so a transaction of any size
 * keeps memory bounded) until {@link #cut()}; a snapshot always becomes a segment of its own.
 *
 * <p>States: <b>idle</b> (no open writer), <b>accumulating</b> (open incremental writer with at
 * least one page or commit), <b>snapshotting</b> (open snapshot writer, closed by its commit).
 * Finished segments wait in a ready list until {@link #cut()} returns them, oldest first.
 *
 * <p>Not thread-safe: used by the capture thread only.
 */
final class SegmentBuilder implements CaptureSink {
  private final String db;
  private final Path spoolDir;
  private final Compression compression;

  private int pageSize;
  private long lastTxid;
  private long checksum;

  private SegmentWriter writer;
  private SegmentKind kind;
  private long firstTxid;
  private long checksumBefore;
  private long firstCommitMillis;
  private long lastCommitMillis;
  private long pagesSinceCommit;
  private final List<PendingSegment> ready = new ArrayList<>();

  SegmentBuilder(String db, Path spoolDir, Compression compression) {
    this.db = db;
    this.spoolDir = spoolDir;
    this.compression = compression;
    try {
      Files.createDirectories(spoolDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create spool directory " + spoolDir, e);
    }
  }

  @Override
  public void resume(int pageSize, long lastTxid, long checksum) {
    finishWriter();
    this.pageSize = pageSize;
    this.lastTxid = lastTxid;
    this.checksum = checksum;
  }

  @Override
  public void beginSnapshot(long txid, int pageSize) {
    finishWriter();
    this.pageSize = pageSize;
    open(SegmentKind.SNAPSHOT, txid, 0);
  }

  @Override
  public void page(long pageNumber, long txid, byte[] data, int offset) {
    if (writer == null) {
      open(SegmentKind.INCREMENTAL, lastTxid + 1, checksum);
    }
    writer.addPage(pageNumber, txid, data, offset);
    pagesSinceCommit++;
  }

  @Override
  public void commit(CommitRecord record) {
    if (writer == null) {
      open(SegmentKind.INCREMENTAL, lastTxid + 1, checksum);
    }
    writer.addCommit(record);
    pagesSinceCommit = 0;
    if (writer.commitCount() == 1) {
      firstCommitMillis = record.commitTimeMillis();
    }
    lastCommitMillis = record.commitTimeMillis();
    lastTxid = record.txid();
    checksum = record.checksumAfter();
    if (kind == SegmentKind.SNAPSHOT) {
      finishWriter();
    }
  }

  private void open(SegmentKind k, long first, long before) {
    this.kind = k;
    this.firstTxid = first;
    this.checksumBefore = before;
    this.pagesSinceCommit = 0;
    this.writer = SegmentWriter.create(k, 0, pageSize, first, before, compression, spoolDir);
  }

  /** True if commits are waiting to be cut (open writer with commits, or ready segments). */
  boolean hasCommits() {
    return !ready.isEmpty() || (writer != null && writer.commitCount() > 0);
  }

  /** Capture time of the oldest commit not yet cut, or -1. */
  long oldestCommitMillis() {
    if (!ready.isEmpty()) {
      return ready.get(0).firstCommitMillis();
    }
    return writer != null && writer.commitCount() > 0 ? firstCommitMillis : -1;
  }

  /** Uncompressed page bytes in the open (not yet cut) segment. */
  long openPageBytes() {
    return writer == null ? 0 : writer.pageBytes();
  }

  /** Last TXID added (cut or not). */
  long lastTxid() {
    return lastTxid;
  }

  /**
   * Finishes the open writer (if it holds commits) and returns every finished segment, oldest
   * first.
   */
  List<PendingSegment> cut() {
    if (pagesSinceCommit == 0) {
      finishWriter();
    }
    List<PendingSegment> out = List.copyOf(ready);
    ready.clear();
    return out;
  }

  /**
   * Drops a writer that holds pages of a commit that never completed (capture failed mid-commit)
   * and returns the position capture must resume from: the start of that writer (its commits are
   * lost from the spool, so a resync must cover them). Without such pages, nothing is dropped.
   */
  BucketPosition abandonIncomplete() {
    if (writer != null && pagesSinceCommit > 0) {
      BucketPosition from = BucketPosition.at(firstTxid - 1, checksumBefore);
      writer.close();
      writer = null;
      pagesSinceCommit = 0;
      lastTxid = from.lastTxid();
      checksum = from.checksum();
      return from;
    }
    return BucketPosition.at(lastTxid, checksum);
  }

  private void finishWriter() {
    if (writer == null) {
      return;
    }
    try {
      if (writer.commitCount() == 0) {
        return;
      }
      String name = db.replace('/', '_') + "-" + BucketLayout.hex(firstTxid) + ".seg";
      Path file = spoolDir.resolve(name);
      Path tmp = spoolDir.resolve(name + ".tmp");
      long bytes = writer.finishTo(tmp);
      try {
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot rename " + tmp, e);
      }
      List<String> keys =
          kind == SegmentKind.SNAPSHOT
              ? List.of(BucketLayout.level0Key(db, firstTxid), BucketLayout.snapshotKey(db, firstTxid))
              : List.of(BucketLayout.level0Key(db, firstTxid));
      ready.add(
          new PendingSegment(
              kind, firstTxid, lastTxid, file, bytes, keys, firstCommitMillis, lastCommitMillis));
    } finally {
      writer.close();
      writer = null;
      pagesSinceCommit = 0;
    }
  }

  /**
   * Forces {@code files} and the spool directory to disk: a checkpoint may then move their
   * commits out of the WAL, because a restarted agent uploads them first ({@link SpoolReplay}).
   */
  void fsync(List<Path> files) {
    try {
      for (Path f : files) {
        try (java.nio.channels.FileChannel ch =
            java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
          ch.force(true);
        } catch (java.nio.file.NoSuchFileException uploadedMeanwhile) {
          // the uploader finished it and deleted it: it is in the bucket
        }
      }
      try (java.nio.channels.FileChannel dir =
          java.nio.channels.FileChannel.open(spoolDir, java.nio.file.StandardOpenOption.READ)) {
        dir.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fsync the spool " + spoolDir, e);
    }
  }

  /** Deletes the open writer's spool (used on shutdown). */
  void close() {
    if (writer != null) {
      writer.close();
      writer = null;
    }
  }
}
