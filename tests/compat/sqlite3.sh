# sqlite3: a database built with 20,000 rows from a recursive CTE, indexes,
# joins, aggregates, window functions, a rolled-back transaction, WAL mode,
# CSV import and export, JSON output, VACUUM and integrity checks; then two
# processes on one database: one holds an exclusive lock for 0.5 s (.shell
# sleep, a child process), the other waits for it with a busy timeout.
set -eu
sqlite3 db.sqlite <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, name TEXT, v REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO t (k, name, v) SELECT i % 97, 'name' || (i * 7919 % 1000), i * 0.5 FROM n;
CREATE INDEX t_k ON t (k);
CREATE TABLE groups (k INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 96)
INSERT INTO groups SELECT i, 'group-' || i FROM n;
SQL
sqlite3 db.sqlite <<'SQL'
SELECT count(*), sum(k), printf('%.1f', sum(v)) FROM t;
SELECT g.label, count(*), printf('%.1f', avg(t.v)) FROM t JOIN groups g USING (k) GROUP BY k ORDER BY count(*) DESC, k LIMIT 5;
SELECT name, k, rank() OVER (PARTITION BY k ORDER BY v DESC) AS r FROM t WHERE k = 5 ORDER BY r LIMIT 3;
SELECT count(DISTINCT name) FROM t;
EXPLAIN QUERY PLAN SELECT * FROM t WHERE k = 3;
BEGIN; DELETE FROM t; ROLLBACK;
SELECT 'after rollback', count(*) FROM t;
BEGIN; UPDATE t SET v = v * 2 WHERE k = 1; COMMIT;
SELECT 'updated', printf('%.1f', sum(v)) FROM t WHERE k = 1;
PRAGMA journal_mode;
PRAGMA integrity_check;
SQL
sqlite3 -csv db.sqlite 'SELECT id, k, name FROM t WHERE id <= 1000' >export.csv
echo "csv export: $(wc -l <export.csv) lines, $(sha256sum <export.csv | cut -c1-16)"
sqlite3 db.sqlite <<'SQL'
CREATE TABLE imported (id INTEGER, k INTEGER, name TEXT);
.mode csv
.import export.csv imported
.mode list
SELECT 'imported', count(*), sum(id), max(name) FROM imported;
SQL
sqlite3 -json db.sqlite 'SELECT * FROM groups ORDER BY k LIMIT 3'
echo "dump: $(sqlite3 db.sqlite .dump | sha256sum | cut -c1-16)"
sqlite3 db.sqlite 'PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA integrity_check;' | tail -n 1
# two processes: a writer holding the lock, another that waits for it
sqlite3 db.sqlite <<'SQL' >locker.out &
BEGIN EXCLUSIVE;
INSERT INTO groups VALUES (1000, 'locked');
.shell echo locked >locked.flag; sleep 0.5
COMMIT;
SELECT 'locker committed';
SQL
locker=$!
for _ in $(seq 1 200); do [ -e locked.flag ] && break; sleep 0.02; done
sqlite3 db.sqlite <<'SQL'
.timeout 10000
INSERT INTO groups VALUES (1001, 'waited');
SELECT 'waiter', count(*) FROM groups WHERE k >= 1000;
SQL
wait $locker
cat locker.out
sqlite3 db.sqlite 'SELECT label FROM groups WHERE k >= 1000 ORDER BY k'
