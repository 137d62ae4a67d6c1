package dev.walship.restore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The sidecar file {@code NAME.walship.state} that holds a {@link PageApplier}'s {@link
 * ApplierState}: two fixed-size slots, each holding one whole record with a sequence number and a
 * CRC32C, written in place. The newest slot whose CRC32C is valid is the state; a slot torn by a
 * crash (or corrupted) is ignored and the other one is used.
 *
 * <h2>Layout (format 2; big-endian)</h2>
 *
 * <pre>
 * file   = slot 0 | slot 1, each slotBytes long; slotBytes = file size / 2 (at least 4096)
 * slot   = magic "WSHPSTAT" (8 bytes) | format u32 = 2 | payload length u32 | sequence u64
 *          | payload (ApplierState as UTF-8 JSON, the same fields as format 1) | CRC32C u32 over
 *          every byte before it | zeros to the end of the slot
 * </pre>
 *
 * <h2>Writes and why they are safe</h2>
 *
 * A write goes to the slot that does not hold the newest record known to be durable (the other
 * slot), with the next sequence number, so the durable record is never overwritten while it is the
 * only one describing the file. Two kinds of write:
 *
 * <ul>
 *   <li>{@link #writeDurable}: then {@code fdatasync} ({@link FileChannel#force force(false)}: the
 *       file's size never changes after creation, so no metadata needs flushing). The written slot
 *       becomes the durable one. Used for an intent (it must be on disk before the first page is
 *       written), a failure mark and a repair's result.
 *   <li>{@link #writeLazy}: no fsync, the slot stays "not durable", and the next write goes to the
 *       same slot again. Used for the record that ends an apply (TXID advanced, no intent). It needs
 *       no fsync of its own: if it is lost (power loss before the kernel wrote it), the durable slot
 *       still holds the intent, and opening the applier repairs by re-applying the intent's
 *       segments, which is idempotent; the pages were made durable before the lazy record was
 *       written, so a lazy record that does reach the disk is never ahead of the pages. A killed
 *       process (SIGKILL) loses nothing that was written: the kernel still has it.
 * </ul>
 *
 * <p>The file is created (or grown, when a record exceeds the slot) as a whole: temp file, fsync,
 * rename, fsync of the directory. That happens once per file, not per apply.
 *
 * <p>Not thread-safe: owned by one {@link PageApplier}, which serializes writes.
 */
final class StateFile implements AutoCloseable {

  /** Format 2 magic: "WSHPSTAT". */
  private static final byte[] MAGIC = "WSHPSTAT".getBytes(StandardCharsets.US_ASCII);
  static final int FORMAT = 2;
  static final int HEADER_BYTES = 24;
  static final int MIN_SLOT_BYTES = 4096;
  private static final int DEFAULT_SLOT_BYTES = 16 * 1024;

  private final Path path;
  private FileChannel channel;
  private int slotBytes;
  private long sequence;
  private int durableSlot;
  private boolean lazyPending;
  private ApplierState current;

  private StateFile(Path path, FileChannel channel, int slotBytes, long sequence, int durableSlot,
      ApplierState current) {
    this.path = path;
    this.channel = channel;
    this.slotBytes = slotBytes;
    this.sequence = sequence;
    this.durableSlot = durableSlot;
    this.current = current;
  }

  /** {@code NAME.walship.state} beside {@code dbFile}. */
  static Path pathFor(Path dbFile) {
    return dbFile.resolveSibling(dbFile.getFileName() + ".walship.state");
  }

  /** Format 1 ({@code NAME.walship.json}, replaced by rename), read once and migrated. */
  static Path legacyPathFor(Path dbFile) {
    return dbFile.resolveSibling(dbFile.getFileName() + ".walship.json");
  }

  /** Every sidecar file walship may keep beside {@code dbFile} (current, temporary, legacy). */
  static List<Path> sidecars(Path dbFile) {
    Path state = pathFor(dbFile);
    Path legacy = legacyPathFor(dbFile);
    return List.of(state, tmpOf(state), legacy, tmpOf(legacy));
  }

  /** True if {@code dbFile} has a state file (either format). */
  static boolean exists(Path dbFile) {
    return Files.exists(pathFor(dbFile)) || Files.exists(legacyPathFor(dbFile));
  }

  /**
   * Opens the state file of {@code dbFile}: the current format, or a format-1 JSON file (migrated:
   * the new file is made durable before the old one is deleted).
   *
   * @throws IllegalStateException if neither slot holds a valid record, or the format is unknown
   * @throws UncheckedIOException on I/O errors, or if no state file exists
   */
  static StateFile open(Path dbFile) {
    Path path = pathFor(dbFile);
    Path legacy = legacyPathFor(dbFile);
    try {
      if (!Files.exists(path) && Files.exists(legacy)) {
        ApplierState migrated = ApplierState.fromJson(Files.readAllBytes(legacy), legacy);
        StateFile f = create(dbFile, migrated);
        Files.delete(legacy);
        ApplierState.fsyncDirectory(path.toAbsolutePath().getParent());
        return f;
      }
      FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
      try {
        Newest n = newest(ch, path);
        // The newest record may be a lazy write of a process that was killed: still only in the
        // kernel's cache. Make it durable before the next write may overwrite the other slot.
        ch.force(false);
        return new StateFile(path, ch, n.slotBytes(), n.record().sequence(), n.slot(), n.state());
      } catch (RuntimeException e) {
        ch.close();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read applier state " + path, e);
    }
  }

  /** Reads the newest valid record without keeping the file open or migrating anything. */
  static ApplierState read(Path dbFile) {
    Path path = pathFor(dbFile);
    Path legacy = legacyPathFor(dbFile);
    try {
      if (!Files.exists(path) && Files.exists(legacy)) {
        return ApplierState.fromJson(Files.readAllBytes(legacy), legacy);
      }
      try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
        return newest(ch, path).state();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read applier state " + path, e);
    }
  }

  /**
   * Creates the state file of {@code dbFile} holding {@code initial} (temp file, fsync, rename,
   * fsync of the directory), replacing any existing one.
   */
  static StateFile create(Path dbFile, ApplierState initial) {
    Path path = pathFor(dbFile);
    byte[] payload = initial.toJson();
    int slot = slotBytesFor(payload.length, DEFAULT_SLOT_BYTES);
    try {
      FileChannel ch = replaceWithNewFile(path, slot, encode(payload, 1, slot));
      return new StateFile(path, ch, slot, 1, 0, initial);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create applier state " + path, e);
    }
  }

  /** The newest record (the last one written, durable or not). */
  ApplierState current() {
    return current;
  }

  /** Bytes per slot (for tests). */
  int slotBytes() {
    return slotBytes;
  }

  /** Writes {@code state} into the free slot and {@code fdatasync}s it: see the class comment. */
  void writeDurable(ApplierState state) {
    int slot = write(state);
    if (slot >= 0) {
      force();
      durableSlot = slot;
    }
    lazyPending = false;
  }

  /** Writes {@code state} into the free slot without fsync: see the class comment. */
  void writeLazy(ApplierState state) {
    if (write(state) >= 0) {
      lazyPending = true;
    }
  }

  /** Makes a lazy write durable (close does it too). */
  void flush() {
    if (lazyPending) {
      force();
      durableSlot = 1 - durableSlot;
      lazyPending = false;
    }
  }

  /** Flushes a lazy write, then closes the file. */
  @Override
  public void close() {
    if (channel == null) {
      return;
    }
    try {
      flush();
    } finally {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Every record that must be durable was forced; a failed close loses nothing.
      }
      channel = null;
    }
  }

  /** Returns the slot written, or -1 if the file was replaced (the record is then durable). */
  private int write(ApplierState state) {
    byte[] payload = state.toJson();
    long seq = sequence + 1;
    try {
      if (HEADER_BYTES + payload.length + 4 > slotBytes) {
        // Rare (an intent naming very many segments): a new file with larger slots, replaced
        // atomically; it holds this record only, which is therefore durable on return.
        int bigger = slotBytesFor(payload.length, slotBytes * 2);
        channel.close();
        channel = replaceWithNewFile(path, bigger, encode(payload, seq, bigger));
        slotBytes = bigger;
        sequence = seq;
        durableSlot = 0; // the next write goes to slot 1
        lazyPending = false;
        current = state;
        return -1;
      }
      int slot = 1 - durableSlot;
      ByteBuffer b = ByteBuffer.wrap(encode(payload, seq, HEADER_BYTES + payload.length + 4));
      long pos = (long) slot * slotBytes;
      while (b.hasRemaining()) {
        pos += channel.write(b, pos);
      }
      sequence = seq;
      current = state;
      return slot;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write applier state " + path, e);
    }
  }

  private void force() {
    try {
      channel.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fsync applier state " + path, e);
    }
  }

  private static int slotBytesFor(int payloadBytes, int atLeast) {
    int need = HEADER_BYTES + payloadBytes + 4;
    int slot = Math.max(MIN_SLOT_BYTES, atLeast);
    while (slot < need) {
      slot *= 2;
    }
    return slot;
  }

  /** One record, {@code length} bytes long (at least header + payload + CRC; zero padded). */
  static byte[] encode(byte[] payload, long sequence, int length) {
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.BIG_ENDIAN);
    b.put(MAGIC).putInt(FORMAT).putInt(payload.length).putLong(sequence).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, HEADER_BYTES + payload.length);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** A valid record of a slot. */
  record Decoded(long sequence, ApplierState state) {}

  /** The record in {@code slot}, or null if it is torn or corrupt (bad magic, length or CRC32C). */
  static Decoded decode(byte[] slot, Path path) {
    ByteBuffer b = ByteBuffer.wrap(slot).order(ByteOrder.BIG_ENDIAN);
    if (!Arrays.equals(slot, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      return null;
    }
    int format = b.getInt(8);
    int length = b.getInt(12);
    long seq = b.getLong(16);
    if (length < 0 || HEADER_BYTES + (long) length + 4 > slot.length) {
      return null;
    }
    CRC32C crc = new CRC32C();
    crc.update(slot, 0, HEADER_BYTES + length);
    if ((int) crc.getValue() != b.getInt(HEADER_BYTES + length)) {
      return null;
    }
    if (format != FORMAT) {
      // Intact but from another version of walship: refuse rather than guess.
      throw new IllegalStateException(path + ": unsupported state format " + format);
    }
    return new Decoded(seq, ApplierState.fromJson(
        Arrays.copyOfRange(slot, HEADER_BYTES, HEADER_BYTES + length), path));
  }

  /** The newest valid record of an open state file, with where it is. */
  private record Newest(int slotBytes, int slot, Decoded record) {
    ApplierState state() {
      return record.state();
    }
  }

  private static Newest newest(FileChannel ch, Path path) throws IOException {
    long size = ch.size();
    if (size < 2L * MIN_SLOT_BYTES || size % 2 != 0 || size > Integer.MAX_VALUE) {
      throw new IllegalStateException(path + ": " + size + " bytes is not a walship state file");
    }
    int slot = (int) (size / 2);
    Decoded a = decode(readSlot(ch, 0, slot), path);
    Decoded b = decode(readSlot(ch, slot, slot), path);
    if (a == null && b == null) {
      throw new IllegalStateException(path + ": neither state slot holds a valid record (both "
          + "torn or corrupt); the replica file cannot be trusted");
    }
    int newest = b == null || (a != null && a.sequence() > b.sequence()) ? 0 : 1;
    return new Newest(slot, newest, newest == 0 ? a : b);
  }

  private static byte[] readSlot(FileChannel ch, long position, int length) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length);
    long pos = position;
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        break;
      }
      pos += n;
    }
    return b.array();
  }

  private static FileChannel replaceWithNewFile(Path path, int slotBytes, byte[] slot0)
      throws IOException {
    Path tmp = tmpOf(path);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(slot0);
      long pos = 0;
      while (b.hasRemaining()) {
        pos += ch.write(b, pos);
      }
      ch.truncate(2L * slotBytes);
      if (ch.size() < 2L * slotBytes) {
        ch.write(ByteBuffer.allocate(1), 2L * slotBytes - 1);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
    }
    ApplierState.fsyncDirectory(path.toAbsolutePath().getParent());
    return FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  private static Path tmpOf(Path p) {
    return p.resolveSibling(p.getFileName() + ".tmp");
  }
}
