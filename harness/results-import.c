/* SPDX-License-Identifier: GPL-2.0-or-later */
/* results import (results-import.h): shards merged into one run. */
#include "config.h"

#include "results-import.h"
#include "archive.h"
#include "hh-error.h"
#include "report.h"
#include "result.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	char *results;		/* its results directory */
	char *run_id;
	HhArchive *archive;
	HhArchiveRun *run;
	GPtrArray *cells;	/* HhArchiveCell* */
	GPtrArray *kernels;	/* HhArchiveKernel* */
} Source;

static void source_free(gpointer p)
{
	Source *s = p;

	g_free(s->results);
	g_free(s->run_id);
	if (s->cells)
		g_ptr_array_unref(s->cells);
	if (s->kernels)
		g_ptr_array_unref(s->kernels);
	hh_archive_run_free(s->run);
	hh_archive_close(s->archive);
	g_free(s);
}

/* DIR with archive.sqlite (its newest run), or DIR/RUN with run.json. */
static Source *open_source(const char *arg, GError **error)
{
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(source_free);
	Source *s = g_new0(Source, 1);
	g_autofree char *runjson = g_build_filename(arg, "run.json", NULL);
	g_autofree char *db = NULL;

	g_ptr_array_add(keep, s);
	if (g_file_test(runjson, G_FILE_TEST_IS_REGULAR)) {
		s->results = g_path_get_dirname(arg);
		s->run_id = g_path_get_basename(arg);
	} else {
		s->results = g_strdup(arg);
	}
	db = g_build_filename(s->results, "archive.sqlite", NULL);
	if (!g_file_test(db, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "%s: no archive.sqlite there (give the --results "
			    "directory of a shard's run, or RESULTS/RUN)", arg);
		return NULL;
	}
	s->archive = hh_archive_open(db, error);
	if (!s->archive)
		return NULL;
	if (!s->run_id)
		s->run_id = hh_archive_newest_run(s->archive, error);
	if (!s->run_id)
		return NULL;
	s->run = hh_archive_run(s->archive, s->run_id, error);
	s->cells = s->run ? hh_archive_cells(s->archive, s->run_id, error) :
			    NULL;
	s->kernels = s->cells ? hh_archive_kernels(s->archive, s->run_id,
						   error) : NULL;
	if (!s->kernels)
		return NULL;
	g_ptr_array_steal_index(keep, 0);
	return s;
}

/* A file copied (a hard link when both sides share a filesystem). */
static gboolean copy_file(const char *from, const char *to, GError **error)
{
	g_autoptr(GFile) f = NULL, t = NULL;

	if (link(from, to) == 0)
		return TRUE;
	f = g_file_new_for_path(from);
	t = g_file_new_for_path(to);
	return g_file_copy(f, t, G_FILE_COPY_OVERWRITE | G_FILE_COPY_NOFOLLOW_SYMLINKS,
			   NULL, NULL, NULL, error);
}

static gboolean copy_tree(const char *from, const char *to, GError **error)
{
	g_autoptr(GDir) d = g_dir_open(from, 0, error);
	const char *name;

	if (!d || !hh_mkdir_p(to, 0755, error))
		return FALSE;
	while ((name = g_dir_read_name(d))) {
		g_autofree char *a = g_build_filename(from, name, NULL);
		g_autofree char *b = g_build_filename(to, name, NULL);

		if (g_file_test(a, G_FILE_TEST_IS_SYMLINK))
			continue;
		if (g_file_test(a, G_FILE_TEST_IS_DIR) ?
		    !copy_tree(a, b, error) : !copy_file(a, b, error))
			return FALSE;
	}
	return TRUE;
}

/* The cell's directory below its run directory ("KERNEL/VARIANT/LEAF"),
 * from the archived path. */
static const char *cell_tail(const HhArchiveCell *c, const char *run_id)
{
	g_autofree char *needle = g_strdup_printf("/%s/", run_id);
	const char *p = c->dir ? strstr(c->dir, needle) : NULL;

	if (p)
		return p + strlen(needle);
	if (c->dir && g_str_has_prefix(c->dir, run_id) &&
	    c->dir[strlen(run_id)] == '/')
		return c->dir + strlen(run_id) + 1;
	return NULL;
}

