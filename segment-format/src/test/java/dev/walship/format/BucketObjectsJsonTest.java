package dev.walship.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BucketObjectsJsonTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void lineageManifestWireFormatIsExactlyTheSpec() {
    LineageManifest root = LineageManifest.of("app", "8c1f-uuid", 4096, 1_700_000_000_000L, null);
    assertEquals(
        "{\"format_version\":1,\"db\":\"app\",\"lineage_id\":\"8c1f-uuid\",\"page_size\":4096,"
            + "\"created_ms\":1700000000000,\"parent\":null}",
        str(root.toJson()));
    assertEquals(root, LineageManifest.fromJson(root.toJson(), "app/lineage.json"));
    assertFalse(root.isBranch());

    LineageManifest branch =
        LineageManifest.of(
            "test-copy",
            "77aa",
            4096,
            1_700_000_000_001L,
            new LineageManifest.Parent("app", "8c1f-uuid", 42, 0xfedcba9876543210L));
    assertEquals(
        "{\"format_version\":1,\"db\":\"test-copy\",\"lineage_id\":\"77aa\",\"page_size\":4096,"
            + "\"created_ms\":1700000000001,\"parent\":{\"db\":\"app\",\"lineage_id\":\"8c1f-uuid\","
            + "\"txid\":42,\"checksum\":\"fedcba9876543210\"}}",
        str(branch.toJson()));
    assertEquals(branch, LineageManifest.fromJson(branch.toJson(), "k"));
    assertTrue(branch.isBranch());
    // field order and whitespace do not matter to the reader
    assertEquals(
        root,
        LineageManifest.fromJson(
            utf8(
                "{ \"parent\": null, \"created_ms\": 1700000000000, \"page_size\": 4096,"
                    + " \"lineage_id\": \"8c1f-uuid\", \"db\": \"app\", \"format_version\": 1 }"),
            "k"));
  }

  @Test
  void lineageManifestIsStrict() {
    String ok =
        "{\"format_version\":1,\"db\":\"app\",\"lineage_id\":\"u\",\"page_size\":4096,"
            + "\"created_ms\":5,\"parent\":null}";
    LineageManifest.fromJson(utf8(ok), "k");
    InvalidBucketObjectException v =
        assertThrows(
            InvalidBucketObjectException.class,
            () -> LineageManifest.fromJson(utf8(ok.replace(":1,", ":2,")), "app/lineage.json"));
    assertTrue(
        v.getMessage().startsWith("app/lineage.json: unsupported format_version 2"),
        v.getMessage());
    assertEquals("app/lineage.json", v.source());
    // a newer version with unknown fields still reports the version, not the field
    InvalidBucketObjectException v2 =
        assertThrows(
            InvalidBucketObjectException.class,
            () ->
                LineageManifest.fromJson(
                    utf8(ok.replace(":1,", ":2,\"encryption\":\"aes\",")), "k"));
    assertTrue(v2.getMessage().contains("unsupported format_version 2"), v2.getMessage());
    String[] bad = {
      ok.replace("\"parent\":null", "\"parent\":null,\"extra\":1"), // unknown field
      ok.replace(",\"parent\":null", ""), // missing field
      ok.replace("4096", "4000"), // page size not a power of two
      ok.replace("4096", "\"4096\""), // wrong type
      ok.replace("\"app\"", "\"\""), // empty name
      ok.replace(":5,", ":-5,"), // negative time
      ok.replace(
          "\"parent\":null",
          "\"parent\":{\"db\":\"a\",\"lineage_id\":\"b\",\"txid\":0,"
              + "\"checksum\":\"0000000000000000\"}"), // txid 0
      ok.replace(
          "\"parent\":null",
          "\"parent\":{\"db\":\"a\",\"lineage_id\":\"b\",\"txid\":3,"
              + "\"checksum\":\"ABCDEF0000000000\"}"), // upper-case hex
      ok.replace(
          "\"parent\":null",
          "\"parent\":{\"db\":\"a\",\"lineage_id\":\"b\",\"txid\":3,"
              + "\"checksum\":12}"), // checksum as number
      ok.replace(
          "\"parent\":null",
          "\"parent\":{\"db\":\"a\",\"lineage_id\":\"b\",\"txid\":3,"
              + "\"checksum\":\"0000000000000000\",\"x\":1}"), // unknown nested field
      ok.replace(":1,", ":1.5,"), // non-integral version
      "[]",
      "not json",
      "",
    };
    for (String b : bad) {
      assertThrows(
          InvalidBucketObjectException.class, () -> LineageManifest.fromJson(utf8(b), "k"), b);
    }
  }

  @Test
  void leaseRoundTripsAndIsStrict() {
    Lease l = Lease.acquire("host/123/uuid", 1000, 15_000);
    assertEquals(new Lease("host/123/uuid", 1000, 1000, 16_000), l);
    assertEquals(
        "{\"holder\":\"host/123/uuid\",\"acquired_ms\":1000,\"renewed_ms\":1000,"
            + "\"expires_ms\":16000}",
        str(l.toJson()));
    assertEquals(l, Lease.fromJson(l.toJson(), "app/lease.json"));
    Lease r = l.renew(5000, 15_000);
    assertEquals(new Lease("host/123/uuid", 1000, 5000, 20_000), r);
    assertFalse(r.isExpiredAt(19_999));
    assertTrue(r.isExpiredAt(20_000));
    assertThrows(
        InvalidBucketObjectException.class,
        () ->
            Lease.fromJson(
                utf8("{\"holder\":\"h\",\"acquired_ms\":5,\"renewed_ms\":4," + "\"expires_ms\":9}"),
                "k"));
    assertThrows(
        InvalidBucketObjectException.class,
        () ->
            Lease.fromJson(
                utf8(
                    "{\"holder\":\"h\",\"acquired_ms\":1,\"renewed_ms\":1,"
                        + "\"expires_ms\":9,\"x\":0}"),
                "k"));
    assertThrows(
        InvalidBucketObjectException.class,
        () -> Lease.fromJson(utf8("{\"holder\":\"h\",\"acquired_ms\":1,\"renewed_ms\":1}"), "k"));
  }

  @Test
  void branchRefRoundTripsAndIsStrict() {
    BranchRef b = BranchRef.of("copy", "child-uuid", "parent-uuid", 42, 0x0102030405060708L, 7);
    assertEquals(
        "{\"format_version\":1,\"child_db\":\"copy\",\"child_lineage_id\":\"child-uuid\","
            + "\"parent_lineage_id\":\"parent-uuid\",\"txid\":42,\"checksum\":\"0102030405060708\","
            + "\"created_ms\":7}",
        str(b.toJson()));
    assertEquals(b, BranchRef.fromJson(b.toJson(), "app/branches/copy.json"));
    assertThrows(
        InvalidBucketObjectException.class,
        () -> BranchRef.fromJson(utf8(str(b.toJson()).replace(":1,", ":9,")), "k"));
    assertThrows(
        InvalidBucketObjectException.class,
        () -> BranchRef.fromJson(utf8(str(b.toJson()).replace(":42,", ":0,")), "k"));
    assertArrayEquals(b.toJson(), BranchRef.fromJson(b.toJson(), "k").toJson());
  }

  @Test
  void bucketLayoutKeys() {
    assertEquals("app/lineage.json", BucketLayout.lineageKey("app"));
    assertEquals("app/lease.json", BucketLayout.leaseKey("app"));
    assertEquals("app/L0/000000000000002a.seg", BucketLayout.level0Key("app", 42));
    assertEquals(
        "app/L2/0000000000000001-00000000000000ff.seg",
        BucketLayout.compactedKey("app", 2, 1, 255));
    assertEquals("app/snapshots/00000000000f4240.seg", BucketLayout.snapshotKey("app", 1_000_000));
    assertEquals("app/branches/copy.json", BucketLayout.branchKey("app", "copy"));
    assertEquals(42, BucketLayout.level0Txid("app", "app/L0/000000000000002a.seg").getAsLong());
    assertEquals(-1L, BucketLayout.level0Txid("app", "app/L0/ffffffffffffffff.seg").getAsLong());
    assertTrue(BucketLayout.level0Txid("app", "app/L0/000000000000002A.seg").isEmpty());
    assertTrue(BucketLayout.level0Txid("app", "app/L0/00000000000002a.seg").isEmpty());
    assertTrue(BucketLayout.level0Txid("app", "other/L0/000000000000002a.seg").isEmpty());
    assertTrue(BucketLayout.level0Txid("app", "app/L0/000000000000002a.seg.tmp").isEmpty());
    assertEquals(
        9, BucketLayout.snapshotTxid("app", "app/snapshots/0000000000000009.seg").getAsLong());
    // lexicographic order of keys is TXID order
    assertTrue(BucketLayout.level0Key("a", 9).compareTo(BucketLayout.level0Key("a", 10)) < 0);
    assertTrue(BucketLayout.level0Key("a", 255).compareTo(BucketLayout.level0Key("a", 256)) < 0);
    assertThrows(IllegalArgumentException.class, () -> BucketLayout.compactedKey("a", 0, 1, 2));
    for (String ok : new String[] {"app", "tenant-0001", "a.db", "A_b-9"}) {
      assertEquals(ok, BucketLayout.checkDbName(ok));
    }
    for (String bad : new String[] {"", "a/b", ".", "..", ".hidden", "-x", "a b", "é", null}) {
      assertFalse(BucketLayout.isValidDbName(bad), String.valueOf(bad));
    }
  }
}
