package dev.walship.replica.testing;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.format.Compression;
import dev.walship.format.DatabaseChecksum;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentWriter;
import dev.walship.restore.Lineage;
import dev.walship.store.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.UUID;

/**
 * A small stand-in for the primary agent, in test sources: ships a rollback-journal database file
 * to the bucket by diffing its pages at each {@link #ship()} into a one-TXID segment at {@code
 * L0/{txid}} (TXID 1 is a snapshot, also written to {@code snapshots/}). A consistent image is read
 * under a SQLite read transaction (SHARED lock), so every shipped state is one the application
 * committed; commits between two ships are coalesced into one TXID.
 *
 * <p>Not thread-safe. The file channel stays open until {@link #close()} (closing a descriptor of
 * the file would drop this process's SQLite locks).
 */
public final class ReferenceShipper implements AutoCloseable {
  private final ObjectStore store;
  private final String db;
  private final Path spool;
  private final Connection reader;
  private final FileChannel channel;
  private final int pageSize;
  private byte[][] pages = new byte[0][];
  private long checksum;
  private long txid;

  public ReferenceShipper(ObjectStore store, String db, Path file, Path spool) {
    this.store = store;
    this.db = db;
    this.spool = spool;
    try {
      this.reader = DriverManager.getConnection("jdbc:sqlite:" + file);
      try (Statement s = reader.createStatement();
          ResultSet rs = s.executeQuery("PRAGMA page_size")) {
        rs.next();
        this.pageSize = rs.getInt(1);
      }
      try (Statement s = reader.createStatement()) {
        s.execute("PRAGMA busy_timeout=10000");
      }
      this.channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (SQLException | IOException e) {
      throw new IllegalStateException("cannot open " + file, e);
    }
  }

  /** Uploads lineage.json and the snapshot at TXID 1. */
  public long init() {
    store.putIfAbsent(
        BucketLayout.lineageKey(db),
        new Lineage(db, UUID.randomUUID().toString(), pageSize, System.currentTimeMillis(), null)
            .toJson());
    byte[][] image = readImage();
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.SNAPSHOT, 0, pageSize, 1, 0, Compression.LZ4, spool)) {
      long sum = 0;
      for (int i = 0; i < image.length; i++) {
        w.addPage(i + 1, 1, image[i], 0);
        sum ^= DatabaseChecksum.pageHash(i + 1, image[i], 0, pageSize);
      }
      w.addCommit(new CommitRecord(1, System.currentTimeMillis(), image.length, sum));
      byte[] bytes = w.finish();
      store.putIfAbsent(BucketLayout.level0Key(db, 1), bytes);
      store.putIfAbsent(BucketLayout.snapshotKey(db, 1), bytes);
      pages = image;
      checksum = sum;
      txid = 1;
      return txid;
    }
  }

  /**
   * Ships what changed since the last ship as TXID {@code txid()+1}; returns the new TXID, or the
   * same TXID if nothing changed.
   */
  public long ship() {
    return ship(false);
  }

  /** As {@link #ship()}; {@code snapshotToo} also writes {@code snapshots/{txid}}. */
  public long ship(boolean snapshotToo) {
    byte[] bytes = nextSegment();
    if (bytes == null) {
      return txid;
    }
    store.putIfAbsent(BucketLayout.level0Key(db, txid), bytes);
    if (snapshotToo) {
      store.putIfAbsent(BucketLayout.snapshotKey(db, txid), snapshotBytes());
    }
    return txid;
  }

  /**
   * Builds the next segment without uploading it (advances the shipper's TXID); null if nothing
   * changed. For tests that corrupt or withhold a segment.
   */
  public byte[] nextSegment() {
    byte[][] image = readImage();
    long next = txid + 1;
    long sum = checksum;
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.INCREMENTAL, 0, pageSize, next, checksum, Compression.LZ4, spool)) {
      boolean changed = image.length != pages.length;
      for (int i = 0; i < Math.max(image.length, pages.length); i++) {
        byte[] old = i < pages.length ? pages[i] : null;
        byte[] now = i < image.length ? image[i] : null;
        if (now != null && (old == null || !Arrays.equals(old, now))) {
          w.addPage(i + 1, next, now, 0);
          changed = true;
          if (old != null) {
            sum ^= DatabaseChecksum.pageHash(i + 1, old, 0, pageSize);
          }
          sum ^= DatabaseChecksum.pageHash(i + 1, now, 0, pageSize);
        } else if (now == null) {
          sum ^= DatabaseChecksum.pageHash(i + 1, old, 0, pageSize);
        }
      }
      if (!changed) {
        return null;
      }
      w.addCommit(new CommitRecord(next, System.currentTimeMillis(), image.length, sum));
      byte[] bytes = w.finish();
      pages = image;
      checksum = sum;
      txid = next;
      return bytes;
    }
  }

  private byte[] snapshotBytes() {
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.SNAPSHOT, 0, pageSize, txid, 0, Compression.LZ4, spool)) {
      for (int i = 0; i < pages.length; i++) {
        w.addPage(i + 1, txid, pages[i], 0);
      }
      w.addCommit(new CommitRecord(txid, System.currentTimeMillis(), pages.length, checksum));
      return w.finish();
    }
  }

  public long txid() {
    return txid;
  }

  public long checksum() {
    return checksum;
  }

  /** Reads every page under a read transaction so the image is one committed state. */
  private byte[][] readImage() {
    try (Statement s = reader.createStatement()) {
      s.execute("BEGIN");
      try {
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master")) {
          rs.next();
        }
        long size = channel.size() / pageSize;
        byte[][] image = new byte[(int) size][];
        for (int i = 0; i < size; i++) {
          byte[] p = new byte[pageSize];
          ByteBuffer b = ByteBuffer.wrap(p);
          long pos = (long) i * pageSize;
          while (b.hasRemaining()) {
            int n = channel.read(b, pos + b.position());
            if (n < 0) {
              break;
            }
          }
          image[i] = p;
        }
        return image;
      } finally {
        s.execute("COMMIT");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read a consistent image", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      reader.close();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    } finally {
      try {
        channel.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
