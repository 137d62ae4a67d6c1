package dev.walship.primary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PageIndexTest {

  @Test
  void behavesLikeAMapThroughGrowthOverwritesAndClears() {
    PageIndex index = new PageIndex();
    Map<Long, Long> model = new HashMap<>();
    Random rnd = new Random(1);
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 200_000; i++) {
        long page = 1 + rnd.nextInt(round == 1 ? 300_000 : 5_000);
        long value = rnd.nextLong() >>> 1;
        index.put(page, value);
        model.put(page, value);
      }
      assertEquals(model.size(), index.size());
      for (long page = 1; page <= 300_001; page++) {
        assertEquals(model.getOrDefault(page, PageIndex.MISSING), index.get(page), "page " + page);
      }
      index.clear();
      model.clear();
      assertEquals(0, index.size());
      assertEquals(PageIndex.MISSING, index.get(1));
    }
  }

  @Test
  void removeAboveDropsExactlyThePagesBeyondTheLimit() {
    PageIndex index = new PageIndex();
    for (long page = 1; page <= 1000; page++) {
      index.put(page, page * 10);
    }
    index.removeAbove(400);
    assertEquals(400, index.size());
    for (long page = 1; page <= 1000; page++) {
      assertEquals(page <= 400 ? page * 10 : PageIndex.MISSING, index.get(page), "page " + page);
    }
    index.put(401, 7);
    assertEquals(7, index.get(401));
  }

  @Test
  void pageNumbersBelow1AndNegativeValuesAreRejected() {
    PageIndex index = new PageIndex();
    assertThrows(IllegalArgumentException.class, () -> index.put(0, 1));
    assertThrows(IllegalArgumentException.class, () -> index.put(1, -1));
    assertThrows(IllegalArgumentException.class, () -> index.get(0));
  }
}
