package dev.walship.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two-slot sidecar format: newest valid slot wins, a torn or corrupt slot falls back. */
class StateFileTest {
  @TempDir Path dir;

  static ApplierState at(long txid) {
    return new ApplierState("lin", txid, 0xABCDEF00L + txid, 4096, null, null);
  }

  static ApplierState intent(long from, long upto) {
    return new ApplierState("lin", from, 0xABCDEF00L + from, 4096,
        new ApplierState.Intent(List.of("app/L0/" + upto + ".seg"), from, upto, 0x1234L + upto, false),
        null);
  }

  /** Which slot holds the record with the highest sequence number (both must be valid). */
  static int newestSlot(Path db) throws Exception {
    byte[] all = Files.readAllBytes(StateFile.pathFor(db));
    int half = all.length / 2;
    StateFile.Decoded a = StateFile.decode(java.util.Arrays.copyOfRange(all, 0, half), db);
    StateFile.Decoded b = StateFile.decode(java.util.Arrays.copyOfRange(all, half, all.length), db);
    if (a == null || b == null) {
      return a == null ? 1 : 0;
    }
    return a.sequence() > b.sequence() ? 0 : 1;
  }

  /** Flips one byte inside the record of {@code slot} (a torn or rotten write). */
  static void corruptSlot(Path db, int slot, int offsetInRecord) throws Exception {
    Path f = StateFile.pathFor(db);
    long half = Files.size(f) / 2;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, slot * half + offsetInRecord);
      b.flip();
      byte v = b.get(0);
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (v ^ 0x40)}), slot * half + offsetInRecord);
    }
  }

  @Test
  void theNewestRecordIsReadBackDurableOrLazy() {
    Path db = dir.resolve("a.db");
    try (StateFile f = StateFile.create(db, at(0))) {
      f.writeDurable(intent(0, 5));
      f.writeLazy(at(5));
      f.writeDurable(intent(5, 9));
      f.writeLazy(at(9));
    }
    assertEquals(at(9), StateFile.read(db));
    try (StateFile f = StateFile.open(db)) {
      assertEquals(at(9), f.current());
    }
  }

  @Test
  void aLazyRecordAndTheNextIntentShareASlotSoTheDurableIntentIsNeverOverwritten() throws Exception {
    Path db = dir.resolve("b.db");
    try (StateFile f = StateFile.create(db, at(0))) {
      f.writeDurable(intent(0, 5));
      int durable = newestSlot(db);
      f.writeLazy(at(5));
      int lazy = newestSlot(db);
      assertEquals(1 - durable, lazy, "the lazy record goes to the other slot");
      f.writeDurable(intent(5, 9));
      assertEquals(lazy, newestSlot(db), "the next intent overwrites the lazy record, not the intent");
      // Torn write of that intent: the previous durable intent is what a restart sees.
      corruptSlot(db, lazy, StateFile.HEADER_BYTES + 3);
      assertEquals(intent(0, 5), StateFile.read(db));
    }
  }

  @Test
  void aTornOrCorruptNewestSlotFallsBackToTheOtherSlot() throws Exception {
    // Every byte of the record: magic, format, length, sequence, payload and CRC32C.
    ApplierState newest = intent(5, 9);
    int recordBytes = StateFile.HEADER_BYTES + newest.toJson().length + 4;
    for (int offset : IntStream.range(0, recordBytes).toArray()) {
      Path db = dir.resolve("c" + offset + ".db");
      try (StateFile f = StateFile.create(db, at(0))) {
        f.writeDurable(at(5));
        f.writeDurable(newest);
      }
      corruptSlot(db, newestSlot(db), offset);
      assertEquals(at(5), StateFile.read(db), "byte " + offset + " flipped");
      try (StateFile f = StateFile.open(db)) {
        assertEquals(at(5), f.current());
        // Writing again goes to the corrupt slot, never over the only valid one.
        f.writeDurable(at(9));
      }
      assertEquals(at(9), StateFile.read(db));
    }
  }

  @Test
  void aRecordCutShortIsIgnored() throws Exception {
    Path db = dir.resolve("d.db");
    try (StateFile f = StateFile.create(db, at(0))) {
      f.writeDurable(at(3));
      f.writeDurable(intent(3, 4));
    }
    int slot = newestSlot(db);
    Path file = StateFile.pathFor(db);
    long half = Files.size(file) / 2;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      // Only the first 40 bytes of the record reached the disk; the rest is zeros.
      ch.write(ByteBuffer.allocate((int) half - 40), slot * half + 40);
    }
    assertEquals(at(3), StateFile.read(db));
  }

  @Test
  void bothSlotsCorruptIsRefusedNotGuessed() throws Exception {
    Path db = dir.resolve("e.db");
    try (StateFile f = StateFile.create(db, at(0))) {
      f.writeDurable(at(1));
    }
    corruptSlot(db, 0, 30);
    corruptSlot(db, 1, 30);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> StateFile.open(db));
    assertTrue(e.getMessage().contains("neither state slot"), e.getMessage());
  }

  @Test
  void anIntactRecordOfAnotherFormatIsRefused() throws Exception {
    Path db = dir.resolve("f.db");
    try (StateFile f = StateFile.create(db, at(0))) {
      f.writeDurable(at(1));
    }
    int slot = newestSlot(db);
    Path file = StateFile.pathFor(db);
    long half = Files.size(file) / 2;
    byte[] payload = at(2).toJson();
    byte[] record = StateFile.encode(payload, 99, StateFile.HEADER_BYTES + payload.length + 4);
    ByteBuffer.wrap(record).putInt(8, 3);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(record, 0, StateFile.HEADER_BYTES + payload.length);
    ByteBuffer.wrap(record).putInt(StateFile.HEADER_BYTES + payload.length, (int) crc.getValue());
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(record), (1 - slot) * half);
    }
    assertThrows(IllegalStateException.class, () -> StateFile.read(db));
  }

  @Test
  void aFormatOneJsonFileIsMigratedAndDeleted() throws Exception {
    Path db = dir.resolve("g.db");
    String json = "{\"format_version\":1,\"lineage_id\":\"lin\",\"txid\":7,\"checksum\":\"00000000abcdef07\","
        + "\"page_size\":4096,\"pending\":null,\"failure\":null}";
    Files.writeString(StateFile.legacyPathFor(db), json, StandardCharsets.UTF_8);
    assertTrue(StateFile.exists(db));
    assertEquals(at(7), StateFile.read(db));
    try (StateFile f = StateFile.open(db)) {
      assertEquals(at(7), f.current());
    }
    assertFalse(Files.exists(StateFile.legacyPathFor(db)));
    assertEquals(at(7), StateFile.read(db));
  }

  @Test
  void aRecordLargerThanTheSlotGrowsTheFile() {
    Path db = dir.resolve("h.db");
    List<String> keys = IntStream.range(0, 2000).mapToObj(i -> "app/L0/" + "%016x".formatted(i) + ".seg").toList();
    ApplierState big = new ApplierState("lin", 1, 2, 4096,
        new ApplierState.Intent(keys, 1, 2001, 3, false), null);
    int before;
    try (StateFile f = StateFile.create(db, at(1))) {
      before = f.slotBytes();
      f.writeDurable(big);
      assertTrue(f.slotBytes() > before, "slot grew from " + before);
      f.writeLazy(at(2001));
    }
    assertEquals(at(2001), StateFile.read(db));
    try (StateFile f = StateFile.open(db)) {
      assertEquals(at(2001), f.current());
      f.writeDurable(big);
    }
    ApplierState read = StateFile.read(db);
    assertNotNull(read.pending());
    assertEquals(keys, read.pending().keys());
    assertNull(read.failure());
  }
}
