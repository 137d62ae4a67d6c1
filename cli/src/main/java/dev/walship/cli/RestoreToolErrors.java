package dev.walship.cli;

import dev.walship.format.CorruptSegmentException;
import dev.walship.format.InvalidBucketObjectException;
import dev.walship.restore.Brancher;
import dev.walship.restore.ChecksumChainException;
import dev.walship.restore.DatabaseFailedException;
import dev.walship.restore.MissingHistoryException;
import dev.walship.restore.MissingObjectException;
import dev.walship.restore.NoSuchDatabaseException;
import dev.walship.restore.RestoreTargetException;
import dev.walship.restore.Restorer;
import dev.walship.store.ObjectStoreException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;

/**
 * Turns the restore tool's expected failures into one clear line on stderr and exit status 1;
 * anything else propagates (picocli prints the stack trace: a bug).
 */
final class RestoreToolErrors {
  private RestoreToolErrors() {}

  static int run(PrintWriter err, String command, Callable<Integer> body) {
    try {
      return body.call();
    } catch (RestoreTargetException | MissingObjectException | MissingHistoryException
        | CorruptSegmentException | InvalidBucketObjectException | ChecksumChainException
        | DatabaseFailedException
        | NoSuchDatabaseException | Restorer.FileAlreadyExistsWithoutForceException
        | Brancher.BranchExistsException | ObjectStoreException | IllegalArgumentException
        | IllegalStateException | UncheckedIOException e) {
      err.println("walship " + command + ": error: " + e.getMessage());
      err.flush();
      return 1;
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
