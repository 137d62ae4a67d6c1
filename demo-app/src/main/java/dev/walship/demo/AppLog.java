package dev.walship.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The commit log {@link MusicStoreApp} writes, read back by the demo and the bench: one entry per
 * committed transaction, in commit order.
 */
public final class AppLog {
  private AppLog() {}

  /**
   * One committed transaction.
   *
   * @param seq the app's commit number, from 1
   * @param kind {@code invoice}, {@code customer} or {@code row}
   * @param invoiceId the new InvoiceId (invoice), else 0
   * @param customerId the customer billed or updated, else 0
   * @param lines InvoiceLines written (invoice), else 0
   * @param totalCents the invoice total in cents (invoice), else 0
   * @param company the Company value written (customer), else {@code -}
   * @param beforeMicros epoch microseconds just before COMMIT
   * @param afterMicros epoch microseconds just after COMMIT returned
   */
  public record Entry(long seq, String kind, long invoiceId, int customerId, int lines,
      long totalCents, String company, long beforeMicros, long afterMicros) {}

  /**
   * Reads a whole log.
   *
   * @throws IllegalStateException if a line is malformed or the sequence has a gap
   */
  public static List<Entry> read(Path file) {
    List<Entry> out = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String[] f = line.split("\t", -1);
        if (f.length != 9) {
          throw new IllegalStateException(file + ": malformed line " + (out.size() + 1) + ": " + line);
        }
        Entry e = new Entry(Long.parseLong(f[0]), f[1], Long.parseLong(f[2]), Integer.parseInt(f[3]),
            Integer.parseInt(f[4]), Long.parseLong(f[5]), f[6], Long.parseLong(f[7]),
            Long.parseLong(f[8]));
        if (e.seq() != out.size() + 1) {
          throw new IllegalStateException(file + ": commit " + e.seq() + " follows " + out.size());
        }
        out.add(e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read app log " + file, e);
    }
    return out;
  }

  /** Copies the bundled Chinook database (4 KiB pages, rollback journal) to {@code out}. */
  public static void copyChinook(Path out) {
    try (InputStream in = AppLog.class.getResourceAsStream("chinook.sqlite")) {
      if (in == null) {
        throw new IllegalStateException("chinook.sqlite is missing from the classpath");
      }
      Files.createDirectories(out.toAbsolutePath().getParent());
      Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the Chinook database to " + out, e);
    }
  }
}
