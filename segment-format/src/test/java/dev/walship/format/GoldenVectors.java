package dev.walship.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The deterministic generator of the committed golden vectors in {@code
 * src/test/resources/golden/v1/}. Run once per format version:
 *
 * <pre>
 * mvn -q -pl segment-format test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp segment-format/target/test-classes:segment-format/target/classes:$(cat \
 *     segment-format/target/cp.txt) dev.walship.format.GoldenVectors \
 *     segment-format/src/test/resources/golden/v1
 * </pre>
 *
 * Never regenerate an old version's vectors: {@link GoldenVectorsTest} checks that today's encoder
 * still produces them byte for byte and today's decoder still reads them.
 */
public final class GoldenVectors {
  private GoldenVectors() {}

  /** A golden vector: the segment, and the compression it is stored with. */
  record Vector(Segment segment, Compression compression) {}

  /** Name (file name without ".seg") to vector, in a fixed order. */
  static Map<String, Vector> vectors() {
    Map<String, Vector> m = new LinkedHashMap<>();
    m.put("commit-without-pages-none", new Vector(commitWithoutPages(), Compression.NONE));
    m.put("incremental-none", new Vector(incremental(), Compression.NONE));
    m.put("incremental-lz4", new Vector(incremental(), Compression.LZ4));
    m.put("snapshot-lz4", new Vector(snapshot(), Compression.LZ4));
    return m;
  }

  /** One commit that only shrank the database from 3 to 2 pages: no page images. */
  static Segment commitWithoutPages() {
    return new Segment(
        SegmentKind.INCREMENTAL,
        0,
        4096,
        0x10,
        0x10,
        0x0123456789abcdefL,
        List.of(new CommitRecord(0x10, 1_700_000_000_000L, 2, 0xfedcba9876543210L)),
        List.of());
  }

  /**
   * Three commits (TXIDs 7..9) on 512-byte pages: page 1 written twice, a page of random bytes
   * (stays raw under LZ4), a zero page, and a growth then shrink of the database.
   */
  static Segment incremental() {
    int ps = 512;
    byte[] p1a = sqlitePage1(ps, 3, 1);
    byte[] p1b = sqlitePage1(ps, 2, 3);
    byte[] p2 = new byte[ps];
    new Random(2).nextBytes(p2);
    byte[] p3 = text(ps, "walship golden vector page 3 at TXID 8; ");
    byte[] p4 = new byte[ps];
    return new Segment(
        SegmentKind.INCREMENTAL,
        0,
        ps,
        7,
        9,
        0x1111222233334444L,
        List.of(
            new CommitRecord(7, 1_700_000_000_000L, 3, 0x0a0a0a0a0a0a0a0aL),
            new CommitRecord(8, 1_700_000_000_250L, 4, 0x0b0b0b0b0b0b0b0bL),
            new CommitRecord(9, 1_700_000_001_000L, 2, 0x0c0c0c0c0c0c0c0cL)),
        List.of(
            new PageVersion(1, 7, p1a),
            new PageVersion(1, 9, p1b),
            new PageVersion(2, 7, p2),
            new PageVersion(3, 8, p3),
            new PageVersion(4, 8, p4)));
  }

  /** A snapshot of a 3-page database (1024-byte pages) at TXID 42, with its real checksum. */
  static Segment snapshot() {
    int ps = 1024;
    List<PageVersion> pages = new ArrayList<>();
    pages.add(new PageVersion(1, 42, sqlitePage1(ps, 3, 5)));
    pages.add(new PageVersion(2, 42, text(ps, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); ")));
    pages.add(new PageVersion(3, 42, text(ps, "row ")));
    long checksum = 0;
    for (PageVersion p : pages) {
      checksum ^= DatabaseChecksum.pageHash(p.pageNumber(), p.data());
    }
    return new Segment(
        SegmentKind.SNAPSHOT,
        0,
        ps,
        42,
        42,
        0,
        List.of(new CommitRecord(42, 1_700_000_100_000L, 3, checksum)),
        pages);
  }

  /** A page 1 with SQLite's header string, page size, change counter and database size. */
  static byte[] sqlitePage1(int pageSize, int dbSize, int changeCounter) {
    byte[] p = new byte[pageSize];
    byte[] magic = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, p, 0, 16);
    p[16] = (byte) (pageSize >>> 8);
    p[17] = (byte) pageSize;
    p[18] = 2; // WAL
    p[19] = 2;
    putInt(p, 24, changeCounter);
    putInt(p, 28, dbSize);
    putInt(p, 92, changeCounter);
    putInt(p, 96, 3050003);
    return p;
  }

  private static void putInt(byte[] p, int at, int v) {
    p[at] = (byte) (v >>> 24);
    p[at + 1] = (byte) (v >>> 16);
    p[at + 2] = (byte) (v >>> 8);
    p[at + 3] = (byte) v;
  }

  private static byte[] text(int pageSize, String s) {
    byte[] p = new byte[pageSize];
    byte[] t = s.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < pageSize * 3 / 4; i++) {
      p[i] = t[i % t.length];
    }
    Arrays.fill(p, pageSize * 3 / 4, pageSize, (byte) 0);
    return p;
  }

  /** Writes every vector to {@code args[0]} (a directory), refusing to overwrite. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "segment-format/src/test/resources/golden/v1");
    Files.createDirectories(dir);
    for (Map.Entry<String, Vector> e : vectors().entrySet()) {
      Path file = dir.resolve(e.getKey() + ".seg");
      if (Files.exists(file)) {
        System.out.println("exists, not overwritten: " + file);
        continue;
      }
      byte[] bytes = SegmentCodec.encode(e.getValue().segment(), e.getValue().compression(), true);
      Files.write(file, bytes);
      System.out.println("wrote " + file + " (" + bytes.length + " bytes)");
    }
  }
}
