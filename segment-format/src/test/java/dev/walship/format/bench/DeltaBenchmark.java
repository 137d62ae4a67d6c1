package dev.walship.format.bench;

import dev.walship.format.BenchAccess;
import dev.walship.format.CommitRecord;
import dev.walship.format.SegmentReader;
import dev.walship.format.SegmentWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Delta entries (format v2) against whole images (v1), in the same run: a level-0 segment of
 * {@value #COMMITS} one-page commits of 4 KiB pages, built by SegmentWriter as the primary does
 * and read back as a replica or restore does.
 *
 * <p>Workloads: {@code APPEND}, a table leaf receiving one {@value #ROW}-byte random row per commit
 * (a new leaf when full: what a 1-row INSERT with increasing rowids writes); {@code REWRITE}, a
 * random one of 64 pages replaced by a new page of random rows (where a delta cannot help, so it
 * shows what trying one costs). One op = one commit (page image + commit record), so ops/s times 4
 * KiB is the page data rate. The stored bytes per commit are printed at setup.
 *
 * <p>Run: {@code segment-format/bench.sh -f 1 -wi 3 -i 5 DeltaBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class DeltaBenchmark {
  static final int PAGE_SIZE = 4096;
  static final int COMMITS = 1000;
  static final int ROW = 100;

  public enum Workload {
    APPEND,
    REWRITE
  }

  @Param({"APPEND", "REWRITE"})
  public Workload workload;

  @Param({"true", "false"})
  public boolean deltas;

  long[] pageNumbers = new long[COMMITS];
  byte[][] images = new byte[COMMITS][];
  byte[] segment;
  byte[] page = new byte[PAGE_SIZE];
  Path dir;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    dir = Files.createTempDirectory("walship-delta-bench");
    Random r = new Random(7);
    if (workload == Workload.APPEND) {
      byte[] leaf = emptyLeaf();
      long pageNumber = 2;
      for (int c = 0; c < COMMITS; c++) {
        if (!appendRow(leaf, r)) {
          leaf = emptyLeaf();
          pageNumber++;
          appendRow(leaf, r);
        }
        pageNumbers[c] = pageNumber;
        images[c] = leaf.clone();
      }
    } else {
      for (int c = 0; c < COMMITS; c++) {
        byte[] p = emptyLeaf();
        while (appendRow(p, r)) {
          // fill with random rows
        }
        pageNumbers[c] = 2 + r.nextInt(64);
        images[c] = p;
      }
    }
    segment = write();
    try (SegmentReader reader = SegmentReader.open(segment, "bench")) {
      int deltaEntries = 0;
      for (int i = 0; i < reader.pageCount(); i++) {
        deltaEntries += reader.isDelta(i) ? 1 : 0;
      }
      System.err.printf(
          "%n%s deltas=%s: %d commits -> %d bytes, %.1f bytes per commit, v%d, %d delta entries%n",
          workload,
          deltas,
          COMMITS,
          segment.length,
          segment.length / (double) COMMITS,
          reader.formatVersion(),
          deltaEntries);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    Files.deleteIfExists(dir);
  }

  static byte[] emptyLeaf() {
    byte[] p = new byte[PAGE_SIZE];
    p[0] = 0x0D;
    p[5] = (byte) (PAGE_SIZE >>> 8);
    p[6] = (byte) PAGE_SIZE;
    return p;
  }

  /** Appends a random row as SQLite does (cell below the content area, pointer, header); false if full. */
  static boolean appendRow(byte[] p, Random r) {
    int cells = ((p[3] & 0xFF) << 8) | (p[4] & 0xFF);
    int content = ((p[5] & 0xFF) << 8) | (p[6] & 0xFF);
    if (content == 0) {
      content = 65536;
    }
    int at = content - ROW;
    if (at < 8 + 2 * (cells + 1)) {
      return false;
    }
    byte[] row = new byte[ROW];
    r.nextBytes(row);
    System.arraycopy(row, 0, p, at, ROW);
    p[8 + 2 * cells] = (byte) (at >>> 8);
    p[9 + 2 * cells] = (byte) at;
    cells++;
    p[3] = (byte) (cells >>> 8);
    p[4] = (byte) cells;
    p[5] = (byte) (at >>> 8);
    p[6] = (byte) at;
    return true;
  }

  byte[] write() {
    try (SegmentWriter w = BenchAccess.incrementalLz4(PAGE_SIZE, 1, dir, deltas)) {
      for (int c = 0; c < COMMITS; c++) {
        w.addPage(pageNumbers[c], c + 1, images[c], 0);
        w.addCommit(new CommitRecord(c + 1, 1_700_000_000_000L + c, 70, c));
      }
      return w.finish();
    }
  }

  /** The primary's path: every commit through SegmentWriter, then the finished segment. */
  @Benchmark
  @OperationsPerInvocation(COMMITS)
  public byte[] writer() {
    return write();
  }

  /** Open (every structural check and CRC32C) and decode every image in index order. */
  @Benchmark
  @OperationsPerInvocation(COMMITS)
  public void readAll(Blackhole bh) {
    try (SegmentReader r = SegmentReader.open(segment, "bench")) {
      for (int i = 0, n = r.pageCount(); i < n; i++) {
        r.readPage(i, page, 0);
        bh.consume(page);
      }
    }
  }

  /** A replica's apply: open, verify every page, then decode the newest image of each page. */
  @Benchmark
  @OperationsPerInvocation(COMMITS)
  public void applyNewest(Blackhole bh) {
    try (SegmentReader r = SegmentReader.open(segment, "bench")) {
      r.verifyPages();
      for (int i : r.imagesToApply(r.firstTxid() - 1, r.lastTxid())) {
        r.readPage(i, page, 0);
        bh.consume(page);
      }
    }
  }
}
