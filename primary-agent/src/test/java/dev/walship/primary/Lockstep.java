package dev.walship.primary;

import dev.walship.store.ObjectInfo;
import dev.walship.store.ObjectStore;
import dev.walship.store.StoredObject;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A deterministic scheduler for actors that share a bucket: each actor gets its own {@link
 * #store view} of one {@link ObjectStore}, and every request an actor makes runs only on its turn,
 * alone; after each request the next turn goes to an actor drawn from {@code seed}. So one seed is
 * one interleaving of the actors' requests, the same on every run (the actors' own request
 * sequences are deterministic), and {@link #log()} is the linear order in which the requests took
 * effect. Actors run on their own threads; each must call {@link #finished} when done.
 */
final class Lockstep {
  private final Random random;
  private final List<String> live = new ArrayList<>();
  private final List<String> log = new ArrayList<>();
  private String turn;

  Lockstep(long seed, List<String> actors) {
    this.random = new Random(seed);
    live.addAll(actors);
    turn = live.get(random.nextInt(live.size()));
  }

  /** The requests in the order they took effect, each as {@code "actor OP key"}. */
  synchronized List<String> log() {
    return List.copyOf(log);
  }

  /** {@code actor} makes no more requests: the others go on alone. */
  synchronized void finished(String actor) {
    live.remove(actor);
    if (actor.equals(turn)) {
      pass();
    }
  }

  /** {@code delegate} as seen by {@code actor}: every request waits for the actor's turn. */
  ObjectStore store(String actor, ObjectStore delegate) {
    return new View(actor, delegate);
  }

  private synchronized void enter(String actor) {
    while (!actor.equals(turn)) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(actor + " interrupted waiting for its turn", e);
      }
    }
  }

  private synchronized void exit(String actor, String what) {
    log.add(actor + " " + what);
    pass();
  }

  private void pass() {
    turn = live.isEmpty() ? null : live.get(random.nextInt(live.size()));
    notifyAll();
  }

  private final class View implements ObjectStore {
    private final String actor;
    private final ObjectStore d;

    View(String actor, ObjectStore delegate) {
      this.actor = actor;
      this.d = delegate;
    }

    private <T> T step(String what, Supplier<T> call) {
      enter(actor);
      try {
        return call.get();
      } finally {
        exit(actor, what);
      }
    }

    @Override
    public String put(String key, byte[] data) {
      return step("PUT " + key, () -> d.put(key, data));
    }

    @Override
    public String put(String key, Path file) {
      return step("PUT " + key, () -> d.put(key, file));
    }

    @Override
    public String putIfAbsent(String key, byte[] data) {
      return step("PUT " + key, () -> d.putIfAbsent(key, data));
    }

    @Override
    public String putIfAbsent(String key, Path file) {
      return step("PUT " + key, () -> d.putIfAbsent(key, file));
    }

    @Override
    public String putIfMatch(String key, byte[] data, String expectedEtag) {
      return step("PUT " + key, () -> d.putIfMatch(key, data, expectedEtag));
    }

    @Override
    public Optional<StoredObject> get(String key) {
      return step("GET " + key, () -> d.get(key));
    }

    @Override
    public Optional<byte[]> getRange(String key, long offset, long length) {
      return step("GET " + key, () -> d.getRange(key, offset, length));
    }

    @Override
    public boolean getToFile(String key, Path destination) {
      return step("GET " + key, () -> d.getToFile(key, destination));
    }

    @Override
    public Optional<InputStream> getStream(String key) {
      // The body is read after the turn ends; the objects never change, only disappear.
      return step("GET " + key, () -> d.getStream(key));
    }

    @Override
    public Optional<ObjectInfo> head(String key) {
      return step("HEAD " + key, () -> d.head(key));
    }

    @Override
    public List<ObjectInfo> list(String prefix, String startAfter, int maxKeys) {
      return step("LIST " + prefix, () -> d.list(prefix, startAfter, maxKeys));
    }

    @Override
    public void delete(String key) {
      step("DELETE " + key, () -> {
        d.delete(key);
        return null;
      });
    }

    @Override
    public void deleteAll(Collection<String> keys) {
      step("DELETE " + keys, () -> {
        d.deleteAll(keys);
        return null;
      });
    }

    @Override
    public String describe() {
      return d.describe() + " (as " + actor + ")";
    }

    @Override
    public void close() {
      // the shared delegate is closed by its owner
    }
  }
}