static gboolean check_sources(GPtrArray *sources, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	Source *first = sources->pdata[0];

	for (guint i = 0; i < sources->len; i++) {
		Source *s = sources->pdata[i];

		if (g_strcmp0(s->run->matrix, first->run->matrix) != 0) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "%s/%s ran matrix %s but %s/%s ran %s: "
				    "shards of one run share a matrix",
				    s->results, s->run_id, s->run->matrix,
				    first->results, first->run_id,
				    first->run->matrix);
			return FALSE;
		}
		for (guint k = 0; k < s->cells->len; k++) {
			HhArchiveCell *c = s->cells->pdata[k];
			const char *other = g_hash_table_lookup(seen, c->name);

			if (other) {
				g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
					    "cell %s is in %s and in %s: were "
					    "they run with the same --shard?",
					    c->name, other, s->results);
				return FALSE;
			}
			g_hash_table_insert(seen, c->name, s->results);
		}
	}
	return TRUE;
}

/* run.json of the merged run, from the archive (as `run` writes it). */
static gboolean write_run_json(HhArchive *a, const char *run_id,
			       const char *dir, GPtrArray *sources,
			       GError **error)
{
	g_autoptr(HhArchiveRun) r = hh_archive_run(a, run_id, error);
	g_autoptr(GPtrArray) cells = r ? hh_archive_cells(a, run_id, error) :
					 NULL;
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *path = g_build_filename(dir, "run.json", NULL);
	g_autoptr(GHashTable) counts = g_hash_table_new(g_str_hash,
							g_str_equal);

	if (!cells)
		return FALSE;
	json_builder_begin_object(b);
	hh_json_set_string(b, "id", run_id);
	hh_json_set_string(b, "start", r->start);
	hh_json_set_string(b, "end", r->end);
	hh_json_set_string(b, "harness_version", r->version);
	hh_json_set_string(b, "host", r->host);
	hh_json_set_string(b, "matrix", r->matrix);
	json_builder_set_member_name(b, "complete");
	json_builder_add_boolean_value(b, r->complete);
	json_builder_set_member_name(b, "imported_from");
	json_builder_begin_array(b);
	for (guint i = 0; i < sources->len; i++) {
		Source *s = sources->pdata[i];
		g_autofree char *from = g_build_filename(s->results, s->run_id,
							 NULL);

		json_builder_add_string_value(b, from);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "cells");
	json_builder_begin_array(b);
	for (guint i = 0; i < cells->len; i++) {
		HhArchiveCell *c = cells->pdata[i];

		json_builder_begin_object(b);
		hh_json_set_string(b, "name", c->name);
		hh_json_set_string(b, "status", c->status);
		hh_json_set_string(b, "host", c->host);
		json_builder_end_object(b);
		g_hash_table_insert(counts, c->status, GUINT_TO_POINTER(
			GPOINTER_TO_UINT(g_hash_table_lookup(counts,
							     c->status)) + 1));
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "counts");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "total");
	json_builder_add_int_value(b, cells->len);
	for (int v = HH_V_PASS; v <= HH_V_ERROR; v++) {
		json_builder_set_member_name(b, hh_verdict_name(v));
		json_builder_add_int_value(b, GPOINTER_TO_UINT(
			g_hash_table_lookup(counts, hh_verdict_name(v))));
	}
	json_builder_end_object(b);
	json_builder_end_object(b);
	return hh_write_json(path, b, TRUE, error);
}

/* The merged run in the archive: begun, kernels, then each cell as its
 * files land (a cell in the archive always has its files). */
