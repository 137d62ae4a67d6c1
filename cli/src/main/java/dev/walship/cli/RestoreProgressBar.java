package dev.walship.cli;

import dev.walship.restore.RestorePlan;
import dev.walship.restore.RestoreProgress;
import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Restore progress for people: a progress bar (bytes, objects, rate, ETA) on a terminal, or one
 * plain log line at most every two seconds otherwise. Thread-safe.
 */
final class RestoreProgressBar implements RestoreProgress {
  private final boolean terminal;
  private final PrintWriter log;
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicInteger objects = new AtomicInteger();
  private volatile long totalBytes;
  private volatile int totalObjects;
  private volatile long lastLogNanos;
  private volatile long appliedTxid;
  private ProgressBar bar;

  RestoreProgressBar(boolean terminal, PrintWriter log) {
    this.terminal = terminal;
    this.log = log;
  }

  @Override
  public synchronized void started(RestorePlan plan) {
    totalBytes = plan.totalBytes();
    totalObjects = plan.objects().size();
    if (terminal) {
      bar = new ProgressBarBuilder()
          .setTaskName("restore")
          .setInitialMax(Math.max(1, totalBytes))
          .setUnit(" MiB", 1 << 20)
          .showSpeed()
          .setStyle(ProgressBarStyle.ASCII)
          .build();
      bar.setExtraMessage(" 0/" + totalObjects + " objects");
    } else {
      log.printf("restore: %d objects, %.1f MiB to download%n", totalObjects, totalBytes / 1048576.0);
      log.flush();
    }
  }

  @Override
  public void downloaded(String key, long size) {
    long b = bytes.addAndGet(size);
    int n = objects.incrementAndGet();
    ProgressBar pb = bar;
    if (pb != null) {
      pb.stepTo(b);
      pb.setExtraMessage(" " + n + "/" + totalObjects + " objects");
    } else {
      long now = System.nanoTime();
      if (now - lastLogNanos > 2_000_000_000L || n == totalObjects) {
        lastLogNanos = now;
        synchronized (log) {
          log.printf("restore: downloaded %d/%d objects, %.1f/%.1f MiB, applied up to TXID %d%n",
              n, totalObjects, b / 1048576.0, totalBytes / 1048576.0, appliedTxid);
          log.flush();
        }
      }
    }
  }

  @Override
  public void applied(long txid) {
    appliedTxid = txid;
  }

  @Override
  public synchronized void finished() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }
}
