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
 * src/test/resources/golden/v1/} and {@code golden/v2/}. Run once per format version (it writes
 * only files that do not exist yet):
 *
 * <pre>
 * mvn -q -pl segment-format test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp segment-format/target/test-classes:segment-format/target/classes:$(cat \
 *     segment-format/target/cp.txt) dev.walship.format.GoldenVectors \
 *     segment-format/src/test/resources/golden
 * </pre>
 *
 * Never regenerate an old version's vectors: {@link GoldenVectorsTest} checks that today's encoder
 * still produces them byte for byte and today's decoder still reads them.
 */
public final class GoldenVectors {
  private GoldenVectors() {}

  /** A golden vector: the segment, and the compression it is stored with. */
  record Vector(Segment segment, Compression compression) {}

  /**
   * What a primary captured for a v2 vector: each commit's page writes in capture order, including
   * a page written twice by one transaction and images beyond the commit's database size, which
   * {@link SegmentWriter} replaces or drops.
   */
  record Capture(int pageSize, long firstTxid, long checksumBefore, List<CapturedCommit> commits) {}

  /** One commit's record and its page writes in capture order (TXID = the record's). */
  record CapturedCommit(CommitRecord record, List<PageVersion> writes) {}

  /** Name (file name without ".seg") to the captured input of each v2 vector, in a fixed order. */
  static Map<String, Capture> v2Captures() {
    Map<String, Capture> m = new LinkedHashMap<>();
    m.put("delta-chain-lz4", deltaChain());
    m.put("delta-rewrite-drop-lz4", deltaRewriteDrop());
    return m;
  }

  /**
   * The segment a capture makes (independently of SegmentWriter): per commit the last write of each
   * page within the commit's database size, sorted by (page number, TXID).
   */
  static Segment segmentOf(Capture c) {
    List<PageVersion> pages = new ArrayList<>();
    List<CommitRecord> records = new ArrayList<>();
    for (CapturedCommit cc : c.commits()) {
      Map<Long, PageVersion> last = new LinkedHashMap<>();
      for (PageVersion w : cc.writes()) {
        last.put(w.pageNumber(), w);
      }
      for (PageVersion w : last.values()) {
        if (w.pageNumber() <= cc.record().dbSizePages()) {
          pages.add(w);
        }
      }
      records.add(cc.record());
    }
    pages.sort(RandomSegments.INDEX_ORDER);
    return new Segment(
        SegmentKind.INCREMENTAL,
        0,
        c.pageSize(),
        c.firstTxid(),
        c.firstTxid() + records.size() - 1,
        c.checksumBefore(),
        records,
        pages);
  }

  /**
   * An incremental LZ4 writer for {@code c}, with the given spool buffer and delta base memory, and
   * the reference compressor if {@code reference}.
   */
  static SegmentWriter writer(
      Capture c, Path spoolDir, int spoolBuffer, long baseBytes, boolean reference) {
    return SegmentWriter.create(
        SegmentKind.INCREMENTAL,
        0,
        c.pageSize(),
        c.firstTxid(),
        c.checksumBefore(),
        Compression.LZ4,
        spoolDir,
        spoolBuffer,
        baseBytes,
        reference);
  }

  /** Adds every write and commit of {@code c} to {@code w}, in capture order. */
  static void feed(Capture c, SegmentWriter w) {
    for (CapturedCommit cc : c.commits()) {
      for (PageVersion p : cc.writes()) {
        w.addPage(p.pageNumber(), p.txid(), p.data(), 0);
      }
      w.addCommit(cc.record());
    }
  }

  /** The committed bytes of a v2 vector: the codec with deltas and the reference compressor. */
  static byte[] encodeV2(Capture c) {
    return SegmentCodec.encode(segmentOf(c), Compression.LZ4, true, true);
  }

  /**
   * Six commits (TXIDs 0x20..0x25) on 512-byte pages: page 2 is a table leaf that receives one
   * 40-byte row per commit (a whole image, then a chain of five deltas); page 1 changes at the
   * first and last commit (a delta of a few bytes); page 3 is random bytes rewritten at random
   * (the delta is no shorter, so each image is stored whole); page 4 is written once.
   */
  static Capture deltaChain() {
    int ps = 512;
    List<CapturedCommit> commits = new ArrayList<>();
    for (int c = 0; c < 6; c++) {
      long txid = 0x20 + c;
      List<PageVersion> writes = new ArrayList<>();
      if (c == 0 || c == 5) {
        writes.add(new PageVersion(1, txid, sqlitePage1(ps, 4, 10 + c)));
      }
      writes.add(new PageVersion(2, txid, leaf(ps, 3 + c, 40, 7)));
      if (c == 1 || c == 3) {
        byte[] random = new byte[ps];
        new Random(100 + c).nextBytes(random);
        writes.add(new PageVersion(3, txid, random));
      }
      if (c == 2) {
        writes.add(new PageVersion(4, txid, text(ps, "written once at TXID 0x22; ")));
      }
      commits.add(
          new CapturedCommit(
              new CommitRecord(txid, 1_700_000_200_000L + 3 * c, 4, 0x2000L + c), writes));
    }
    return new Capture(ps, 0x20, 0x1fffL, commits);
  }

