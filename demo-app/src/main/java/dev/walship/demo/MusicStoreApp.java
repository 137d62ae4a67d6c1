package dev.walship.demo;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The demo's application: an ordinary SQLite program with no walship code in it, run as its own
 * process beside the primary agent. It commits transactions at a steady rate (or as fast as it
 * can) until its standard input reaches end-of-file or a line {@code stop} (so it also stops when
 * its parent dies), or until {@code --duration} passes.
 *
 * <p>Workloads:
 *
 * <ul>
 *   <li>{@code sell} (Chinook): three transactions in four sell music — a new {@code Invoice} for a
 *       random customer with one to five {@code InvoiceLine}s of random tracks, its {@code Total}
 *       the sum of the lines, all in one transaction; the fourth updates a customer's {@code
 *       Company} to a value naming the transaction.
 *   <li>{@code rows}: one 100-byte row inserted per transaction into {@code bench_rows} (created if
 *       missing), for throughput measurements.
 * </ul>
 *
 * <p>Write transactions start with {@code BEGIN IMMEDIATE} and the connection waits up to 5 s for
 * locks ({@code busy_timeout}), as a well-behaved SQLite writer does: a deferred transaction that
 * read first could not wait for the write lock and would fail with SQLITE_BUSY instead.
 *
 * <p>Every committed transaction is appended to the log file as one tab-separated line, in commit
 * order: {@code seq kind invoiceId customerId lines totalCents company beforeMicros afterMicros},
 * where {@code seq} counts this process's commits from 1, {@code kind} is {@code invoice}, {@code
 * customer} or {@code row}, and the two times are epoch microseconds read just before {@code
 * COMMIT} and just after it returned. A transaction that failed is rolled back, counted, reported
 * on stderr and not logged. Standard output gets {@code ready} once the database is open and a
 * final {@code done commits=N errors=E seconds=S}. Exit code 0 unless the database could not be
 * used at all.
 *
 * <p>Usage: {@code MusicStoreApp --db PATH --log PATH [--workload sell|rows] [--rate PER_SECOND
 * (0 = as fast as possible)] [--duration SECONDS] [--synchronous NORMAL|FULL] [--seed N]
 * [--until-killed]}; {@code --until-killed} ignores standard input and stops on SIGTERM (for a
 * container).
 */
public final class MusicStoreApp {
  private final Connection db;
  private final BufferedWriter log;
  private final Random random;
  private int customers;
  private int tracks;
  private long seq;
  private long errors;

  private MusicStoreApp(Connection db, BufferedWriter log, long seed) {
    this.db = db;
    this.log = log;
    this.random = new Random(seed);
  }

