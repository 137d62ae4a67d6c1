package dev.walship.format;

/** How page images are stored inside a segment, recorded per file. */
public enum Compression {
  NONE,
  /** LZ4 block format, one block per page image. */
  LZ4
}