  /**
   * Four commits (TXIDs 0x30..0x33) on 1024-byte pages: at 0x31 a transaction writes leaf page 2
   * twice (only the second image is kept, stored as a delta against 0x30's image, not against the
   * replaced one) and writes page 3 while shrinking the database to 2 pages (that image is
   * dropped); at 0x32 the database grows back and page 3's new image is a delta against 0x30's,
   * the entry before it in the index.
   */
  static Capture deltaRewriteDrop() {
    int ps = 1024;
    long t = 0x30;
    byte[] p3 = leaf(ps, 6, 50, 11);
    byte[] p3dropped = leaf(ps, 7, 50, 11);
    byte[] p3later = leaf(ps, 7, 50, 11);
    p3later[ps - 1] ^= 0x5a; // differs from the dropped image too
    List<CapturedCommit> commits =
        List.of(
            new CapturedCommit(
                new CommitRecord(t, 1_700_000_300_000L, 3, 0x3000L),
                List.of(
                    new PageVersion(2, t, leaf(ps, 4, 60, 5)), new PageVersion(3, t, p3))),
            new CapturedCommit(
                new CommitRecord(t + 1, 1_700_000_300_010L, 2, 0x3001L),
                List.of(
                    new PageVersion(2, t + 1, leaf(ps, 5, 60, 5)),
                    new PageVersion(3, t + 1, p3dropped),
                    new PageVersion(2, t + 1, leaf(ps, 6, 60, 5)))),
            new CapturedCommit(
                new CommitRecord(t + 2, 1_700_000_300_020L, 3, 0x3002L),
                List.of(
                    new PageVersion(3, t + 2, p3later), new PageVersion(2, t + 2, leaf(ps, 7, 60, 5)))),
            new CapturedCommit(
                new CommitRecord(t + 3, 1_700_000_300_030L, 3, 0x3003L),
                List.of(new PageVersion(2, t + 3, leaf(ps, 8, 60, 5)))));
    return new Capture(ps, t, 0x2fffL, commits);
  }

  /**
   * A SQLite table b-tree leaf page (type 0x0D) holding {@code rows} cells of {@code rowBytes}
   * pseudo-random bytes each (row i's bytes depend only on {@code seed} and i), cells packed from
   * the end of the page, cell pointers after the 8-byte header.
   */
  static byte[] leaf(int pageSize, int rows, int rowBytes, int seed) {
    byte[] p = new byte[pageSize];
    p[0] = 0x0D;
    int content = pageSize;
    for (int i = 0; i < rows; i++) {
      content -= rowBytes;
      byte[] row = new byte[rowBytes];
      new Random(seed * 100_000L + i).nextBytes(row);
      row[0] = (byte) (rowBytes - 2); // payload length
      row[1] = (byte) (i + 1); // rowid
      System.arraycopy(row, 0, p, content, rowBytes);
      p[8 + 2 * i] = (byte) (content >>> 8);
      p[9 + 2 * i] = (byte) content;
    }
    p[3] = (byte) (rows >>> 8);
    p[4] = (byte) rows;
    p[5] = (byte) (content >>> 8);
    p[6] = (byte) content;
    return p;
  }

  /** Name (file name without ".seg") to v1 vector, in a fixed order. */
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

  /**
   * Writes every vector to {@code args[0]/v1} and {@code args[0]/v2} (args[0] a directory),
   * refusing to overwrite.
   */
  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : "segment-format/src/test/resources/golden");
    for (Map.Entry<String, Vector> e : vectors().entrySet()) {
      Vector v = e.getValue();
      write(root.resolve("v1"), e.getKey(), SegmentCodec.encode(v.segment(), v.compression(), true, false));
    }
    for (Map.Entry<String, Capture> e : v2Captures().entrySet()) {
      write(root.resolve("v2"), e.getKey(), encodeV2(e.getValue()));
    }
  }

  private static void write(Path dir, String name, byte[] bytes) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(name + ".seg");
    if (Files.exists(file)) {
      System.out.println("exists, not overwritten: " + file);
      return;
    }
    Files.write(file, bytes);
    System.out.println("wrote " + file + " (" + bytes.length + " bytes)");
  }
}
