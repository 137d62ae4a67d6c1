package dev.walship.primary;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.format.CorruptSegmentException;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentReader;
import dev.walship.store.ObjectStore;
import dev.walship.store.PreconditionFailedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At start-up, uploads the segments an earlier run of the agent finished in its spool directory
 * but did not get into the bucket (it crashed or was stopped first), as long as they continue the
 * lineage exactly: the next file must start at {@code lastTxid + 1} and, unless it is a snapshot,
 * have {@code checksumBefore} equal to the lineage's checksum. Everything else in the directory
 * is deleted.
 *
 * <p>This is what lets a checkpoint proceed once captured commits are fsynced in the spool
 * (instead of waiting for the bucket): commits a checkpoint moved out of the WAL are never lost
 * to a crash, and the restarted agent still resumes without a snapshot.
 */
final class SpoolReplay {
  private static final Logger log = LoggerFactory.getLogger(SpoolReplay.class);

  private SpoolReplay() {}

  /** Replays the spool of {@code db} on top of {@code pos}; returns the new position. */
  static BucketPosition replay(ObjectStore store, String db, Path spoolDir, BucketPosition pos) {
    BucketPosition at = pos;
    List<Path> files;
    try {
      Files.createDirectories(spoolDir);
      try (Stream<Path> s = Files.list(spoolDir)) {
        files = s.filter(Files::isRegularFile).sorted().toList();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list spool directory " + spoolDir, e);
    }
    for (Path f : files) {
      String name = f.getFileName().toString();
      if (name.startsWith(db.replace('/', '_') + "-") && name.endsWith(".seg")
          && !name.contains("-snapshot-")) {
        at = tryUpload(store, db, f, at);
      }
      try {
        Files.deleteIfExists(f);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot clean spool file " + f, e);
      }
    }
    return at;
  }

  private static BucketPosition tryUpload(ObjectStore store, String db, Path f, BucketPosition at) {
    try (SegmentReader r = SegmentReader.open(f, f.toString())) {
      boolean snapshot = r.kind() == SegmentKind.SNAPSHOT;
      boolean continues =
          r.firstTxid() == at.lastTxid() + 1
              && (snapshot || (!at.empty() && r.checksumBefore() == at.checksum()));
      if (!continues) {
        return at;
      }
      List<String> keys =
          snapshot
              ? List.of(BucketLayout.level0Key(db, r.firstTxid()), BucketLayout.snapshotKey(db, r.firstTxid()))
              : List.of(BucketLayout.level0Key(db, r.firstTxid()));
      for (String key : keys) {
        try {
          store.putIfAbsent(key, f);
        } catch (PreconditionFailedException e) {
          if (key.equals(keys.get(0))) {
            log.warn("{}: spooled {} exists already in the bucket; not replaying the spool", db, key);
            return at; // someone else continued the lineage: the resync decides from here
          }
        }
      }
      List<CommitRecord> commits = r.commits();
      CommitRecord last = commits.get(commits.size() - 1);
      log.info("{}: uploaded spooled segment TXIDs {}..{} left by an earlier run", db,
          r.firstTxid(), r.lastTxid());
      return BucketPosition.at(last.txid(), last.checksumAfter());
    } catch (CorruptSegmentException e) {
      log.warn("{}: dropping unfinished spool file {}: {}", db, f, e.getMessage());
      return at;
    }
  }
}
