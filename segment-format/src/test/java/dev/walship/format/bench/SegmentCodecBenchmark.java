package dev.walship.format.bench;

import dev.walship.format.CommitRecord;
import dev.walship.format.Compression;
import dev.walship.format.DatabaseChecksum;
import dev.walship.format.PageVersion;
import dev.walship.format.Segment;
import dev.walship.format.SegmentCodec;
import dev.walship.format.SegmentKind;
import dev.walship.format.SegmentReader;
import dev.walship.format.SegmentWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
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
 * Segment encode and decode+verify throughput, with the limits beside them in the same run: a plain
 * CRC32C and a plain copy over the same page bytes.
 *
 * <p>One operation is one MiB of page data (a 16 MiB segment of 4096 pages of 4 KiB counts as 16
 * operations), so the score in ops/s reads directly as <b>MiB/s of page data</b>. Pages look like
 * SQLite table pages (text records, zero tail) with one in ten pages random (incompressible).
 *
 * <p>Run: {@code segment-format/bench.sh} (see segment-format/README.md).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class SegmentCodecBenchmark {
  static final int PAGE_SIZE = 4096;
  static final int PAGES = 4096;
  static final int MIB = (PAGE_SIZE * PAGES) >> 20; // 16

  @Param({"NONE", "LZ4"})
  public Compression compression;

  Segment segment;
  byte[] encoded;
  byte[] flat; // the page data back to back, for the baselines
  byte[] copyTarget;
  byte[] page = new byte[PAGE_SIZE];
  Path dir;
  Path file;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    Random r = new Random(1);
    List<PageVersion> pages = new ArrayList<>(PAGES);
    flat = new byte[PAGES * PAGE_SIZE];
    long checksum = 0;
    for (int p = 1; p <= PAGES; p++) {
      byte[] data = sqliteLikePage(r);
      System.arraycopy(data, 0, flat, (p - 1) * PAGE_SIZE, PAGE_SIZE);
      pages.add(new PageVersion(p, 1, data));
      checksum ^= DatabaseChecksum.pageHash(p, data);
    }
    segment =
        new Segment(
            SegmentKind.SNAPSHOT,
            0,
            PAGE_SIZE,
            1,
            1,
            0,
            List.of(new CommitRecord(1, 1_700_000_000_000L, PAGES, checksum)),
            pages);
    encoded = SegmentCodec.encode(segment, compression);
    copyTarget = new byte[flat.length];
    dir = Files.createTempDirectory("walship-bench");
    file = dir.resolve("bench.seg");
    Files.write(file, encoded);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  static byte[] sqliteLikePage(Random r) {
    byte[] p = new byte[PAGE_SIZE];
    if (r.nextInt(10) == 0) {
      r.nextBytes(p);
      return p;
    }
    int used = PAGE_SIZE / 2 + r.nextInt(PAGE_SIZE / 3);
    int i = 8;
    while (i < used) {
      byte[] rec =
          ("id="
                  + r.nextInt(1_000_000)
                  + ";name=user"
                  + r.nextInt(5000)
                  + ";email=u"
                  + r.nextInt(99999)
                  + "@example.com;score="
                  + r.nextDouble()
                  + ";")
              .getBytes(StandardCharsets.US_ASCII);
      int n = Math.min(rec.length, used - i);
      System.arraycopy(rec, 0, p, i, n);
      i += n;
    }
    return p;
  }

  /** SegmentCodec.encode: validate, compress (LZ4) and checksum every page, in memory. */
  @Benchmark
  @OperationsPerInvocation(MIB)
  public byte[] encode() {
    return SegmentCodec.encode(segment, compression);
  }

  /** The primary's path: spool pages through SegmentWriter, then write the sorted file. */
  @Benchmark
  @OperationsPerInvocation(MIB)
  public long writerToFile() {
    try (SegmentWriter w =
        SegmentWriter.create(SegmentKind.SNAPSHOT, 0, PAGE_SIZE, 1, 0, compression, dir)) {
      for (PageVersion p : segment.pages()) {
        w.addPage(p.pageNumber(), 1, p.data(), 0);
      }
      w.addCommit(segment.commits().get(0));
      return w.finishTo(dir.resolve("written.seg"));
    }
  }

  /** Open (all structural checks, file and page CRC32Cs) and read every page, from a byte[]. */
  @Benchmark
  @OperationsPerInvocation(MIB)
  public void decodeVerify(Blackhole bh) {
    try (SegmentReader r = SegmentReader.open(encoded, "bench")) {
      for (int i = 0, n = r.pageCount(); i < n; i++) {
        r.readPage(i, page, 0);
        bh.consume(page);
      }
    }
  }

  /** The same from a file (page cache warm): read into memory up to 16 MiB, mapped beyond. */
  @Benchmark
  @OperationsPerInvocation(MIB)
  public void decodeVerifyFromFile(Blackhole bh) {
    try (SegmentReader r = SegmentReader.open(file, "bench")) {
      for (int i = 0, n = r.pageCount(); i < n; i++) {
        r.readPage(i, page, 0);
        bh.consume(page);
      }
    }
  }

  /** Limit: one CRC32C pass over the page data. */
  @Benchmark
  @OperationsPerInvocation(MIB)
  public long baselineCrc32c() {
    CRC32C c = new CRC32C();
    c.update(flat, 0, flat.length);
    return c.getValue();
  }

  /** Limit: a plain copy of the page data, page by page. */
  @Benchmark
  @OperationsPerInvocation(MIB)
  public byte[] baselineCopy() {
    for (int off = 0; off < flat.length; off += PAGE_SIZE) {
      System.arraycopy(flat, off, copyTarget, off, PAGE_SIZE);
    }
    return copyTarget;
  }

  /** For scale: the database checksum (XXH64 of every page) over the same pages. */
  @Benchmark
  @OperationsPerInvocation(MIB)
  public long databaseChecksum() {
    long c = 0;
    for (int p = 0; p < PAGES; p++) {
      c ^= DatabaseChecksum.pageHash(p + 1, flat, p * PAGE_SIZE, PAGE_SIZE);
    }
    return c;
  }
}
