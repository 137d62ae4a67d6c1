package dev.walship.primary;

import dev.walship.format.BucketLayout;
import dev.walship.format.CommitRecord;
import dev.walship.format.LineageManifest;
import dev.walship.format.SegmentReader;
import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.PreconditionFailedException;
import dev.walship.store.StoredObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Finds where a database's lineage stands in the bucket when the agent starts: one GET of {@code
 * lineage.json} (created with putIfAbsent if missing), one LIST of {@code L0/}, and one GET of the
 * last level-0 segment, whose last commit record gives the last TXID and its database checksum. A
 * branch with no segment of its own stands at its parent's TXID and checksum.
 *
 * <p>Stateless apart from its arguments; called once per database at start-up.
 */
final class LineageBootstrap {
  private LineageBootstrap() {}

  /**
   * @param localPageSize the local database's page size, recorded in a new manifest
   * @param spoolDir where the last segment is downloaded to (and deleted)
   */
  static BucketPosition position(
      ObjectStore store, String db, int localPageSize, Path spoolDir, InstantSource clock) {
    String lineageKey = BucketLayout.lineageKey(db);
    LineageManifest manifest = readOrCreate(store, db, lineageKey, localPageSize, clock);
    List<ObjectInfo> l0 = store.listAll(BucketLayout.levelPrefix(db, 0), null);
    Optional<ObjectInfo> last =
        l0.stream().filter(o -> BucketLayout.level0Txid(db, o.key()).isPresent()).reduce((a, b) -> b);
    if (last.isPresent()) {
      String key = last.get().key();
      Path tmp;
      try {
        tmp = Files.createTempFile(spoolDir, "last-", ".seg");
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a file in " + spoolDir, e);
      }
      try {
        if (!store.getToFile(key, tmp)) {
          throw new PrimaryException(key + " was listed but is gone; is another agent deleting?");
        }
        try (SegmentReader r = SegmentReader.open(tmp, key)) {
          List<CommitRecord> commits = r.commits();
          CommitRecord c = commits.get(commits.size() - 1);
          return BucketPosition.at(c.txid(), c.checksumAfter());
        }
      } finally {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          // a leftover temp file in the spool directory is harmless
        }
      }
    }
    if (manifest.parent() != null) {
      return BucketPosition.at(manifest.parent().txid(), manifest.parent().checksum());
    }
    return BucketPosition.nothing();
  }

  private static LineageManifest readOrCreate(
      ObjectStore store, String db, String key, int pageSize, InstantSource clock) {
    Optional<StoredObject> existing = store.get(key);
    if (existing.isPresent()) {
      return LineageManifest.fromJson(existing.get().data(), key);
    }
    LineageManifest m =
        LineageManifest.of(db, UUID.randomUUID().toString(), pageSize, clock.millis(), null);
    try {
      store.putIfAbsent(key, m.toJson());
      return m;
    } catch (PreconditionFailedException raced) {
      return LineageManifest.fromJson(store.get(key).orElseThrow().data(), key);
    }
  }
}
