package dev.walship.format;

/**
 * A full page image as written by one commit.
 *
 * @param pageNumber SQLite page number, 1-based
 * @param txid the TXID of the commit that wrote this image
 * @param data exactly page-size bytes (not copied; callers must not mutate)
 */
public record PageVersion(long pageNumber, long txid, byte[] data) {}
