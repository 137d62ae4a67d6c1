package dev.walship.primary;

import dev.walship.store.ObjectStore;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary agent process: one {@link DatabaseAgent} per database, one {@link ObjectStore} per
 * distinct target URL, and the {@link AdminServer}. The entry point other modules (the CLI, the
 * embedded demo) use.
 *
 * <p>Thread-safe after {@link #start()}.
 */
public final class PrimaryAgent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PrimaryAgent.class);

  private final List<DatabaseOptions> databases;
  private final Function<String, ObjectStore> openStore;
  private final PrometheusMeterRegistry registry;
  private final InstantSource clock;
  private final InetSocketAddress adminAddress;
  private final Map<String, ObjectStore> stores = new LinkedHashMap<>();
  private final Map<String, DatabaseAgent> agents = new LinkedHashMap<>();
  private AdminServer admin;

  /**
   * @param databases what to ship (names must be unique per target)
   * @param openStore opens a target URL (e.g. {@code ObjectStores::open})
   * @param registry meters of every database; scraped by {@code GET /metrics}
   * @param clock wall clock
   * @param adminAddress where the admin API listens, or null for none
   */
  public PrimaryAgent(
      List<DatabaseOptions> databases,
      Function<String, ObjectStore> openStore,
      PrometheusMeterRegistry registry,
      InstantSource clock,
      InetSocketAddress adminAddress) {
    if (databases.isEmpty()) {
      throw new PrimaryException("no database to ship: give --db or a config file with databases");
    }
    this.databases = List.copyOf(databases);
    this.openStore = openStore;
    this.registry = registry;
    this.clock = clock;
    this.adminAddress = adminAddress;
  }

  /**
   * Starts every database (stopping those already started if one fails) and the admin API.
   *
   * @throws PrimaryException naming the database and the problem
   */
  public void start() {
    try {
      for (DatabaseOptions o : databases) {
        String id = o.target() + "#" + o.name();
        if (agents.containsKey(id)) {
          throw new PrimaryException("two databases are named '" + o.name() + "' on " + o.target());
        }
        ObjectStore store = stores.computeIfAbsent(o.target(), openStore);
        DatabaseAgent a = new DatabaseAgent(o, store, registry, clock);
        a.start();
        agents.put(id, a);
      }
      if (adminAddress != null) {
        admin = new AdminServer(adminAddress, registry::scrape, this::status, this::database);
        log.info("admin API on http://{}:{}/ (metrics, v1/status, v1/wait)",
            adminAddress.getHostString(), admin.port());
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Status of every database, in configuration order. */
  public List<DatabaseStatus> status() {
    List<DatabaseStatus> out = new ArrayList<>();
    for (DatabaseAgent a : agents.values()) {
      out.add(a.status());
    }
    return out;
  }

  /** The database named {@code name} (first match across targets). */
  public Optional<DatabaseAgent> database(String name) {
    return agents.values().stream().filter(a -> a.name().equals(name)).findFirst();
  }

  /** Port of the admin API, or -1 if none. */
  public int adminPort() {
    return admin == null ? -1 : admin.port();
  }

  /** True if every database is fenced or stopped (nothing left to do). */
  public boolean allStopped() {
    return agents.values().stream()
        .map(a -> a.status().state())
        .allMatch(s -> s.equals("FENCED") || s.equals("STOPPED"));
  }

  /** Drains and stops every database, releases leases, stops the admin API. */
  @Override
  public void close() {
    if (admin != null) {
      admin.close();
      admin = null;
    }
    for (DatabaseAgent a : agents.values()) {
      try {
        a.close();
      } catch (RuntimeException e) {
        log.warn("{}: error while stopping: {}", a.name(), e.toString());
      }
    }
    for (ObjectStore s : stores.values()) {
      s.close();
    }
    agents.clear();
    stores.clear();
  }
}
