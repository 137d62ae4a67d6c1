package dev.walship.store;

/** One entry of a listing: key (relative to the store root), size in bytes, ETag. */
public record ObjectInfo(String key, long size, String etag) {}
