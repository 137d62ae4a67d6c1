package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalChecksumTest {

  /** SQLite's walChecksumBytes, word by word, as the WAL format page states it. */
  private static long reference(boolean bigEndian, byte[] b, int off, int len, int s0, int s1) {
    ByteBuffer bb =
        ByteBuffer.wrap(b).order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    for (int i = off; i < off + len; i += 8) {
      s0 += bb.getInt(i) + s1;
      s1 += bb.getInt(i + 4) + s0;
    }
    return WalChecksum.pack(s0, s1);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void everyPageSizeAndByteOrderGivesSqlitesValue(boolean bigEndian) {
    Random rnd = new Random(bigEndian ? 7 : 11);
    for (int pageSize = 512; pageSize <= 65536; pageSize *= 2) {
      byte[] b = new byte[pageSize + 64];
      rnd.nextBytes(b);
      for (int off : new int[] {0, 8, 24, 61}) {
        int s0 = rnd.nextInt();
        int s1 = rnd.nextInt();
        assertEquals(
            reference(bigEndian, b, off, pageSize, s0, s1),
            WalChecksum.compute(bigEndian, b, off, pageSize, s0, s1),
            "page size " + pageSize + " at offset " + off);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void lengthsThatDoNotSplitEvenlyIntoLanesGiveSqlitesValue(boolean bigEndian) {
    Random rnd = new Random(bigEndian ? 3 : 5);
    byte[] b = new byte[4096];
    for (int len = 0; len <= 1024; len += 8) {
      rnd.nextBytes(b);
      int s0 = rnd.nextInt();
      int s1 = rnd.nextInt();
      assertEquals(
          reference(bigEndian, b, 16, len, s0, s1),
          WalChecksum.compute(bigEndian, b, 16, len, s0, s1),
          "length " + len);
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void inputsLongerThanOneBlockGiveSqlitesValue(boolean bigEndian) {
    byte[] b = new byte[3 * 65536 + 8 * 37 + 8];
    new Random(17).nextBytes(b);
    int len = b.length - 8;
    assertEquals(
        reference(bigEndian, b, 8, len, 23, 29), WalChecksum.compute(bigEndian, b, 8, len, 23, 29));
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void extremeWordsWrapModulo2To32(boolean bigEndian) {
    byte[] b = new byte[4096];
    java.util.Arrays.fill(b, (byte) 0xff);
    assertEquals(
        reference(bigEndian, b, 0, b.length, -1, -1),
        WalChecksum.compute(bigEndian, b, 0, b.length, -1, -1));
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aChecksumChainedOverPiecesEqualsOneOverTheWhole(boolean bigEndian) {
    byte[] b = new byte[24 + 4096];
    new Random(13).nextBytes(b);
    long header = WalChecksum.compute(bigEndian, b, 0, 8, 17, 19);
    long chained =
        WalChecksum.compute(
            bigEndian, b, 24, 4096, WalChecksum.s0(header), WalChecksum.s1(header));
    byte[] joined = new byte[8 + 4096];
    System.arraycopy(b, 0, joined, 0, 8);
    System.arraycopy(b, 24, joined, 8, 4096);
    assertEquals(reference(bigEndian, joined, 0, joined.length, 17, 19), chained);
  }

  @ParameterizedTest
  @ValueSource(ints = {4, 12, 4097})
  void lengthsNotAMultipleOf8AreRejected(int len) {
    assertThrows(
        IllegalArgumentException.class,
        () -> WalChecksum.compute(false, new byte[8192], 0, len, 0, 0));
  }

  @Test
  void aRangeOutsideTheArrayIsRejected() {
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> WalChecksum.compute(false, new byte[4096], 8, 4096, 0, 0));
  }
}
