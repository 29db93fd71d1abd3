/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "archive.h"
#include "result.h"
#include "hh-error.h"

#include <sqlite3.h>
#include <string.h>

struct _HhArchive {
	sqlite3 *db;
	char *path;
	/* One transaction at a time on this connection, whatever thread
	 * (cells of a -j run finish on several). */
	GMutex txn;
};

/* Each entry moves the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE runs ("
	"  id TEXT PRIMARY KEY, start TEXT NOT NULL, end TEXT,"
	"  host TEXT, harness_version TEXT, matrix TEXT,"
	"  only TEXT, exclude TEXT, repeat INTEGER NOT NULL DEFAULT 1,"
	"  complete INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE kernels ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL, release TEXT, cache_key TEXT,"
	"  source_identity TEXT, patches INTEGER,"
	"  PRIMARY KEY (run_id, name));"
	"CREATE TABLE cells ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL, kernel TEXT, variant TEXT, scenario TEXT,"
	"  status TEXT NOT NULL, reason TEXT, phase TEXT, boot TEXT,"
	"  boot_ms INTEGER, total_ms INTEGER, expected_crash INTEGER,"
	"  dir TEXT, PRIMARY KEY (run_id, name));"
	"CREATE TABLE crashes ("
	"  run_id TEXT NOT NULL, cell TEXT NOT NULL, title TEXT NOT NULL,"
	"  FOREIGN KEY (run_id, cell) REFERENCES cells(run_id, name)"
	"    ON DELETE CASCADE);",
	/* 2: run labels (nightly) and the planned cells; kernel series and
	 * config hashes; per-phase durations and the first failing step. */
	"ALTER TABLE runs ADD COLUMN label TEXT;"
	"ALTER TABLE runs ADD COLUMN planned TEXT;"
	"ALTER TABLE kernels ADD COLUMN series_hash TEXT;"
	"ALTER TABLE kernels ADD COLUMN config_hash TEXT;"
	"ALTER TABLE cells ADD COLUMN steps_ms INTEGER;"
	"ALTER TABLE cells ADD COLUMN shutdown_ms INTEGER;"
	"ALTER TABLE cells ADD COLUMN failed_step TEXT;"
	"CREATE INDEX cells_by_name ON cells(name);",
	/* 3: several hosts: which ran the cell, when it began, and how many
	 * tries were lost with their host. */
	"ALTER TABLE cells ADD COLUMN host TEXT;"
	"ALTER TABLE cells ADD COLUMN start_ms INTEGER;"
	"ALTER TABLE cells ADD COLUMN lost_attempts INTEGER;",
};

void hh_archive_run_free(HhArchiveRun *r)
{
	if (!r)
		return;
	g_free(r->id);
	g_free(r->start);
	g_free(r->end);
	g_free(r->host);
	g_free(r->version);
	g_free(r->matrix);
	g_strfreev(r->only);
	g_strfreev(r->exclude);
	g_free(r->label);
	g_strfreev(r->planned);
	g_free(r);
}

void hh_archive_kernel_free(HhArchiveKernel *k)
{
	if (!k)
		return;
	g_free(k->name);
	g_free(k->release);
	g_free(k->cache_key);
	g_free(k->identity);
	g_free(k->series_hash);
	g_free(k->config_hash);
	g_free(k);
}

void hh_archive_cell_free(HhArchiveCell *c)
{
	if (!c)
		return;
	g_free(c->name);
	g_free(c->kernel);
	g_free(c->variant);
	g_free(c->scenario);
	g_free(c->status);
	g_free(c->reason);
	g_free(c->phase);
	g_free(c->boot);
	g_free(c->dir);
	g_free(c->failed_step);
	g_free(c->host);
	if (c->crashes)
		g_ptr_array_unref(c->crashes);
	g_free(c);
}

static gboolean fail(HhArchive *a, const char *what, GError **error)
{
	g_set_error(error, HH_ERROR, HH_ERROR_FAILED, "archive %s: %s: %s",
		    a->path, what, sqlite3_errmsg(a->db));
	return FALSE;
}

