// Drives a walship replica with the real @libsql/client over Hrana/HTTP.
// Usage: node conformance.mjs <base-url>; exits non-zero with the failing check on stderr.
// The database is a copy of Chinook plus a table walship_values(i, f, t, b, n) with one row of
// each value kind (see HranaClientConformanceTest).
import { createClient, LibsqlError } from "@libsql/client";
import assert from "node:assert/strict";

const url = process.argv[2];
const db = createClient({ url, intMode: "bigint" });
const checks = [];
async function check(name, fn) {
  try {
    await fn();
    checks.push(name);
  } catch (e) {
    console.error(`FAILED: ${name}\n${e && e.stack ? e.stack : e}`);
    process.exit(1);
  }
}

await check("execute with positional args", async () => {
  const rs = await db.execute({ sql: "SELECT ArtistId, Name FROM Artist WHERE ArtistId = ?", args: [1] });
  assert.equal(rs.rows.length, 1);
  assert.equal(rs.rows[0].Name, "AC/DC");
  assert.equal(rs.rows[0].ArtistId, 1n);
  assert.deepEqual(rs.columns, ["ArtistId", "Name"]);
  assert.deepEqual(rs.columnTypes, ["INTEGER", "NVARCHAR(120)"]);
  assert.equal(rs.rowsAffected, 0);
});

await check("execute with named args (:, @, $ and bare names)", async () => {
  let rs = await db.execute({ sql: "SELECT Name FROM Artist WHERE ArtistId = :id", args: { id: 2 } });
  assert.equal(rs.rows[0].Name, "Accept");
  rs = await db.execute({ sql: "SELECT Name FROM Artist WHERE ArtistId = @id OR ArtistId = $other ORDER BY ArtistId", args: { "@id": 1, other: 3 } });
  assert.deepEqual(rs.rows.map((r) => r.Name), ["AC/DC", "Aerosmith"]);
});

await check("every value type read back exactly", async () => {
  const rs = await db.execute("SELECT i, f, t, b, n FROM walship_values ORDER BY rowid");
  const [big, small] = rs.rows;
  assert.equal(big.i, 9007199254740993n); // 2^53 + 1: not representable as a JS number
  assert.equal(small.i, -9223372036854775808n);
  assert.equal(big.f, 3.25);
  assert.equal(big.t, "héllo wörld \u{1F30D} 'quoted'");
  assert.deepEqual([...new Uint8Array(big.b)], [0, 1, 2, 253, 254, 255]);
  assert.equal(big.n, null);
  assert.deepEqual([...new Uint8Array(small.b)], []);
});

await check("every value type as an argument", async () => {
  const rs = await db.execute({
    sql: "SELECT ? AS i, typeof(?) AS ti, ? AS f, ? AS t, ? AS b, typeof(?) AS tb, ? AS n, typeof(?) AS tn",
    args: [9223372036854775807n, 9223372036854775807n, 0.5, "ünï", new Uint8Array([7, 8, 9]), new Uint8Array([7]), null, null],
  });
  const r = rs.rows[0];
  assert.equal(r.i, 9223372036854775807n);
  assert.equal(r.ti, "integer");
  assert.equal(r.f, 0.5);
  assert.equal(r.t, "ünï");
  assert.deepEqual([...new Uint8Array(r.b)], [7, 8, 9]);
  assert.equal(r.tb, "blob");
  assert.equal(r.n, null);
  assert.equal(r.tn, "null");
});

await check("batch in read mode", async () => {
  const results = await db.batch(
    ["SELECT count(*) AS c FROM Artist", { sql: "SELECT Name FROM Genre WHERE GenreId = ?", args: [1] }],
    "read",
  );
  assert.equal(results.length, 2);
  assert.equal(results[0].rows[0].c, 275n);
  assert.equal(results[1].rows[0].Name, "Rock");
});

await check("read transaction across requests", async () => {
  const tx = await db.transaction("read");
  const a = await tx.execute("SELECT count(*) AS c FROM Track");
  const b = await tx.execute({ sql: "SELECT Name FROM Track WHERE TrackId = ?", args: [1] });
  assert.equal(a.rows[0].c, 3503n);
  assert.equal(b.rows[0].Name, "For Those About To Rock (We Salute You)");
  await tx.commit();
});

await check("deferred transaction and rollback", async () => {
  const tx = await db.transaction("deferred");
  const a = await tx.execute("SELECT count(*) AS c FROM Album");
  assert.equal(a.rows[0].c, 347n);
  await tx.rollback();
});

await check("a write is refused with SQLITE_READONLY", async () => {
  await assert.rejects(db.execute("INSERT INTO Artist (Name) VALUES ('walship')"), (e) => {
    assert.ok(e instanceof LibsqlError, `expected LibsqlError, got ${e}`);
    assert.equal(e.code, "SQLITE_READONLY");
    return true;
  });
  const rs = await db.execute("SELECT count(*) AS c FROM Artist WHERE Name = 'walship'");
  assert.equal(rs.rows[0].c, 0n);
});

await check("a write batch and a write transaction are refused", async () => {
  await assert.rejects(db.batch(["UPDATE Artist SET Name = 'x' WHERE ArtistId = 1"], "write"), LibsqlError);
  await assert.rejects(db.transaction("write").then((tx) => tx.execute("SELECT 1")), LibsqlError);
  const rs = await db.execute("SELECT Name FROM Artist WHERE ArtistId = 1");
  assert.equal(rs.rows[0].Name, "AC/DC");
});

await check("ATTACH and writable pragmas are refused", async () => {
  await assert.rejects(db.execute("ATTACH DATABASE '/tmp/x.db' AS x"), (e) => e.code === "SQLITE_AUTH");
  await assert.rejects(db.execute("PRAGMA user_version = 7"), (e) => e.code === "SQLITE_READONLY");
  const rs = await db.execute("PRAGMA user_version");
  assert.equal(rs.rows[0].user_version, 0n);
});

await check("executeMultiple (sequence)", async () => {
  await db.executeMultiple("SELECT 1; SELECT count(*) FROM Track;");
  await assert.rejects(db.executeMultiple("SELECT 1; DELETE FROM Track;"), LibsqlError);
  const rs = await db.execute("SELECT count(*) AS c FROM Track");
  assert.equal(rs.rows[0].c, 3503n);
});

await check("SQL errors carry SQLite's code", async () => {
  await assert.rejects(db.execute("SELECT * FROM no_such_table"), (e) => e instanceof LibsqlError && e.code === "SQLITE_ERROR");
});

db.close();
console.log(`ALL OK (${checks.length} checks): ${checks.join("; ")}`);