  public static void main(String[] args) throws Exception {
    Path dbPath = null;
    Path logPath = null;
    String workload = "sell";
    double rate = 20;
    double duration = 0;
    String synchronous = "NORMAL";
    long seed = System.nanoTime();
    boolean untilKilled = false;
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--db" -> dbPath = Path.of(v);
        case "--log" -> logPath = Path.of(v);
        case "--workload" -> workload = v;
        case "--rate" -> rate = Double.parseDouble(v);
        case "--duration" -> duration = Double.parseDouble(v);
        case "--synchronous" -> synchronous = v;
        case "--seed" -> seed = Long.parseLong(v);
        case "--until-killed" -> {
          untilKilled = true;
          i--;
        }
        default -> {
          System.err.println("MusicStoreApp: unknown argument " + args[i]);
          System.exit(2);
        }
      }
      i++;
    }
    if (dbPath == null || logPath == null || !List.of("sell", "rows").contains(workload)
        || !List.of("NORMAL", "FULL", "OFF").contains(synchronous)) {
      System.err.println("usage: MusicStoreApp --db PATH --log PATH [--workload sell|rows]"
          + " [--rate N] [--duration S] [--synchronous NORMAL|FULL|OFF] [--seed N] [--until-killed]");
      System.exit(2);
    }
    if (untilKilled) {
      // A container: no stdin to watch; SIGTERM stops after the current transaction.
      Thread main = Thread.currentThread();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        stop = true;
        try {
          main.join(3000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "stop-on-sigterm"));
    } else {
      Thread stdinWatcher = new Thread(MusicStoreApp::watchStdin, "stdin-watcher");
      stdinWatcher.setDaemon(true);
      stdinWatcher.start();
    }
    try (Connection c = DriverManager.getConnection(
            "jdbc:sqlite:" + dbPath + "?transaction_mode=IMMEDIATE");
        BufferedWriter w = Files.newBufferedWriter(logPath, StandardCharsets.UTF_8)) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA busy_timeout=5000");
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=" + synchronous);
      }
      c.setAutoCommit(false);
      MusicStoreApp app = new MusicStoreApp(c, w, seed);
      app.prepare(workload);
      System.out.println("ready");
      System.out.flush();
      long start = System.nanoTime();
      long deadline = duration > 0 ? start + (long) (duration * 1e9) : Long.MAX_VALUE;
      long periodNanos = rate > 0 ? (long) (1e9 / rate) : 0;
      long next = start;
      long lastFlush = start;
      while (!stop && System.nanoTime() < deadline) {
        if (periodNanos > 0) {
          long wait = next - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(50)));
            continue;
          }
          next += periodNanos;
        }
        if (workload.equals("rows")) {
          app.insertRow();
        } else if (app.random.nextInt(4) == 3) {
          app.updateCustomer();
        } else {
          app.sellInvoice();
        }
        long now = System.nanoTime();
        if (now - lastFlush > TimeUnit.MILLISECONDS.toNanos(200)) {
          w.flush();
          lastFlush = now;
        }
      }
      w.flush();
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf("done commits=%d errors=%d seconds=%.3f%n", app.seq, app.errors, seconds);
      System.out.flush();
    }
  }

  private static volatile boolean stop;

  private static void watchStdin() {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.trim().equals("stop")) {
          break;
        }
      }
    } catch (IOException e) {
      // The parent is gone: stop as on end-of-file.
    }
    stop = true;
  }

  private void prepare(String workload) throws SQLException {
    try (Statement s = db.createStatement()) {
      if (workload.equals("rows")) {
        s.execute("CREATE TABLE IF NOT EXISTS bench_rows(id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
      } else {
        customers = count(s, "SELECT MAX(CustomerId) FROM Customer");
        tracks = count(s, "SELECT MAX(TrackId) FROM Track");
      }
    }
    db.commit();
  }

  private static int count(Statement s, String sql) throws SQLException {
    try (ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getInt(1);
    }
  }

  private void sellInvoice() throws IOException {
    int customer = 1 + random.nextInt(customers);
    int lines = 1 + random.nextInt(5);
    List<int[]> picked = new ArrayList<>();
    try {
      long invoiceId;
      long totalCents = 0;
      String[] billing = new String[5];
      try (PreparedStatement q = db.prepareStatement(
          "SELECT Address, City, State, Country, PostalCode FROM Customer WHERE CustomerId = ?")) {
        q.setInt(1, customer);
        try (ResultSet r = q.executeQuery()) {
          r.next();
          for (int i = 0; i < 5; i++) {
            billing[i] = r.getString(i + 1);
          }
        }
      }
      try (PreparedStatement q = db.prepareStatement("SELECT UnitPrice FROM Track WHERE TrackId = ?")) {
        for (int i = 0; i < lines; i++) {
          int track = 1 + random.nextInt(tracks);
          q.setInt(1, track);
          try (ResultSet r = q.executeQuery()) {
            r.next();
            int cents = (int) Math.round(r.getDouble(1) * 100);
            picked.add(new int[] {track, cents});
            totalCents += cents;
          }
        }
      }
      try (PreparedStatement ins = db.prepareStatement(
          "INSERT INTO Invoice (CustomerId, InvoiceDate, BillingAddress, BillingCity, BillingState,"
              + " BillingCountry, BillingPostalCode, Total) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        ins.setInt(1, customer);
        ins.setString(2, Instant.now().toString().replace('T', ' ').substring(0, 19));
        for (int i = 0; i < 5; i++) {
          ins.setString(3 + i, billing[i]);
        }
        ins.setDouble(8, totalCents / 100.0);
        ins.executeUpdate();
      }
      try (Statement s = db.createStatement();
          ResultSet r = s.executeQuery("SELECT last_insert_rowid()")) {
        r.next();
        invoiceId = r.getLong(1);
      }
      try (PreparedStatement ins = db.prepareStatement(
          "INSERT INTO InvoiceLine (InvoiceId, TrackId, UnitPrice, Quantity) VALUES (?, ?, ?, 1)")) {
        for (int[] p : picked) {
          ins.setLong(1, invoiceId);
          ins.setInt(2, p[0]);
          ins.setDouble(3, p[1] / 100.0);
          ins.addBatch();
        }
        ins.executeBatch();
      }
      commit("invoice", invoiceId, customer, lines, totalCents, "-");
    } catch (SQLException e) {
      failed(e);
    }
  }

  private void updateCustomer() throws IOException {
    int customer = 1 + random.nextInt(customers);
    String company = "walship demo #" + (seq + 1);
    try (PreparedStatement u = db.prepareStatement("UPDATE Customer SET Company = ? WHERE CustomerId = ?")) {
      u.setString(1, company);
      u.setInt(2, customer);
      u.executeUpdate();
      commit("customer", 0, customer, 0, 0, company);
    } catch (SQLException e) {
      failed(e);
    }
  }

  private final byte[] row = new byte[100];

  private void insertRow() throws IOException {
    random.nextBytes(row);
    try (PreparedStatement ins = db.prepareStatement("INSERT INTO bench_rows(v) VALUES (?)")) {
      ins.setBytes(1, row);
      ins.executeUpdate();
      commit("row", 0, 0, 0, 0, "-");
    } catch (SQLException e) {
      failed(e);
    }
  }

  private void commit(String kind, long invoiceId, int customer, int lines, long totalCents,
      String company) throws SQLException, IOException {
    long before = epochMicros();
    db.commit();
    long after = epochMicros();
    seq++;
    log.write(seq + "\t" + kind + "\t" + invoiceId + "\t" + customer + "\t" + lines + "\t"
        + totalCents + "\t" + company + "\t" + before + "\t" + after + "\n");
  }

  private void failed(SQLException e) {
    errors++;
    System.err.println("MusicStoreApp: transaction " + (seq + 1) + " rolled back: " + e.getMessage());
    try {
      db.rollback();
    } catch (SQLException r) {
      throw new IllegalStateException("rollback failed after " + e.getMessage(), r);
    }
  }

  private static long epochMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

}