static gboolean exec(HhArchive *a, const char *sql, GError **error)
{
	char *msg = NULL;

	if (sqlite3_exec(a->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return TRUE;
	g_set_error(error, HH_ERROR, HH_ERROR_FAILED, "archive %s: %s",
		    a->path, msg ? msg : "error");
	sqlite3_free(msg);
	return FALSE;
}

static gboolean migrate(HhArchive *a, GError **error)
{
	sqlite3_stmt *st;
	int version;

	/* Under the write lock: two harnesses opening a new archive at once
	 * must not both create it. */
	if (!exec(a, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (sqlite3_prepare_v2(a->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK) {
		fail(a, "reading the schema version", error);
		goto rollback;
	}
	sqlite3_step(st);
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > HH_ARCHIVE_SCHEMA) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "archive %s has schema %d, newer than this "
			    "harness knows (%d): use a newer hotplug-harness",
			    a->path, version, HH_ARCHIVE_SCHEMA);
		goto rollback;
	}
	for (; version < HH_ARCHIVE_SCHEMA; version++) {
		g_autofree char *sql = g_strdup_printf(
			"%s PRAGMA user_version = %d;", migrations[version],
			version + 1);

		if (!exec(a, sql, error))
			goto rollback;
	}
	return exec(a, "COMMIT", error);
rollback:
	exec(a, "ROLLBACK", NULL);
	return FALSE;
}

HhArchive *hh_archive_open(const char *path, GError **error)
{
	g_autoptr(HhArchive) a = g_new0(HhArchive, 1);

	a->path = g_strdup(path);
	g_mutex_init(&a->txn);
	if (sqlite3_open_v2(path, &a->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		fail(a, "cannot open", error);
		return NULL;
	}
	/* WAL: readers never block the run writing; a crash of the harness
	 * loses nothing committed.  synchronous=NORMAL: no fsync per cell
	 * (12 ms a cell here, the archive's whole cost); a power cut may
	 * lose the last cells, whose files are on disk and which --resume
	 * runs again.  Other processes may hold the lock for a moment. */
	sqlite3_busy_timeout(a->db, 10000);
	if (!exec(a, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		  " PRAGMA foreign_keys = ON;", error) ||
	    !migrate(a, error))
		return NULL;
	return g_steal_pointer(&a);
}

void hh_archive_close(HhArchive *a)
{
	if (!a)
		return;
	sqlite3_close(a->db);
	g_mutex_clear(&a->txn);
	g_free(a->path);
	g_free(a);
}

/* Prepares sql and binds the NULL-terminated text arguments in order. */
static sqlite3_stmt *prepare(HhArchive *a, const char *sql,
			     const char *const *texts, GError **error)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fail(a, "preparing a statement", error);
		return NULL;
	}
	for (int i = 0; texts && texts[i]; i++)
		sqlite3_bind_text(st, i + 1, texts[i][0] == '\001' ? NULL :
					  texts[i], -1, SQLITE_TRANSIENT);
	return st;
}

/* A NULL text travels as this marker (texts end at the first NULL). */
#define NUL_TEXT(s) ((s) ? (s) : "\001")

static gboolean step_done(HhArchive *a, sqlite3_stmt *st, const char *what,
			  GError **error)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE || fail(a, what, error);
}

gboolean hh_archive_run_begin(HhArchive *a, const HhArchiveRun *r,
			      GError **error)
{
	g_autofree char *only = r->only ? g_strjoinv("\n", r->only) : NULL;
	g_autofree char *exclude = r->exclude ?
		g_strjoinv("\n", r->exclude) : NULL;
	g_autofree char *planned = r->planned ?
		g_strjoinv("\n", r->planned) : NULL;
	g_autofree char *repeat = g_strdup_printf("%u", MAX(r->repeat, 1));
	const char *t[] = { r->id, r->start, NUL_TEXT(r->host),
			    NUL_TEXT(r->version), NUL_TEXT(r->matrix),
			    NUL_TEXT(only), NUL_TEXT(exclude), repeat,
			    NUL_TEXT(r->label), NUL_TEXT(planned), NULL };
	sqlite3_stmt *st = prepare(a,
		"INSERT INTO runs (id, start, host, harness_version, matrix, "
		"only, exclude, repeat, label, planned, complete) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", t, error);

	return st && step_done(a, st, "recording the run", error);
}

gboolean hh_archive_run_end(HhArchive *a, const char *run_id,
			    const char *end, gboolean complete,
			    GError **error)
{
	const char *t[] = { end, complete ? "1" : "0", run_id, NULL };
	sqlite3_stmt *st = prepare(a,
		"UPDATE runs SET end = ?, complete = ? WHERE id = ?", t, error);

	return st && step_done(a, st, "closing the run", error);
}

