package dev.walship.primary;

import java.util.List;

/**
 * One committed SQLite transaction found in the WAL: its frames in WAL order, the last of which is
 * the commit frame. A page may appear in more than one frame; the last one wins.
 *
 * @param frames every frame of the transaction in WAL order (never empty)
 */
public record WalTransaction(List<WalFrame> frames) {

  /** The commit frame (the last frame). */
  public WalFrame commitFrame() {
    return frames.get(frames.size() - 1);
  }

  /** Database size in pages after this transaction. */
  public long dbSizePages() {
    return commitFrame().dbSizeAfterCommit();
  }
}
