package dev.walship.config;

import java.nio.file.Path;

/**
 * A configuration file that cannot be used, with where and why:
 * {@code walship.yml line 7, databases[1].sync-interval: expected a duration like 1s or 250ms, got 'fast'}.
 * An {@link IllegalArgumentException} so callers that already report bad arguments report this too.
 */
public final class ConfigException extends IllegalArgumentException {
  private final Path file;
  private final int line;
  private final String field;
  private final String problem;

  /**
   * @param file the configuration file
   * @param line 1-based line, or 0 when the problem is the file as a whole
   * @param field path of the field ({@code databases[1].sync-interval}), or empty for the file
   * @param problem what is wrong, in words
   */
  public ConfigException(Path file, int line, String field, String problem, Throwable cause) {
    super(format(file, line, field, problem), cause);
    this.file = file;
    this.line = line;
    this.field = field;
    this.problem = problem;
  }

  public ConfigException(Path file, int line, String field, String problem) {
    this(file, line, field, problem, null);
  }

  private static String format(Path file, int line, String field, String problem) {
    StringBuilder sb = new StringBuilder(String.valueOf(file));
    if (line > 0) {
      sb.append(" line ").append(line);
    }
    if (field != null && !field.isEmpty()) {
      sb.append(", ").append(field);
    }
    return sb.append(": ").append(problem).toString();
  }

  public Path file() {
    return file;
  }

  public int line() {
    return line;
  }

  public String field() {
    return field;
  }

  public String problem() {
    return problem;
  }
}