gboolean hh_archive_kernel(HhArchive *a, const char *run_id,
			   const HhArchiveKernel *k, GError **error)
{
	g_autofree char *n = g_strdup_printf("%u", k->patches);
	const char *t[] = { run_id, k->name, NUL_TEXT(k->release),
			    NUL_TEXT(k->cache_key), NUL_TEXT(k->identity), n,
			    NUL_TEXT(k->series_hash), NUL_TEXT(k->config_hash),
			    NULL };
	sqlite3_stmt *st = prepare(a,
		"INSERT OR REPLACE INTO kernels (run_id, name, release, "
		"cache_key, source_identity, patches, series_hash, "
		"config_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", t, error);

	return st && step_done(a, st, "recording a kernel", error);
}

static gboolean cell_txn(HhArchive *a, const char *run_id,
			 const HhArchiveCell *c, GError **error);

gboolean hh_archive_cell(HhArchive *a, const char *run_id,
			 const HhArchiveCell *c, GError **error)
{
	gboolean ok;

	g_mutex_lock(&a->txn);
	ok = cell_txn(a, run_id, c, error);
	g_mutex_unlock(&a->txn);
	return ok;
}

static gboolean cell_txn(HhArchive *a, const char *run_id,
			 const HhArchiveCell *c, GError **error)
{
	g_autofree char *boot_ms = g_strdup_printf("%" G_GINT64_FORMAT, c->boot_ms);
	g_autofree char *total_ms = g_strdup_printf("%" G_GINT64_FORMAT, c->total_ms);
	g_autofree char *steps_ms = g_strdup_printf("%" G_GINT64_FORMAT, c->steps_ms);
	g_autofree char *shutdown_ms = g_strdup_printf("%" G_GINT64_FORMAT,
						       c->shutdown_ms);
	g_autofree char *start_ms = g_strdup_printf("%" G_GINT64_FORMAT,
						    c->start_ms);
	g_autofree char *lost = g_strdup_printf("%u", c->lost_attempts);
	const char *t[] = { run_id, c->name, NUL_TEXT(c->kernel),
			    NUL_TEXT(c->variant), NUL_TEXT(c->scenario),
			    c->status, NUL_TEXT(c->reason), NUL_TEXT(c->phase),
			    NUL_TEXT(c->boot), boot_ms, total_ms,
			    c->expected_crash ? "1" : "0", NUL_TEXT(c->dir),
			    steps_ms, shutdown_ms, NUL_TEXT(c->failed_step),
			    NUL_TEXT(c->host), start_ms, lost, NULL };
	sqlite3_stmt *st;

	/* IMMEDIATE: take the write lock now (waiting for another process
	 * up to the busy timeout) rather than fail half way. */
	if (!exec(a, "BEGIN IMMEDIATE", error))
		return FALSE;
	/* A cell run again (resume) replaces its crash titles too. */
	st = prepare(a, "DELETE FROM crashes WHERE run_id = ? AND cell = ?",
		     (const char *const[]){ run_id, c->name, NULL }, error);
	if (!st || !step_done(a, st, "replacing a cell", error))
		goto rollback;
	st = prepare(a, "INSERT OR REPLACE INTO cells (run_id, name, kernel, "
			"variant, scenario, status, reason, phase, boot, "
			"boot_ms, total_ms, expected_crash, dir, steps_ms, "
			"shutdown_ms, failed_step, host, start_ms, "
			"lost_attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
			"?, ?, ?, ?, ?, ?, ?, ?, ?)", t,
		     error);
	if (!st || !step_done(a, st, "recording a cell", error))
		goto rollback;
	for (guint i = 0; c->crashes && i < c->crashes->len; i++) {
		const char *ct[] = { run_id, c->name, c->crashes->pdata[i],
				     NULL };

		st = prepare(a, "INSERT INTO crashes VALUES (?, ?, ?)", ct,
			     error);
		if (!st || !step_done(a, st, "recording a crash", error))
			goto rollback;
	}
	/* Committed now: a run killed later keeps this cell. */
	return exec(a, "COMMIT", error);
rollback:
	exec(a, "ROLLBACK", NULL);
	return FALSE;
}

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? g_strdup((const char *)s) : NULL;
}

static char **split_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? g_strsplit((const char *)s, "\n", -1) : NULL;
}

