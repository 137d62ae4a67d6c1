package dev.walship.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code {db}/retention.json} as SPEC.md 3.4 describes it. */
class RetentionHorizonTest {

  @Test
  void writesTheSpecsBytesAndReadsThemBack() {
    RetentionHorizon h = RetentionHorizon.of("app", 40, 1700000000000L);
    String json = "{\"format_version\":1,\"db\":\"app\",\"txid\":40,\"updated_ms\":1700000000000}";
    assertEquals(json, new String(h.toJson(), StandardCharsets.UTF_8));
    assertEquals(h, RetentionHorizon.fromJson(json.getBytes(StandardCharsets.UTF_8), "k"));
    assertEquals("app/retention.json", RetentionHorizon.key("app"));
  }

  @Test
  void coversSnapshotsBelowItAndSegmentsAtOrBelowIt() {
    RetentionHorizon h = RetentionHorizon.of("app", 40, 0);
    assertTrue(h.mayDeleteSnapshot(39));
    assertFalse(h.mayDeleteSnapshot(40), "the anchor snapshot is kept");
    assertTrue(h.mayDeleteSegmentHolding(40));
    assertFalse(h.mayDeleteSegmentHolding(41));
  }

  @Test
  void rejectsWhatIsNotAVersion1Horizon() {
    for (String bad : new String[] {
        "{\"format_version\":2,\"db\":\"app\",\"txid\":1,\"updated_ms\":0}",
        "{\"format_version\":1,\"db\":\"app\",\"txid\":-1,\"updated_ms\":0}",
        "{\"format_version\":1,\"db\":\"app\",\"txid\":1}",
        "{\"format_version\":1,\"db\":\"app\",\"txid\":1,\"updated_ms\":0,\"x\":1}"}) {
      assertThrows(InvalidBucketObjectException.class,
          () -> RetentionHorizon.fromJson(bad.getBytes(StandardCharsets.UTF_8), "k"), bad);
    }
  }
}
