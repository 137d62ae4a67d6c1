package dev.walship.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code walship} command line: the single entry point behind the {@code ./walship} launcher.
 *
 * <p>Each agent or tool is a picocli subcommand. {@link #main} is the only place in walship that
 * calls {@link System#exit}.
 */
@Command(
    name = "walship",
    mixinStandardHelpOptions = true,
    versionProvider = Walship.Version.class,
    description = {
      "Continuous replication of SQLite databases to object storage:",
      "live read replicas, point-in-time restore and branching."
    },
    subcommands = {
      CommandLine.HelpCommand.class,
      PrimaryCommand.class,
      ReplicaCommand.class,
      RestoreCommand.class,
      BranchCommand.class,
      LsCommand.class,
      VerifyCommand.class,
      DemoCommand.class,
      BenchCommand.class
    })
public final class Walship implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Builds the command tree; exposed for tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new Walship());
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** Reads the version Maven filtered into {@code walship-version.properties}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      Properties p = new Properties();
      try (InputStream in = Walship.class.getResourceAsStream("/walship-version.properties")) {
        if (in != null) {
          p.load(in);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read walship-version.properties", e);
      }
      return new String[] {
        "walship " + p.getProperty("version", "unknown"),
        "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
      };
    }
  }
}