static gboolean import_cells(HhArchive *into, const char *results,
			     const char *run_id, GPtrArray *sources,
			     gboolean quiet, GError **error)
{
	g_autoptr(GHashTable) kernels = g_hash_table_new(g_str_hash,
							 g_str_equal);
	guint n = 0;

	for (guint i = 0; i < sources->len; i++) {
		Source *s = sources->pdata[i];

		for (guint k = 0; k < s->kernels->len; k++) {
			HhArchiveKernel *ak = s->kernels->pdata[k];

			if (!g_hash_table_add(kernels, ak->name))
				continue;
			if (!hh_archive_kernel(into, run_id, ak, error))
				return FALSE;
		}
		for (guint k = 0; k < s->cells->len; k++) {
			HhArchiveCell *c = s->cells->pdata[k];
			const char *tail = cell_tail(c, s->run_id);
			g_autofree char *from = NULL, *to = NULL;
			HhArchiveCell copy = *c;

			if (!tail) {
				g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
					    "%s: cell %s's directory %s is not "
					    "under its run", s->results,
					    c->name, c->dir ? c->dir : "(none)");
				return FALSE;
			}
			from = g_build_filename(s->results, s->run_id, tail,
						NULL);
			to = g_build_filename(results, run_id, tail, NULL);
			if (g_file_test(from, G_FILE_TEST_IS_DIR) &&
			    !copy_tree(from, to, error)) {
				g_prefix_error(error, "copying %s: ", from);
				return FALSE;
			}
			copy.dir = to;
			if (!hh_archive_cell(into, run_id, &copy, error))
				return FALSE;
			n++;
		}
		if (!quiet)
			fprintf(stderr, "imported %u cell(s) of %s/%s\n",
				s->cells->len, s->results, s->run_id);
	}
	return TRUE;
}

char *hh_results_import(const char *into, const char *const *args,
			gboolean quiet, GError **error)
{
	g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func(
		source_free);
	g_autoptr(HhArchive) a = NULL;
	g_autofree char *db = g_build_filename(into, "archive.sqlite", NULL);
	g_autofree char *run_id = hh_run_new_id();
	g_autofree char *run_dir = g_build_filename(into, run_id, NULL);
	g_autofree char *start = NULL, *end = NULL, *latest = NULL;
	g_autoptr(GPtrArray) planned = g_ptr_array_new();
	g_autoptr(GString) hosts = g_string_new(NULL);
	gboolean complete = TRUE;
	Source *first;
	HhArchiveRun r;

	for (guint i = 0; args[i]; i++) {
		Source *s = open_source(args[i], error);

		if (!s)
			return NULL;
		g_ptr_array_add(sources, s);
	}
	if (!sources->len) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "results import needs the results directories of "
			    "the shards");
		return NULL;
	}
	if (!check_sources(sources, error))
		return NULL;
	first = sources->pdata[0];
	for (guint i = 0; i < sources->len; i++) {
		Source *s = sources->pdata[i];

		if (!start || strcmp(s->run->start, start) < 0) {
			g_free(start);
			start = g_strdup(s->run->start);
		}
		if (s->run->end && (!end || strcmp(s->run->end, end) > 0)) {
			g_free(end);
			end = g_strdup(s->run->end);
		}
		complete = complete && s->run->complete;
		for (guint k = 0; s->run->planned && s->run->planned[k]; k++)
			g_ptr_array_add(planned, s->run->planned[k]);
		if (!strstr(hosts->str, s->run->host ? s->run->host : "?"))
			g_string_append_printf(hosts, "%s%s",
					       hosts->len ? " " : "",
					       s->run->host ? s->run->host : "?");
	}
	g_ptr_array_add(planned, NULL);
	if (!hh_mkdir_p(run_dir, 0755, error))
		return NULL;
	a = hh_archive_open(db, error);
	if (!a)
		return NULL;
	r = (HhArchiveRun){
		.id = run_id, .start = start, .host = hosts->str,
		.version = first->run->version, .matrix = first->run->matrix,
		.only = first->run->only, .exclude = first->run->exclude,
		.repeat = first->run->repeat, .label = first->run->label,
		.planned = (char **)planned->pdata,
	};
	if (!hh_archive_run_begin(a, &r, error) ||
	    !import_cells(a, into, run_id, sources, quiet, error) ||
	    !hh_archive_run_end(a, run_id, end ? end : start, complete, error) ||
	    !write_run_json(a, run_id, run_dir, sources, error))
		return NULL;
	latest = g_build_filename(into, "latest", NULL);
	unlink(latest);
	if (symlink(run_id, latest) < 0 && !quiet)
		fprintf(stderr, "note: cannot link %s\n", latest);
	return g_steal_pointer(&run_id);
}
