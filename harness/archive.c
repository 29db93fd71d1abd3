/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "archive.h"
#include "hh-error.h"

#include <sqlite3.h>

struct _HhArchive {
	sqlite3 *db;
	char *path;
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
	g_free(r);
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

	if (sqlite3_prepare_v2(a->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(a, "reading the schema version", error);
	sqlite3_step(st);
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > HH_ARCHIVE_SCHEMA) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "archive %s has schema %d, newer than this "
			    "harness knows (%d): use a newer hotplug-harness",
			    a->path, version, HH_ARCHIVE_SCHEMA);
		return FALSE;
	}
	for (; version < HH_ARCHIVE_SCHEMA; version++) {
		g_autofree char *sql = g_strdup_printf(
			"BEGIN; %s PRAGMA user_version = %d; COMMIT;",
			migrations[version], version + 1);

		if (!exec(a, sql, error)) {
			exec(a, "ROLLBACK", NULL);
			return FALSE;
		}
	}
	return TRUE;
}

HhArchive *hh_archive_open(const char *path, GError **error)
{
	g_autoptr(HhArchive) a = g_new0(HhArchive, 1);

	a->path = g_strdup(path);
	if (sqlite3_open_v2(path, &a->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		fail(a, "cannot open", error);
		return NULL;
	}
	/* WAL: readers never block the run writing; a crash loses nothing
	 * committed.  Other processes may hold the lock for a moment. */
	sqlite3_busy_timeout(a->db, 10000);
	if (!exec(a, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;",
		  error) ||
	    !migrate(a, error))
		return NULL;
	return g_steal_pointer(&a);
}

void hh_archive_close(HhArchive *a)
{
	if (!a)
		return;
	sqlite3_close(a->db);
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
	g_autofree char *repeat = g_strdup_printf("%u", MAX(r->repeat, 1));
	const char *t[] = { r->id, r->start, NUL_TEXT(r->host),
			    NUL_TEXT(r->version), NUL_TEXT(r->matrix),
			    NUL_TEXT(only), NUL_TEXT(exclude), repeat, NULL };
	sqlite3_stmt *st = prepare(a,
		"INSERT INTO runs (id, start, host, harness_version, matrix, "
		"only, exclude, repeat, complete) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", t, error);

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
			   const char *name, const char *release,
			   const char *cache_key, const char *identity,
			   guint patches, GError **error)
{
	g_autofree char *n = g_strdup_printf("%u", patches);
	const char *t[] = { run_id, name, NUL_TEXT(release),
			    NUL_TEXT(cache_key), NUL_TEXT(identity), n, NULL };
	sqlite3_stmt *st = prepare(a,
		"INSERT OR REPLACE INTO kernels VALUES (?, ?, ?, ?, ?, ?)", t,
		error);

	return st && step_done(a, st, "recording a kernel", error);
}

gboolean hh_archive_cell(HhArchive *a, const char *run_id,
			 const HhArchiveCell *c, GError **error)
{
	g_autofree char *boot_ms = g_strdup_printf("%" G_GINT64_FORMAT, c->boot_ms);
	g_autofree char *total_ms = g_strdup_printf("%" G_GINT64_FORMAT, c->total_ms);
	const char *t[] = { run_id, c->name, NUL_TEXT(c->kernel),
			    NUL_TEXT(c->variant), NUL_TEXT(c->scenario),
			    c->status, NUL_TEXT(c->reason), NUL_TEXT(c->phase),
			    NUL_TEXT(c->boot), boot_ms, total_ms,
			    c->expected_crash ? "1" : "0", NUL_TEXT(c->dir),
			    NULL };
	sqlite3_stmt *st;

	if (!exec(a, "BEGIN", error))
		return FALSE;
	st = prepare(a, "INSERT OR REPLACE INTO cells VALUES "
			"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", t, error);
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
		", r.only, r.exclude, r.repeat "
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
		"  WHERE k.run_id = c.run_id AND k.cell = c.name)"
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
	const char *baseline = NULL;

	if (!runs)
		return NULL;
	for (guint i = 0; i < runs->len && !baseline; i++) {
		HhArchiveRun *r = runs->pdata[i];

		if (r->complete)
			baseline = r->id;
	}
	if (!exec(a, "BEGIN", error))
		return NULL;
	for (guint i = 0; i < runs->len; i++) {
		HhArchiveRun *r = runs->pdata[i];
		gboolean old = before && g_strcmp0(r->start, before) < 0;
		gboolean extra = keep && i >= keep;
		const char *t[] = { r->id, NULL };
		sqlite3_stmt *st;

		if ((!old && !extra) || g_strcmp0(r->id, baseline) == 0)
			continue;
		st = prepare(a, "DELETE FROM runs WHERE id = ?", t, error);
		if (!st || !step_done(a, st, "pruning a run", error)) {
			exec(a, "ROLLBACK", NULL);
			return NULL;
		}
		g_ptr_array_add(gone, g_strdup(r->id));
	}
	if (!exec(a, "COMMIT", error))
		return NULL;
	return g_steal_pointer(&gone);
}