GPtrArray *hh_archive_runs(HhArchive *a, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)hh_archive_run_free);
	sqlite3_stmt *st = prepare(a,
		"SELECT r.id, r.start, r.end, r.host, r.harness_version, "
		"r.matrix, r.complete, COUNT(c.name), "
		"SUM(c.status IN ('fail','crash','timeout','error') "
		"    AND NOT c.expected_crash) "
		", r.only, r.exclude, r.repeat, r.label, r.planned "
		"FROM runs r LEFT JOIN cells c ON c.run_id = r.id "
		"GROUP BY r.id ORDER BY r.start DESC, r.id DESC", NULL, error);
	int rc;

	if (!st)
		return NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		HhArchiveRun *r = g_new0(HhArchiveRun, 1);

		r->id = col(st, 0);
		r->start = col(st, 1);
		r->end = col(st, 2);
		r->host = col(st, 3);
		r->version = col(st, 4);
		r->matrix = col(st, 5);
		r->complete = sqlite3_column_int(st, 6);
		r->cells = sqlite3_column_int(st, 7);
		r->failed = sqlite3_column_int(st, 8);
		r->only = split_col(st, 9);
		r->exclude = split_col(st, 10);
		r->repeat = sqlite3_column_int(st, 11);
		r->label = col(st, 12);
		r->planned = split_col(st, 13);
		g_ptr_array_add(out, r);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fail(a, "listing runs", error);
		return NULL;
	}
	return g_steal_pointer(&out);
}

HhArchiveRun *hh_archive_run(HhArchive *a, const char *run_id,
			     GError **error)
{
	g_autoptr(GPtrArray) runs = hh_archive_runs(a, error);

	for (guint i = 0; runs && i < runs->len; i++) {
		HhArchiveRun *r = runs->pdata[i];

		if (g_str_equal(r->id, run_id))
			return g_ptr_array_steal_index(runs, i);
	}
	if (runs)
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "archive %s has no run '%s' (see 'hotplug-harness "
			    "results list')", a->path, run_id);
	return NULL;
}

GPtrArray *hh_archive_cells(HhArchive *a, const char *run_id,
			    GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)hh_archive_cell_free);
	const char *t[] = { run_id, NULL };
	sqlite3_stmt *st = prepare(a,
		"SELECT name, kernel, variant, scenario, status, reason, phase,"
		" boot, dir, boot_ms, total_ms, expected_crash,"
		" (SELECT group_concat(title, char(10)) FROM crashes k"
		"  WHERE k.run_id = c.run_id AND k.cell = c.name),"
		" steps_ms, shutdown_ms, failed_step, host, start_ms,"
		" lost_attempts"
		" FROM cells c WHERE run_id = ? ORDER BY name", t, error);
	int rc;

	if (!st)
		return NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		HhArchiveCell *c = g_new0(HhArchiveCell, 1);
		g_autofree char *titles = col(st, 12);

		c->name = col(st, 0);
		c->kernel = col(st, 1);
		c->variant = col(st, 2);
		c->scenario = col(st, 3);
		c->status = col(st, 4);
		c->reason = col(st, 5);
		c->phase = col(st, 6);
		c->boot = col(st, 7);
		c->dir = col(st, 8);
		c->boot_ms = sqlite3_column_int64(st, 9);
		c->total_ms = sqlite3_column_int64(st, 10);
		c->expected_crash = sqlite3_column_int(st, 11);
		c->steps_ms = sqlite3_column_int64(st, 13);
		c->shutdown_ms = sqlite3_column_int64(st, 14);
		c->failed_step = col(st, 15);
		c->host = col(st, 16);
		c->start_ms = sqlite3_column_int64(st, 17);
		c->lost_attempts = (guint)sqlite3_column_int(st, 18);
		c->crashes = g_ptr_array_new_with_free_func(g_free);
		if (titles) {
			g_auto(GStrv) v = g_strsplit(titles, "\n", -1);

			for (int i = 0; v[i]; i++)
				g_ptr_array_add(c->crashes, g_strdup(v[i]));
		}
		g_ptr_array_add(out, c);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fail(a, "listing cells", error);
		return NULL;
	}
	return g_steal_pointer(&out);
}

