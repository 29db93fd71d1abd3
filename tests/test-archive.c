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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/archive/cells-committed-as-they-come", test_write_and_read_back);
	g_test_add_func("/archive/newer-schema-refused", test_newer_schema_refused);
	g_test_add_func("/archive/reopen-keeps-schema", test_reopen_keeps_schema);
	g_test_add_func("/archive/prune-never-removes-the-baseline", test_prune_keeps_baseline);
	return g_test_run();
}
