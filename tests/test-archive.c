/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The results archive: cells committed one by one, read back, reopened;
 * a schema newer than the harness is refused. */
#include "archive.h"
#include "hh-error.h"
#include "util.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *temp_db(char **dir)
{
	g_autoptr(GError) err = NULL;

	*dir = g_dir_make_tmp("hh-archive-XXXXXX", &err);
	g_assert_no_error(err);
	return g_build_filename(*dir, "archive.sqlite", NULL);
}

static void test_write_and_read_back(void)
{
	g_autofree char *dir = NULL, *path = temp_db(&dir);
	g_autoptr(GError) err = NULL;
	g_autoptr(HhArchive) a = hh_archive_open(path, &err);
	g_autoptr(GPtrArray) runs = NULL, cells = NULL;
	g_autoptr(GPtrArray) titles = g_ptr_array_new();
	HhArchiveRun run = { .id = "r1", .start = "2026-11-22T00:00:00Z",
			     .host = "h", .version = "0.1", .matrix = "m" };
	HhArchiveCell pass = { .name = "k/v/a", .kernel = "k", .variant = "v",
			       .scenario = "a", .status = "pass",
			       .total_ms = 300 };
	HhArchiveCell crash = { .name = "k/v/b", .status = "crash",
				.reason = "kernel: WARNING in f\" <x>" };
	HhArchiveCell *c;

	g_assert_no_error(err);
	g_ptr_array_add(titles, "WARNING in f");
	crash.crashes = titles;
	g_assert_true(hh_archive_run_begin(a, &run, &err));
	g_assert_true(hh_archive_kernel(a, "r1", &(HhArchiveKernel){
		.name = "k", .release = "6.1.192", .cache_key = "key",
		.identity = "id", .patches = 5, .series_hash = "s",
		.config_hash = "c" }, &err));
	g_assert_true(hh_archive_cell(a, "r1", &pass, &err));
	g_assert_true(hh_archive_cell(a, "r1", &crash, &err));
	g_assert_no_error(err);

	/* A second connection (another process) sees both cells while the
	 * run is still open: nothing waits for the end of the run. */
	{
		g_autoptr(HhArchive) b = hh_archive_open(path, &err);

		runs = hh_archive_runs(b, &err);
		g_assert_no_error(err);
		g_assert_cmpuint(runs->len, ==, 1);
		c = NULL;
		g_assert_cmpuint(((HhArchiveRun *)runs->pdata[0])->cells, ==, 2);
		g_assert_cmpuint(((HhArchiveRun *)runs->pdata[0])->failed, ==, 1);
		g_assert_false(((HhArchiveRun *)runs->pdata[0])->complete);
		g_assert_null(((HhArchiveRun *)runs->pdata[0])->end);
	}
	g_assert_true(hh_archive_run_end(a, "r1", "2026-11-22T00:01:00Z", TRUE, &err));
	cells = hh_archive_cells(a, "r1", &err);
	g_assert_no_error(err);
	g_assert_cmpuint(cells->len, ==, 2);
	c = cells->pdata[1];
	g_assert_cmpstr(c->status, ==, "crash");
	g_assert_cmpstr(c->reason, ==, "kernel: WARNING in f\" <x>");
	g_assert_cmpuint(c->crashes->len, ==, 1);
	g_assert_cmpstr(c->crashes->pdata[0], ==, "WARNING in f");
	c = cells->pdata[0];
	g_assert_null(c->reason);
	g_assert_cmpint(c->total_ms, ==, 300);
	g_clear_pointer(&runs, g_ptr_array_unref);
	runs = hh_archive_runs(a, &err);
	g_assert_true(((HhArchiveRun *)runs->pdata[0])->complete);
	g_unlink(path);
	g_rmdir(dir);
}

static void test_newer_schema_refused(void)
{
	g_autofree char *dir = NULL, *path = temp_db(&dir);
	g_autoptr(GError) err = NULL;
	sqlite3 *db;
	HhArchive *a;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
				     NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	a = hh_archive_open(path, &err);
	g_assert_null(a);
	g_assert_nonnull(strstr(err->message, "schema 99, newer"));
	g_unlink(path);
	g_rmdir(dir);
}

static void test_reopen_keeps_schema(void)
{
	g_autofree char *dir = NULL, *path = temp_db(&dir);
	g_autoptr(GError) err = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;

	hh_archive_close(hh_archive_open(path, &err));
	hh_archive_close(hh_archive_open(path, &err));
	g_assert_no_error(err);
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	sqlite3_step(st);
	g_assert_cmpint(sqlite3_column_int(st, 0), ==, HH_ARCHIVE_SCHEMA);
	sqlite3_finalize(st);
	sqlite3_close(db);
	g_unlink(path);
	g_autofree char *wal = g_strconcat(path, "-wal", NULL);
	g_autofree char *shm = g_strconcat(path, "-shm", NULL);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(dir);
}

