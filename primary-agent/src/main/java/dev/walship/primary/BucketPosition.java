package dev.walship.primary;

/**
 * Where the lineage stands: the last TXID it holds and the database checksum at that TXID.
 *
 * @param lastTxid last TXID (0 for a lineage with nothing yet)
 * @param checksum database checksum at {@code lastTxid} (meaningless when {@link #empty()})
 * @param empty true if the lineage holds nothing: the next upload must be a snapshot at TXID 1
 */
public record BucketPosition(long lastTxid, long checksum, boolean empty) {
  public static BucketPosition nothing() {
    return new BucketPosition(0, 0, true);
  }

  public static BucketPosition at(long lastTxid, long checksum) {
    return new BucketPosition(lastTxid, checksum, false);
  }
}
