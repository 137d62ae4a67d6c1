package dev.walship.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@link ObjectStore} on a local directory: key {@code a/b/c} is the file {@code root/a/b/c}.
 *
 * <p>Atomicity: every write goes to a temporary file under {@code root/.walship-tmp/}, is fsynced,
 * then moved into place with an atomic rename (and the parent directory fsynced), so readers see
 * the old or the new object, never a partial one. {@link #putIfAbsent} publishes the temporary file
 * with a hard link, which the file system refuses atomically if the key exists: of racing writers
 * exactly one wins, across processes too.
 *
 * <p>ETags are the hex MD5 of the content (what S3 gives a single-part object), recorded in a
 * {@code user.walship.etag} extended attribute at write time when the file system supports it
 * (otherwise computed by reading the file).
 *
 * <p>{@link #putIfMatch}, {@link #put} and {@link #delete} take the store lock: a JVM-wide lock per
 * directory plus an exclusive {@link FileLock} on {@code root/.walship-lock}, so a check-then-
 * replace cannot interleave with another writer in this or another process on the same host.
 * Network file systems with unreliable {@code flock}/hard-link semantics are not supported.
 *
 * <p>Thread-safe.
 */
final class LocalDirectoryObjectStore implements ObjectStore {
  private static final String TMP_DIR = ObjectKeys.RESERVED_SEGMENT_PREFIX + "tmp";
  private static final String LOCK_FILE = ObjectKeys.RESERVED_SEGMENT_PREFIX + "lock";
  private static final String ETAG_XATTR = "walship.etag";

  /** One in-process lock per store directory: FileLock alone is per JVM, not per thread. */
  private static final ConcurrentHashMap<Path, ReentrantLock> PROCESS_LOCKS =
      new ConcurrentHashMap<>();

  private final Path root;
  private final Path tmpDir;
  private final ReentrantLock processLock;
  private final FileChannel lockChannel;
  private volatile boolean xattrs = true;

  LocalDirectoryObjectStore(Path root) {
    try {
      Files.createDirectories(root);
      this.root = root.toRealPath();
      this.tmpDir = this.root.resolve(TMP_DIR);
      Files.createDirectories(tmpDir);
      this.lockChannel =
          FileChannel.open(
              this.root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new ObjectStoreException("cannot open store directory " + root + ": " + e, false, e);
    }
    this.processLock = PROCESS_LOCKS.computeIfAbsent(this.root, r -> new ReentrantLock());
  }

  /** The directory this store keeps its objects in. */
  Path root() {
    return root;
  }

  // ---------------------------------------------------------------- writes

  @Override
  public String put(String key, byte[] data) {
    Path target = path(key);
    Staged staged = stage(key, out -> out.write(data));
    return withStoreLock(key, () -> publishReplacing(staged, target));
  }

  @Override
  public String put(String key, Path file) {
    Path target = path(key);
    Staged staged = stage(key, out -> copy(file, out));
    return withStoreLock(key, () -> publishReplacing(staged, target));
  }

  @Override
  public String putIfAbsent(String key, byte[] data) {
    Path target = path(key);
    return publishIfAbsent(key, target, stage(key, out -> out.write(data)));
  }

  @Override
  public String putIfAbsent(String key, Path file) {
    Path target = path(key);
    return publishIfAbsent(key, target, stage(key, out -> copy(file, out)));
  }

  @Override
  public String putIfMatch(String key, byte[] data, String expectedEtag) {
    if (expectedEtag == null || Etags.normalize(expectedEtag).isEmpty()) {
      throw new IllegalArgumentException("expectedEtag must not be empty for " + key);
    }
    Path target = path(key);
    String expected = Etags.normalize(expectedEtag);
    Staged staged = stage(key, out -> out.write(data));
    return withStoreLock(
        key,
        () -> {
          Optional<String> current = etagOf(target);
          if (current.isEmpty() || !current.get().equals(expected)) {
            Files.deleteIfExists(staged.file());
            throw new PreconditionFailedException(
                "PUT If-Match "
                    + describe(key)
                    + ": expected ETag "
                    + expected
                    + ", found "
                    + current.orElse("no object")
                    + ": another writer got there first");
          }
          return publishReplacing(staged, target);
        });
  }

  private record Staged(Path file, String etag) {}

  private interface Writer {
    void write(OutputStream out) throws IOException;
  }

  private interface Locked<T> {
    T run() throws IOException;
  }

  /** Writes the content to a fsynced temporary file and records its ETag. */
  private Staged stage(String key, Writer writer) {
    Path temp = tmpDir.resolve(UUID.randomUUID() + ".tmp");
    try (FileChannel channel =
        FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      MessageDigest md5 = Etags.md5();
      OutputStream out = new DigestOutputStream(Channels.newOutputStream(channel), md5);
      writer.write(out);
      out.flush();
      channel.force(true);
      String etag = Etags.hex(md5);
      writeEtagAttribute(temp, etag);
      return new Staged(temp, etag);
    } catch (IOException | UncheckedIOException e) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      if (e instanceof NoSuchFileException missing
          && !missing.getFile().startsWith(tmpDir.toString())) {
        throw new ObjectStoreException(
            "PUT " + describe(key) + ": source file missing: " + missing.getFile(), false, e);
      }
      throw new ObjectStoreException("PUT " + describe(key) + " failed: " + e, false, e);
    }
  }

  private String publishReplacing(Staged staged, Path target) throws IOException {
    Files.createDirectories(target.getParent());
    try {
      Files.move(
          staged.file(),
          target,
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("file system cannot rename atomically under " + root, e);
    }
    fsyncDirectory(target.getParent());
    return staged.etag();
  }

  private String publishIfAbsent(String key, Path target, Staged staged) {
    try {
      Files.createDirectories(target.getParent());
      try {
        Files.createLink(target, staged.file());
      } catch (FileAlreadyExistsException e) {
        throw new PreconditionFailedException(
            "PUT If-None-Match "
                + describe(key)
                + ": the key exists: another writer got there first");
      }
      fsyncDirectory(target.getParent());
      return staged.etag();
    } catch (IOException e) {
      throw new ObjectStoreException(
          "PUT If-None-Match " + describe(key) + " failed: " + e, false, e);
    } finally {
      try {
        Files.deleteIfExists(staged.file());
      } catch (IOException cleanup) {
        // Harmless leftover in the temp directory; never visible as a key.
      }
    }
  }

  private <T> T withStoreLock(String key, Locked<T> body) {
    processLock.lock();
    try {
      FileLock fileLock = lockChannel.lock();
      try {
        return body.run();
      } finally {
        fileLock.release();
      }
    } catch (IOException e) {
      throw new ObjectStoreException("write " + describe(key) + " failed: " + e, false, e);
    } finally {
      processLock.unlock();
    }
  }

  private static void copy(Path file, OutputStream out) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      in.transferTo(out);
    }
  }

  private static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  // ---------------------------------------------------------------- reads

  @Override
  public Optional<StoredObject> get(String key) {
    Path file = path(key);
    if (Files.isDirectory(file)) {
      return Optional.empty(); // a "directory" of longer keys is not an object
    }
    try {
      byte[] data = Files.readAllBytes(file);
      return Optional.of(new StoredObject(data, Etags.md5Hex(data)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw readFailure("GET", key, e);
    }
  }

  @Override
  public Optional<byte[]> getRange(String key, long offset, long length) {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException(
          "offset and length must be >= 0, got " + offset + " and " + length + " for " + key);
    }
    Path file = path(key);
    if (Files.isDirectory(file)) {
      return Optional.empty();
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (offset >= size) {
        return Optional.of(new byte[0]);
      }
      int n = (int) Math.min(length, Math.min(size - offset, Integer.MAX_VALUE - 8));
      ByteBuffer buffer = ByteBuffer.allocate(n);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, offset + buffer.position()) < 0) {
          break;
        }
      }
      byte[] out = buffer.array();
      return Optional.of(
          buffer.position() == n ? out : java.util.Arrays.copyOf(out, buffer.position()));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw readFailure("GET range", key, e);
    }
  }

  /**
   * A {@link java.io.FileInputStream} on the object's file. Every write replaces the file by an
   * atomic rename (and delete unlinks it), so an open stream keeps reading the version it opened,
   * complete, even if the key is overwritten or deleted meanwhile (POSIX keeps the unlinked inode
   * alive while it is open).
   */
  @Override
  public Optional<InputStream> getStream(String key) {
    Path file = path(key);
    if (Files.isDirectory(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(new java.io.FileInputStream(file.toFile()));
    } catch (java.io.FileNotFoundException e) {
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        return Optional.empty();
      }
      throw readFailure("GET", key, e);
    }
  }

  @Override
  public boolean getToFile(String key, Path destination) {
    Path file = path(key);
    Path dir = destination.toAbsolutePath().getParent();
    if (Files.isDirectory(file)) {
      return false;
    }
    Path temp = null;
    try {
      Files.createDirectories(dir);
      temp = Files.createTempFile(dir, "." + destination.getFileName() + ".", ".part");
      try (InputStream in = Files.newInputStream(file);
          FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        in.transferTo(Channels.newOutputStream(out));
        out.force(true);
      }
      Files.move(
          temp, destination, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      temp = null;
      return true;
    } catch (NoSuchFileException e) {
      if (file.toString().equals(e.getFile())) {
        return false;
      }
      throw readFailure("GET to " + destination + " of", key, e);
    } catch (IOException e) {
      throw readFailure("GET to " + destination + " of", key, e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException cleanup) {
          // best effort: a leftover .part file beside the destination
        }
      }
    }
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    Path file = path(key);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      long size = Files.size(file);
      return etagOf(file).map(etag -> new ObjectInfo(key, size, etag));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw readFailure("HEAD", key, e);
    }
  }

  @Override
  public List<ObjectInfo> list(String prefix, String startAfter, int maxKeys) {
    String p = ObjectKeys.checkPrefix(prefix);
    if (maxKeys < 1) {
      throw new IllegalArgumentException("maxKeys must be >= 1, got " + maxKeys);
    }
    int slash = p.lastIndexOf('/');
    Path base = slash < 0 ? root : root.resolve(p.substring(0, slash));
    String baseKey = slash < 0 ? "" : p.substring(0, slash + 1);
    List<String> keys = new ArrayList<>();
    try {
      collect(base, baseKey, p, startAfter, keys);
    } catch (IOException e) {
      throw readFailure("LIST", p + "*", e);
    }
    keys.sort(ObjectKeys.ORDER);
    List<ObjectInfo> out = new ArrayList<>(Math.min(keys.size(), maxKeys));
    for (String key : keys) {
      if (out.size() == maxKeys) {
        break;
      }
      head(key).ifPresent(out::add); // a key deleted meanwhile is simply not listed
    }
    return out;
  }

  private void collect(Path dir, String dirKey, String prefix, String startAfter, List<String> keys)
      throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (name.startsWith(ObjectKeys.RESERVED_SEGMENT_PREFIX)) {
          continue;
        }
        String key = dirKey + name;
        String sub = key + "/";
        // Decide from the name alone whether this entry can matter, before any stat.
        boolean asFile =
            key.startsWith(prefix)
                && (startAfter == null || ObjectKeys.ORDER.compare(key, startAfter) > 0);
        boolean asDir =
            (sub.startsWith(prefix) || prefix.startsWith(sub))
                && (startAfter == null
                    || ObjectKeys.ORDER.compare(sub, startAfter) > 0
                    || startAfter.startsWith(sub));
        if (!asFile && !asDir) {
          continue;
        }
        BasicFileAttributes attrs;
        try {
          attrs = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException gone) {
          continue; // deleted meanwhile
        }
        if (attrs.isDirectory()) {
          if (asDir) {
            collect(entry, sub, prefix, startAfter, keys);
          }
        } else if (attrs.isRegularFile() && asFile && isValidKey(key)) {
          keys.add(key);
        }
      }
    } catch (NoSuchFileException e) {
      // no such directory: nothing under this prefix
    }
  }

  /** Files put there by others with names no key can have (e.g. a backslash) are not listed. */
  private static boolean isValidKey(String key) {
    try {
      ObjectKeys.check(key);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  // ---------------------------------------------------------------- deletes

  @Override
  public void delete(String key) {
    Path file = path(key);
    withStoreLock(key, () -> Files.deleteIfExists(file));
  }

  @Override
  public void deleteAll(Collection<String> keys) {
    List<Path> files = new ArrayList<>(keys.size());
    for (String key : keys) {
      files.add(path(key));
    }
    int i = 0;
    for (String key : keys) {
      Path file = files.get(i++);
      withStoreLock(key, () -> Files.deleteIfExists(file));
    }
  }

  @Override
  public String describe() {
    return root.toUri().toString();
  }

  @Override
  public void close() {
    try {
      lockChannel.close();
    } catch (IOException e) {
      throw new ObjectStoreException("closing " + describe() + " failed: " + e, false, e);
    }
  }

  @Override
  public String toString() {
    return describe();
  }

  // ---------------------------------------------------------------- helpers

  private Path path(String key) {
    ObjectKeys.check(key);
    Path p = root.resolve(key).normalize();
    if (!p.startsWith(root) || p.equals(root)) {
      throw new IllegalArgumentException("object key escapes the store directory: '" + key + "'");
    }
    return p;
  }

  private String describe(String key) {
    return root.resolve(key).toUri().toString();
  }

  private ObjectStoreException readFailure(String op, String key, IOException e) {
    return new ObjectStoreException(op + " " + describe(key) + " failed: " + e, false, e);
  }

  /** The ETag of a file: from its extended attribute, else by hashing it. Empty if absent. */
  private Optional<String> etagOf(Path file) throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    if (xattrs) {
      try {
        UserDefinedFileAttributeView view =
            Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
        if (view != null) {
          ByteBuffer buf = ByteBuffer.allocate(64);
          view.read(ETAG_XATTR, buf);
          buf.flip();
          return Optional.of(StandardCharsets.US_ASCII.decode(buf).toString());
        }
      } catch (NoSuchFileException e) {
        return Optional.empty();
      } catch (IOException | UnsupportedOperationException e) {
        // no attribute (written by someone else) or no xattr support: hash the content
      }
    }
    MessageDigest md5 = Etags.md5();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        md5.update(buf, 0, n);
      }
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    return Optional.of(Etags.hex(md5));
  }

  private void writeEtagAttribute(Path file, String etag) {
    if (!xattrs) {
      return;
    }
    try {
      UserDefinedFileAttributeView view =
          Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
      if (view == null) {
        xattrs = false;
        return;
      }
      view.write(ETAG_XATTR, StandardCharsets.US_ASCII.encode(etag));
    } catch (IOException | UnsupportedOperationException e) {
      xattrs = false; // the file system has no user xattrs: ETags are computed on demand
    }
  }
}
