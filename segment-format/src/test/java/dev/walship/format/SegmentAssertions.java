package dev.walship.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Deep equality for segments (records compare arrays by reference). */
final class SegmentAssertions {
  private SegmentAssertions() {}

  static void assertSameSegment(Segment expected, Segment actual) {
    assertEquals(expected.kind(), actual.kind(), "kind");
    assertEquals(expected.level(), actual.level(), "level");
    assertEquals(expected.pageSize(), actual.pageSize(), "page size");
    assertEquals(expected.firstTxid(), actual.firstTxid(), "first TXID");
    assertEquals(expected.lastTxid(), actual.lastTxid(), "last TXID");
    assertEquals(expected.checksumBefore(), actual.checksumBefore(), "checksum before");
    assertEquals(expected.commits(), actual.commits(), "commits");
    assertEquals(expected.pages().size(), actual.pages().size(), "page count");
    for (int i = 0; i < expected.pages().size(); i++) {
      PageVersion e = expected.pages().get(i);
      PageVersion a = actual.pages().get(i);
      assertEquals(e.pageNumber(), a.pageNumber(), "page number of image " + i);
      assertEquals(e.txid(), a.txid(), "TXID of image " + i);
      assertArrayEquals(e.data(), a.data(), "data of image " + i);
    }
  }
}
