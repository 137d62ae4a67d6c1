package dev.walship.format;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Seeded generator of valid segments for property tests. Page images mix compressible (mostly zero,
 * repeated runs) and incompressible (random) content so both stored forms of LZ4 occur, and later
 * images of a page are often small edits of its previous one (as a row insert makes), so delta
 * chains occur.
 */
final class RandomSegments {
  static final int[] PAGE_SIZES = {512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};

  private RandomSegments() {}

  /** Page index order: page number, then TXID. */
  static final java.util.Comparator<PageVersion> INDEX_ORDER =
      java.util.Comparator.comparingLong(PageVersion::pageNumber)
          .thenComparingLong(PageVersion::txid);

  /** A random valid segment; the same seed always gives the same segment. */
  static Segment generate(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int pageSize = PAGE_SIZES[r.nextInt(r.nextInt(4) == 0 ? PAGE_SIZES.length : 4)];
    boolean snapshot = r.nextInt(4) == 0;
    long firstTxid = 1 + r.nextLong(1L << r.nextInt(1, 40));
    int level = r.nextInt(3) == 0 ? r.nextInt(256) : 0;
    int maxPages = pageSize >= 16384 ? 6 : 40;
    if (snapshot) {
      int dbSize = r.nextInt(maxPages + 1);
      List<PageVersion> pages = new ArrayList<>();
      long checksum = 0;
      for (int p = 1; p <= dbSize; p++) {
        byte[] data = page(r, pageSize);
        pages.add(new PageVersion(p, firstTxid, data));
        checksum ^= DatabaseChecksum.pageHash(p, data);
      }
      return new Segment(
          SegmentKind.SNAPSHOT,
          level,
          pageSize,
          firstTxid,
          firstTxid,
          0,
          List.of(new CommitRecord(firstTxid, r.nextLong(1L << 42), dbSize, checksum)),
          pages);
    }
    int commitCount = 1 + r.nextInt(r.nextInt(4) == 0 ? 20 : 4);
    long dbSize = r.nextInt(1, maxPages + 1);
    long time = r.nextLong(1L << 42);
    List<CommitRecord> commits = new ArrayList<>();
    List<PageVersion> pages = new ArrayList<>();
    java.util.Map<Long, byte[]> latest = new java.util.HashMap<>();
    for (int c = 0; c < commitCount; c++) {
      long txid = firstTxid + c;
      if (r.nextInt(3) == 0) {
        dbSize = Math.max(0, dbSize + r.nextInt(-3, 6)); // grow or shrink, sometimes to 0
      }
      int touched = dbSize == 0 ? 0 : r.nextInt((int) Math.min(dbSize, 12) + 1); // may be 0
      long[] chosen =
          touched == 0 ? new long[0] : r.longs(touched, 1, dbSize + 1).distinct().toArray();
      for (long p : chosen) {
        byte[] before = latest.get(p);
        byte[] data = before != null && r.nextInt(3) != 0 ? edit(r, before) : page(r, pageSize);
        latest.put(p, data);
        pages.add(new PageVersion(p, txid, data));
      }
      time += r.nextInt(1000);
      commits.add(new CommitRecord(txid, time, dbSize, r.nextLong()));
    }
    pages.sort(INDEX_ORDER);
    return new Segment(
        SegmentKind.INCREMENTAL,
        level,
        pageSize,
        firstTxid,
        firstTxid + commitCount - 1,
        r.nextLong(),
        commits,
        pages);
  }

  /** A copy of {@code page} with one to four runs of 1..120 random bytes changed. */
  static byte[] edit(SplittableRandom r, byte[] page) {
    byte[] data = page.clone();
    for (int runs = 1 + r.nextInt(4); runs > 0; runs--) {
      int len = 1 + r.nextInt(120);
      int at = r.nextInt(data.length - len);
      for (int i = 0; i < len; i++) {
        data[at + i] = (byte) r.nextInt();
      }
    }
    return data;
  }

  static byte[] page(SplittableRandom r, int pageSize) {
    byte[] data = new byte[pageSize];
    switch (r.nextInt(4)) {
      case 0 -> new Random(r.nextLong()).nextBytes(data); // incompressible
      case 1 -> {} // all zero
      default -> { // SQLite-like: a few records, the rest zero or repeated
        Random x = new Random(r.nextLong());
        int filled = x.nextInt(pageSize);
        for (int i = 0; i < filled; i++) {
          data[i] = (byte) (x.nextInt(8) == 0 ? x.nextInt() : 'a' + (i % 13));
        }
      }
    }
    return data;
  }

  /**
   * Feeds {@code s} to a SegmentWriter, adding each commit's pages in a shuffled order, some
   * written twice (the first image a throwaway), and some images beyond the commit's database size
   * (which the writer drops).
   */
  static void feed(Segment s, SegmentWriter w, long seed) {
    Random r = new Random(seed);
    for (CommitRecord c : s.commits()) {
      if (c.dbSizePages() < 100 && r.nextInt(4) == 0) { // spilled before a truncating commit
        byte[] junk = new byte[s.pageSize()];
        r.nextBytes(junk);
        w.addPage(c.dbSizePages() + 1 + r.nextInt(3), c.txid(), junk, 0);
      }
      List<PageVersion> mine = new ArrayList<>();
      for (PageVersion p : s.pages()) {
        if (p.txid() == c.txid()) {
          mine.add(p);
        }
      }
      java.util.Collections.shuffle(mine, r);
      for (PageVersion p : mine) {
        if (r.nextInt(5) == 0) { // a transaction may write a page twice: the last image wins
          w.addPage(p.pageNumber(), p.txid(), new byte[s.pageSize()], 0);
        }
        byte[] padded = new byte[s.pageSize() + 7];
        System.arraycopy(p.data(), 0, padded, 3, s.pageSize());
        w.addPage(p.pageNumber(), p.txid(), padded, 3);
      }
      w.addCommit(c);
    }
  }
}
