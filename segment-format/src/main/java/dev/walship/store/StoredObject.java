package dev.walship.store;

/** An object's bytes and the ETag they were read at. */
public record StoredObject(byte[] data, String etag) {}