GPtrArray *hh_archive_prune(HhArchive *a, guint keep, const char *before,
			    GError **error)
{
	g_autoptr(GPtrArray) runs = hh_archive_runs(a, error);
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) kinds = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) baselines = g_hash_table_new(g_str_hash,
							  g_str_equal);

	if (!runs)
		return NULL;
	/* The newest complete run of each matrix and label stays: it is
	 * what the next run of that kind is compared with. */
	for (guint i = 0; i < runs->len; i++) {
		HhArchiveRun *r = runs->pdata[i];
		char *kind = g_strdup_printf("%s\n%s", r->matrix ? r->matrix : "",
					     r->label ? r->label : "");

		if (!r->complete || g_hash_table_contains(kinds, kind)) {
			g_free(kind);
			continue;
		}
		g_hash_table_add(kinds, kind);
		g_hash_table_add(baselines, r->id);
	}
	g_mutex_lock(&a->txn);
	if (!exec(a, "BEGIN IMMEDIATE", error)) {
		g_mutex_unlock(&a->txn);
		return NULL;
	}
	for (guint i = 0; i < runs->len; i++) {
		HhArchiveRun *r = runs->pdata[i];
		gboolean old = before && g_strcmp0(r->start, before) < 0;
		gboolean extra = keep && i >= keep;
		const char *t[] = { r->id, NULL };
		sqlite3_stmt *st;

		if ((!old && !extra) || g_hash_table_contains(baselines, r->id))
			continue;
		st = prepare(a, "DELETE FROM runs WHERE id = ?", t, error);
		if (!st || !step_done(a, st, "pruning a run", error)) {
			exec(a, "ROLLBACK", NULL);
			g_mutex_unlock(&a->txn);
			return NULL;
		}
		g_ptr_array_add(gone, g_strdup(r->id));
	}
	if (!exec(a, "COMMIT", error)) {
		exec(a, "ROLLBACK", NULL);
		g_mutex_unlock(&a->txn);
		return NULL;
	}
	g_mutex_unlock(&a->txn);
	return g_steal_pointer(&gone);
}

GPtrArray *hh_archive_kernels(HhArchive *a, const char *run_id,
			      GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)hh_archive_kernel_free);
	const char *t[] = { run_id, NULL };
	sqlite3_stmt *st = prepare(a,
		"SELECT name, release, cache_key, source_identity, patches,"
		" series_hash, config_hash FROM kernels WHERE run_id = ?"
		" ORDER BY rowid", t, error);
	int rc;

	if (!st)
		return NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		HhArchiveKernel *k = g_new0(HhArchiveKernel, 1);

		k->name = col(st, 0);
		k->release = col(st, 1);
		k->cache_key = col(st, 2);
		k->identity = col(st, 3);
		k->patches = (guint)sqlite3_column_int(st, 4);
		k->series_hash = col(st, 5);
		k->config_hash = col(st, 6);
		g_ptr_array_add(out, k);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fail(a, "listing kernels", error);
		return NULL;
	}
	return g_steal_pointer(&out);
}

GHashTable *hh_archive_histories(HhArchive *a, const char *matrix,
				 const char *before, guint max_runs,
				 GError **error)
{
	g_autoptr(GHashTable) out = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free,
		(GDestroyNotify)g_ptr_array_unref);
	g_autofree char *lim = g_strdup_printf("%u", max_runs ? max_runs :
						      1000000000);
	const char *t[] = { NUL_TEXT(matrix), NUL_TEXT(before), lim, NULL };
	sqlite3_stmt *st = prepare(a,
		"SELECT r.id, r.start, c.name, c.status, c.expected_crash"
		" FROM (SELECT id, start FROM runs"
		"  WHERE (?1 IS NULL OR matrix = ?1)"
		"  AND (?2 IS NULL OR start <= ?2)"
		"  ORDER BY start DESC, id DESC LIMIT ?3) r"
		" JOIN cells c ON c.run_id = r.id"
		" ORDER BY r.start DESC, r.id DESC, c.name", t, error);
	int rc;

	if (!st)
		return NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		HhArchiveHistory *h = g_new0(HhArchiveHistory, 1);
		g_autofree char *base = NULL;
		GPtrArray *list;

		h->run_id = col(st, 0);
		h->start = col(st, 1);
		h->cell = col(st, 2);
		h->status = col(st, 3);
		h->expected_crash = sqlite3_column_int(st, 4);
		base = hh_repeat_base(h->cell);
		list = g_hash_table_lookup(out, base);
		if (!list) {
			list = g_ptr_array_new_with_free_func(
				(GDestroyNotify)hh_archive_history_free);
			g_hash_table_insert(out, g_steal_pointer(&base), list);
		}
		g_ptr_array_add(list, h);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fail(a, "reading the cells' history", error);
		return NULL;
	}
	return g_steal_pointer(&out);
}

void hh_archive_history_free(HhArchiveHistory *h)
{
	if (!h)
		return;
	g_free(h->cell);
	g_free(h->run_id);
	g_free(h->start);
	g_free(h->status);
	g_free(h);
}

char *hh_archive_newest_run(HhArchive *a, GError **error)
{
	g_autoptr(GPtrArray) runs = hh_archive_runs(a, error);

	if (!runs)
		return NULL;
	if (!runs->len) {
		g_set_error(error, HH_ERROR, HH_ERROR_NOT_FOUND,
			    "archive %s holds no run", a->path);
		return NULL;
	}
	return g_strdup(((HhArchiveRun *)runs->pdata[0])->id);
}