static void test_prune_keeps_baseline(void)
{
	g_autofree char *dir = NULL, *path = temp_db(&dir);
	g_autoptr(GError) err = NULL;
	g_autoptr(HhArchive) a = hh_archive_open(path, &err);
	g_autoptr(GPtrArray) gone = NULL, runs = NULL;
	const char *ids[] = { "r1", "r2", "r3", "r4" };
	const char *starts[] = { "2026-01-01", "2026-02-01", "2026-03-01",
				 "2026-04-01" };

	/* r2 is the only complete run; r4 is the newest. */
	for (int i = 0; i < 4; i++) {
		HhArchiveRun r = { .id = (char *)ids[i], .start = (char *)starts[i] };

		g_assert_true(hh_archive_run_begin(a, &r, &err));
	}
	g_assert_true(hh_archive_run_end(a, "r2", "2026-02-02", TRUE, &err));
	gone = hh_archive_prune(a, 1, NULL, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(gone->len, ==, 2);
	g_assert_cmpstr(gone->pdata[0], ==, "r3");
	g_assert_cmpstr(gone->pdata[1], ==, "r1");
	runs = hh_archive_runs(a, &err);
	g_assert_cmpuint(runs->len, ==, 2);
	g_assert_cmpstr(((HhArchiveRun *)runs->pdata[0])->id, ==, "r4");
	g_assert_cmpstr(((HhArchiveRun *)runs->pdata[1])->id, ==, "r2");
	g_clear_pointer(&gone, g_ptr_array_unref);
	/* Older than everything: still the baseline stays. */
	gone = hh_archive_prune(a, 0, "2027-01-01", &err);
	g_assert_cmpuint(gone->len, ==, 1);
	g_assert_cmpstr(gone->pdata[0], ==, "r4");
	g_clear_pointer(&a, hh_archive_close);
	hh_rm_rf(dir, NULL);
}

/* Two processes (two harness runs on one results directory), each with
 * two threads writing cells at once (-j2): every cell lands, the
 * database stays intact. */
typedef struct {
	HhArchive *a;
	const char *run;
	guint thread;
} Writer;

#define CELLS_PER_WRITER 100

static gpointer write_cells(gpointer data)
{
	Writer *w = data;

	for (guint i = 0; i < CELLS_PER_WRITER; i++) {
		g_autoptr(GError) err = NULL;
		g_autofree char *name = g_strdup_printf("k/v/t%u-%03u", w->thread, i);
		HhArchiveCell c = { .name = name, .status = i % 7 ? "pass" : "fail",
				    .reason = "r", .total_ms = i };

		if (!hh_archive_cell(w->a, w->run, &c, &err))
			return g_strdup(err->message);
	}
	return NULL;
}

static void writer_process(const char *path, const char *run)
{
	g_autoptr(GError) err = NULL;
	HhArchive *a = hh_archive_open(path, &err);
	HhArchiveRun r = { .id = (char *)run, .start = "2026-05-01" };
	Writer w[2] = { { a, run, 0 }, { a, run, 1 } };
	GThread *t[2];
	int bad = 0;

	if (!a || !hh_archive_run_begin(a, &r, &err))
		_exit(2);
	for (int i = 0; i < 2; i++)
		t[i] = g_thread_new("writer", write_cells, &w[i]);
	for (int i = 0; i < 2; i++) {
		char *msg = g_thread_join(t[i]);

		if (msg) {
			g_printerr("writer %s: %s\n", run, msg);
			bad = 1;
		}
	}
	bad |= !hh_archive_run_end(a, run, "2026-05-02", TRUE, NULL);
	hh_archive_close(a);
	_exit(bad);
}

static void test_concurrent_writers(void)
{
	g_autofree char *dir = NULL, *path = temp_db(&dir);
	g_autoptr(GError) err = NULL;
	g_autoptr(HhArchive) a = hh_archive_open(path, &err);
	const char *runs[] = { "p1", "p2" };
	pid_t pid[2];
	sqlite3 *db;
	sqlite3_stmt *st;

	g_assert_no_error(err);
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		g_assert_cmpint(pid[i], >=, 0);
		if (pid[i] == 0)
			writer_process(path, runs[i]);
	}
	/* A reader the whole time: never blocked, never an error. */
	for (int busy = 2; busy;) {
		g_autoptr(GPtrArray) r = hh_archive_runs(a, &err);

		g_assert_no_error(err);
		g_assert_nonnull(r);
		busy = 0;
		for (int i = 0; i < 2; i++) {
			int status;

			if (pid[i] && waitpid(pid[i], &status, WNOHANG) == pid[i]) {
				g_assert_true(WIFEXITED(status));
				g_assert_cmpint(WEXITSTATUS(status), ==, 0);
				pid[i] = 0;
			}
			busy += pid[i] != 0;
		}
		g_usleep(2000);
	}
	for (int i = 0; i < 2; i++) {
		g_autoptr(GPtrArray) cells = hh_archive_cells(a, runs[i], &err);
		g_autoptr(HhArchiveRun) r = hh_archive_run(a, runs[i], &err);

		g_assert_no_error(err);
		g_assert_cmpuint(cells->len, ==, 2 * CELLS_PER_WRITER);
		g_assert_true(r->complete);
		g_assert_cmpuint(r->failed, ==, 2 * ((CELLS_PER_WRITER + 6) / 7));
	}
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	g_assert_cmpstr((const char *)sqlite3_column_text(st, 0), ==, "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
	g_clear_pointer(&a, hh_archive_close);
	hh_rm_rf(dir, NULL);
}

/* An archive written by schema 1 (session 1's harness) opens, migrates
 * and keeps its runs and cells. */
static void test_migrates_v1(void)
{
	g_autofree char *dir = NULL, *path = temp_db(&dir);
	g_autoptr(GError) err = NULL;
	g_autoptr(HhArchive) a = NULL;
	g_autoptr(GPtrArray) cells = NULL;
	g_autoptr(HhArchiveRun) r = NULL;
	sqlite3 *db;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db,
		"CREATE TABLE runs (id TEXT PRIMARY KEY, start TEXT NOT NULL,"
		" end TEXT, host TEXT, harness_version TEXT, matrix TEXT,"
		" only TEXT, exclude TEXT, repeat INTEGER NOT NULL DEFAULT 1,"
		" complete INTEGER NOT NULL DEFAULT 0);"
		"CREATE TABLE kernels (run_id TEXT NOT NULL REFERENCES runs(id)"
		" ON DELETE CASCADE, name TEXT NOT NULL, release TEXT,"
		" cache_key TEXT, source_identity TEXT, patches INTEGER,"
		" PRIMARY KEY (run_id, name));"
		"CREATE TABLE cells (run_id TEXT NOT NULL REFERENCES runs(id)"
		" ON DELETE CASCADE, name TEXT NOT NULL, kernel TEXT,"
		" variant TEXT, scenario TEXT, status TEXT NOT NULL, reason TEXT,"
		" phase TEXT, boot TEXT, boot_ms INTEGER, total_ms INTEGER,"
		" expected_crash INTEGER, dir TEXT, PRIMARY KEY (run_id, name));"
		"CREATE TABLE crashes (run_id TEXT NOT NULL, cell TEXT NOT NULL,"
		" title TEXT NOT NULL, FOREIGN KEY (run_id, cell) REFERENCES"
		" cells(run_id, name) ON DELETE CASCADE);"
		"INSERT INTO runs (id, start, matrix, complete) VALUES"
		" ('old', '2026-01-01', 'm', 1);"
		"INSERT INTO cells (run_id, name, status, total_ms) VALUES"
		" ('old', 'k/v/s', 'fail', 5);"
		"PRAGMA user_version = 1;", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	a = hh_archive_open(path, &err);
	g_assert_no_error(err);
	r = hh_archive_run(a, "old", &err);
	g_assert_no_error(err);
	g_assert_true(r->complete);
	g_assert_null(r->label);
	cells = hh_archive_cells(a, "old", &err);
	g_assert_cmpuint(cells->len, ==, 1);
	g_assert_cmpstr(((HhArchiveCell *)cells->pdata[0])->status, ==, "fail");
	g_assert_null(((HhArchiveCell *)cells->pdata[0])->failed_step);
	g_clear_pointer(&a, hh_archive_close);
	hh_rm_rf(dir, NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/archive/cells-committed-as-they-come", test_write_and_read_back);
	g_test_add_func("/archive/newer-schema-refused", test_newer_schema_refused);
	g_test_add_func("/archive/reopen-keeps-schema", test_reopen_keeps_schema);
	g_test_add_func("/archive/prune-never-removes-the-baseline", test_prune_keeps_baseline);
	g_test_add_func("/archive/two-processes-two-threads-each", test_concurrent_writers);
	g_test_add_func("/archive/migrates-schema-1", test_migrates_v1);
	return g_test_run();
}
