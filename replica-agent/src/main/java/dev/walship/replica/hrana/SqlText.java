package dev.walship.replica.hrana;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A lexical view of one SQL text, enough for a read-only replica to decide what a statement is
 * before SQLite sees it: statement boundaries, leading keywords and parameter names.
 *
 * <p>The tokenizer follows SQLite's lexical rules (https://sqlite.org/lang_expr.html and
 * tokenize.c): string literals {@code '...'}, quoted identifiers {@code "..."}, {@code `...`} and
 * {@code [...]}, comments {@code --} and {@code /* *}{@code /}, parameters {@code ?}, {@code ?NNN},
 * {@code :AAA}, {@code @AAA}, {@code $AAA}. It never executes anything. The connection itself is
 * opened read-only with {@code PRAGMA query_only=1} as the backstop: the guard exists so a write
 * is refused with a clear Hrana error instead of reaching SQLite at all.
 *
 * <p>Immutable and thread-safe.
 */
public final class SqlText {

  /** What a single statement does, as far as the replica cares. */
  public enum Kind {
    /** SELECT, VALUES, WITH ... SELECT, EXPLAIN, read-only PRAGMA. */
    READ,
    /** BEGIN, BEGIN DEFERRED, BEGIN TRANSACTION READONLY (libSQL): a read transaction. */
    BEGIN,
    /** COMMIT or END. */
    COMMIT,
    /** ROLLBACK (not ROLLBACK TO). */
    ROLLBACK,
    /** SAVEPOINT name: opens a transaction when none is open. */
    SAVEPOINT,
    /** RELEASE name or ROLLBACK TO name. */
    RELEASE,
    /** Nothing but whitespace and comments. */
    EMPTY
  }

  private static final Set<String> WRITE_KEYWORDS =
      Set.of(
          "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "VACUUM", "REINDEX",
          "ANALYZE", "UPSERT");

  /**
   * Pragmas that only read. Anything else, and any pragma with {@code =}, is refused: a replica
   * must never change its file, and connection-level settings are the server's business.
   */
  private static final Set<String> READ_PRAGMAS =
      Set.of(
          "application_id", "collation_list", "compile_options", "data_version", "database_list",
          "encoding", "foreign_key_check", "foreign_key_list", "foreign_keys", "freelist_count",
          "function_list", "index_info", "index_list", "index_xinfo", "integrity_check",
          "journal_mode", "module_list", "page_count", "page_size", "pragma_list", "quick_check",
          "schema_version", "table_info", "table_list", "table_xinfo", "user_version",
          "auto_vacuum", "cache_size", "max_page_count", "query_only", "busy_timeout");

  /** Pragmas whose parenthesised argument is a table or index name to read, not a new value. */
  private static final Set<String> PRAGMAS_WITH_NAME_ARGUMENT =
      Set.of(
          "table_info", "table_xinfo", "table_list", "index_info", "index_xinfo", "index_list",
          "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check");

  private final String sql;
  private final List<Statement> statements;

  private SqlText(String sql, List<Statement> statements) {
    this.sql = sql;
    this.statements = statements;
  }

  /** Tokenizes {@code sql}; never throws for odd input (unterminated literals end the text). */
  public static SqlText parse(String sql) {
    return new SqlText(sql, split(sql));
  }

  public String sql() {
    return sql;
  }

  /** The non-empty statements, in order. */
  public List<Statement> statements() {
    return statements;
  }

  /**
   * One statement of a text: its own source, tokens and parameters.
   *
   * @param sql the statement's source, without the terminating semicolon
   * @param tokens keyword and identifier tokens, upper-cased, plus punctuation needed by the guard
   *     (literals and parameters are left out)
   * @param parameters parameter names by SQLite index (index 1 at position 0); {@code null} for an
   *     anonymous {@code ?} or a gap
   */
  public record Statement(String sql, List<String> tokens, List<String> parameters) {

    /**
     * Classifies the statement or refuses it.
     *
     * @throws HranaException code {@code SQLITE_READONLY} for a write or a writable pragma, {@code
     *     SQLITE_AUTH} for ATTACH, DETACH and load_extension
     */
    public Kind classify() {
      if (tokens.isEmpty()) {
        return Kind.EMPTY;
      }
      for (int i = 0; i < tokens.size(); i++) {
        String t = tokens.get(i);
        if (t.equals("LOAD_EXTENSION")) {
          throw new HranaException(
              "SQLITE_AUTH", "load_extension is not allowed on a walship read replica");
        }
      }
      String first = tokens.get(0);
      switch (first) {
        case "SELECT", "VALUES" -> {
          return Kind.READ;
        }
        case "EXPLAIN" -> {
          return Kind.READ;
        }
        case "WITH" -> {
          for (int i = 1; i < tokens.size(); i++) {
            String t = tokens.get(i);
            boolean functionCall = i + 1 < tokens.size() && tokens.get(i + 1).equals("(");
            if (WRITE_KEYWORDS.contains(t) && !functionCall) {
              throw readOnly(t);
            }
          }
          return Kind.READ;
        }
        case "PRAGMA" -> {
          return classifyPragma();
        }
        case "BEGIN" -> {
          for (int i = 1; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (t.equals("IMMEDIATE") || t.equals("EXCLUSIVE")) {
              throw new HranaException(
                  "SQLITE_READONLY",
                  "BEGIN " + t + " opens a write transaction; a walship read replica only"
                      + " allows read transactions (BEGIN, BEGIN DEFERRED, BEGIN TRANSACTION"
                      + " READONLY)");
            }
          }
          return Kind.BEGIN;
        }
        case "COMMIT", "END" -> {
          return Kind.COMMIT;
        }
        case "ROLLBACK" -> {
          return tokens.contains("TO") ? Kind.RELEASE : Kind.ROLLBACK;
        }
        case "SAVEPOINT" -> {
          return Kind.SAVEPOINT;
        }
        case "RELEASE" -> {
          return Kind.RELEASE;
        }
        case "ATTACH", "DETACH" -> throw new HranaException(
            "SQLITE_AUTH", first + " is not allowed on a walship read replica");
        default -> throw readOnly(first);
      }
    }

    private Kind classifyPragma() {
      if (tokens.size() < 2) {
        throw new HranaException("SQLITE_READONLY", "incomplete PRAGMA");
      }
      int nameAt = 1;
      if (tokens.size() > 3 && tokens.get(2).equals(".")) {
        nameAt = 3; // PRAGMA schema.name
      }
      String name = tokens.get(nameAt).toLowerCase(Locale.ROOT);
      boolean assigns = tokens.contains("=");
      boolean hasArgument = tokens.size() > nameAt + 1 && tokens.get(nameAt + 1).equals("(");
      if (!READ_PRAGMAS.contains(name)
          || assigns
          || (hasArgument && !PRAGMAS_WITH_NAME_ARGUMENT.contains(name))) {
        throw new HranaException(
            "SQLITE_READONLY",
            "PRAGMA "
                + name
                + (assigns || hasArgument ? " with a value" : "")
                + " is not allowed on a walship read replica (only read-only pragmas are)");
      }
      // A name argument is still parsed: "PRAGMA table_info(x)" is a read.
      return Kind.READ;
    }

    private static HranaException readOnly(String keyword) {
      return new HranaException(
          "SQLITE_READONLY",
          "attempt to write a readonly database: "
              + keyword
              + " is refused by the walship read replica (writes go to the primary)");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Tokenizer

  private static List<Statement> split(String sql) {
    List<Statement> out = new ArrayList<>();
    int n = sql.length();
    int start = 0;
    List<String> tokens = new ArrayList<>();
    ParameterTable params = new ParameterTable();
    int depthBeginEnd = 0; // CREATE TRIGGER ... BEGIN ... END; keeps inner semicolons
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        while (i < n && sql.charAt(i) != '\n') {
          i++;
        }
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if (c == '\'') {
        i = skipQuoted(sql, i, '\'');
        tokens.add("'");
      } else if (c == '"' || c == '`') {
        int end = skipQuoted(sql, i, c);
        tokens.add("\"" + sql.substring(i + 1, Math.max(i + 1, end - 1)));
        i = end;
      } else if (c == '[') {
        int end = sql.indexOf(']', i + 1);
        end = end < 0 ? n : end + 1;
        tokens.add("\"" + sql.substring(i + 1, Math.max(i + 1, end - 1)));
        i = end;
      } else if (c == '?') {
        int j = i + 1;
        while (j < n && Character.isDigit(sql.charAt(j))) {
          j++;
        }
        if (j == i + 1) {
          params.anonymous();
        } else {
          params.numbered(sql.substring(i, j));
        }
        i = j;
      } else if ((c == ':' || c == '@' || c == '$') && i + 1 < n && isIdentPart(sql.charAt(i + 1))) {
        int j = i + 1;
        while (j < n && (isIdentPart(sql.charAt(j)) || (c == '$' && sql.charAt(j) == ':'))) {
          j++;
        }
        params.named(sql.substring(i, j));
        i = j;
      } else if (isIdentStart(c)) {
        int j = i + 1;
        while (j < n && isIdentPart(sql.charAt(j))) {
          j++;
        }
        String word = sql.substring(i, j).toUpperCase(Locale.ROOT);
        // x'..' blob literal
        if ((word.equals("X")) && j < n && sql.charAt(j) == '\'') {
          j = skipQuoted(sql, j, '\'');
          tokens.add("'");
        } else {
          if (word.equals("BEGIN") && !tokens.isEmpty() && tokens.contains("TRIGGER")) {
            depthBeginEnd++;
          } else if (word.equals("END") && depthBeginEnd > 0) {
            depthBeginEnd--;
          }
          tokens.add(word);
        }
        i = j;
      } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(sql.charAt(i + 1)))) {
        int j = i + 1;
        while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '.')) {
          j++;
        }
        i = j;
      } else if (c == ';' && depthBeginEnd == 0) {
        if (!tokens.isEmpty()) {
          out.add(new Statement(sql.substring(start, i), List.copyOf(tokens), params.names()));
        }
        tokens = new ArrayList<>();
        params = new ParameterTable();
        i++;
        start = i;
      } else {
        if (c == '(' || c == ')' || c == '=' || c == '.' || c == ',') {
          tokens.add(String.valueOf(c));
        }
        i++;
      }
    }
    if (!tokens.isEmpty()) {
      out.add(new Statement(sql.substring(start), List.copyOf(tokens), params.names()));
    }
    return List.copyOf(out);
  }

  private static int skipQuoted(String sql, int at, char quote) {
    int i = at + 1;
    int n = sql.length();
    while (i < n) {
      if (sql.charAt(i) == quote) {
        if (i + 1 < n && sql.charAt(i + 1) == quote) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      i++;
    }
    return n;
  }

  private static boolean isIdentStart(char c) {
    return Character.isLetter(c) || c == '_' || c > 127;
  }

  private static boolean isIdentPart(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$' || c > 127;
  }

  /** SQLite's parameter numbering (sqlite3_bind_parameter_index rules). */
  private static final class ParameterTable {
    private final Map<String, Integer> byName = new HashMap<>();
    private final List<String> names = new ArrayList<>();

    void anonymous() {
      names.add(null);
    }

    void numbered(String token) {
      int index;
      try {
        index = Integer.parseInt(token.substring(1));
      } catch (NumberFormatException e) {
        return;
      }
      if (index < 1 || index > 32766) {
        return;
      }
      while (names.size() < index) {
        names.add(null);
      }
      if (names.get(index - 1) == null) {
        names.set(index - 1, token);
      }
      byName.putIfAbsent(token, index);
    }

    void named(String token) {
      if (byName.containsKey(token)) {
        return;
      }
      names.add(token);
      byName.put(token, names.size());
    }

    List<String> names() {
      return java.util.Collections.unmodifiableList(new ArrayList<>(names));
    }
  }
}
