package dev.walship.primary;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * The "application" of the end-to-end tests: a separate JVM that writes its SQLite database with
 * sqlite-jdbc and knows nothing about walship. It reads one command per line on stdin and answers
 * {@code ok [result]} or {@code error message} per line:
 *
 * <pre>
 * sql STATEMENT          run one statement (autocommit)
 * query STATEMENT        print the first column of the first row
 * insert N SIZE          N one-row transactions into t(v) with SIZE random bytes each
 * bigtx MB               one transaction inserting MB rows of 1 MiB
 * locked-inserts N SIZE  N one-row transactions, each begun with BEGIN IMMEDIATE right after the
 *                        previous COMMIT (as sqlite-jdbc does with transaction_mode=IMMEDIATE and
 *                        autocommit off), leaving the last BEGIN IMMEDIATE open: the app holds
 *                        SQLite's writer lock between its transactions until "sql COMMIT"
 * read-begin | read-end  open / close a long read transaction on a second connection
 * exit
 * </pre>
 *
 * Args: database path, page size for a new database (0 = SQLite's default).
 */
public final class TestApp {
  private TestApp() {}

  public static void main(String[] args) throws Exception {
    String db = args[0];
    int pageSize = Integer.parseInt(args[1]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout=20000");
      if (pageSize > 0) {
        s.execute("PRAGMA page_size=" + pageSize);
      }
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=NORMAL");
      Connection reader = null;
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        String[] w = line.split(" ", 2);
        String rest = w.length > 1 ? w[1] : "";
        try {
          String result = "";
          switch (w[0]) {
            case "sql" -> s.execute(rest);
            case "query" -> {
              try (ResultSet rs = s.executeQuery(rest)) {
                result = rs.next() ? String.valueOf(rs.getObject(1)) : "";
              }
            }
            case "insert" -> {
              String[] a = rest.split(" ");
              int n = Integer.parseInt(a[0]);
              int size = Integer.parseInt(a[1]);
              for (int i = 0; i < n; i++) {
                s.execute("INSERT INTO t(v) VALUES (randomblob(" + size + "))");
              }
            }
            case "locked-inserts" -> {
              String[] a = rest.split(" ");
              int n = Integer.parseInt(a[0]);
              int size = Integer.parseInt(a[1]);
              s.execute("BEGIN IMMEDIATE");
              for (int i = 0; i < n; i++) {
                s.execute("INSERT INTO t(v) VALUES (randomblob(" + size + "))");
                s.execute("COMMIT");
                s.execute("BEGIN IMMEDIATE");
              }
            }
            case "bigtx" -> {
              int mb = Integer.parseInt(rest);
              s.execute("BEGIN");
              for (int i = 0; i < mb; i++) {
                s.execute("INSERT INTO t(v) VALUES (randomblob(1048576))");
              }
              s.execute("COMMIT");
            }
            case "read-begin" -> {
              reader = DriverManager.getConnection("jdbc:sqlite:" + db);
              try (Statement r = reader.createStatement()) {
                r.execute("BEGIN");
                try (ResultSet rs = r.executeQuery("SELECT count(*) FROM sqlite_master")) {
                  rs.next();
                }
              }
            }
            case "read-end" -> {
              try (Statement r = reader.createStatement()) {
                r.execute("COMMIT");
              }
              reader.close();
              reader = null;
            }
            case "exit" -> {
              out.println("ok");
              return;
            }
            default -> throw new IllegalArgumentException("unknown command " + w[0]);
          }
          out.println("ok " + result);
        } catch (Exception e) {
          out.println("error " + String.valueOf(e.getMessage()).replace('\n', ' '));
        }
      }
    }
  }
}
