package dev.walship.restore;

import dev.walship.format.CorruptSegmentException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The body of one object read front to back for {@link PageApplier#applyStreamedSnapshot}: exact
 * reads that name the key, a premature end as {@link CorruptSegmentException}, a broken body (an
 * {@link IOException} from the store's stream) as {@link BrokenBodyException}. Nothing is retried
 * here: {@link PageApplier#applyStreamedSnapshot} reads the object again from its first byte once.
 *
 * <p>Single consumer; not thread-safe. Closing closes the underlying stream.
 */
final class SnapshotBodyStream implements AutoCloseable {
  private final String key;
  private final InputStream in;
  private long consumed;

  SnapshotBodyStream(String key, InputStream in) {
    this.key = key;
    this.in = in;
  }

  /** Bytes handed to the consumer so far. */
  long position() {
    return consumed;
  }

  /** Reads exactly {@code len} bytes or throws a CorruptSegmentException naming the key. */
  void readFully(byte[] dest, int off, int len) {
    int done = 0;
    while (done < len) {
      int n = read(dest, off + done, len - done);
      if (n < 0) {
        throw new CorruptSegmentException(key + ": ends after " + consumed + " bytes, expected more");
      }
      done += n;
    }
  }

  /** One byte, or -1 at the end of the object. */
  int read() {
    byte[] one = new byte[1];
    int n;
    do {
      n = read(one, 0, 1);
    } while (n == 0);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  private int read(byte[] dest, int off, int len) {
    try {
      int n = in.read(dest, off, len);
      if (n > 0) {
        consumed += n;
      }
      return n;
    } catch (IOException e) {
      throw new BrokenBodyException("GET " + key + " broke after " + consumed + " bytes", e);
    }
  }

  @Override
  public void close() {
    try {
      in.close();
    } catch (IOException e) {
      // The body was read to the end or the restore already failed; nothing depends on close.
    }
  }

  /**
   * The GET body failed while being read (the store's stream threw an IOException: a reset
   * connection, a body shorter than its Content-Length): the object may be intact, so reading it
   * again can succeed. A body that ends early by its own account is a CorruptSegmentException.
   */
  static final class BrokenBodyException extends UncheckedIOException {
    private static final long serialVersionUID = 1L;

    BrokenBodyException(String message, IOException cause) {
      super(message, cause);
    }
  }
}
