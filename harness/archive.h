/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_ARCHIVE_H
#define HH_ARCHIVE_H

#include <glib.h>

/*
 * The results archive: an SQLite database (results/archive.sqlite by
 * default; schema in docs/results.md, versioned with PRAGMA user_version
 * and migrated on open).  A run is written as it goes: each finished cell
 * is committed at once, so a run killed half way keeps its finished cells
 * and stays marked incomplete.
 */
typedef struct _HhArchive HhArchive;

typedef struct {
	char *id;
	char *start;
	char *end;		/* NULL while running */
	char *host;
	char *version;
	char *matrix;
	char **only;		/* the run's selection, to resume it */
	char **exclude;
	guint repeat;
	char *label;		/* "nightly", or NULL */
	char **planned;		/* every cell name the run set out to run */
	gboolean complete;
	guint cells;		/* counted from the cells table */
	guint failed;		/* fail, crash, timeout, error */
} HhArchiveRun;

typedef struct {
	char *name;		/* kernel/variant/scenario */
	char *kernel;
	char *variant;
	char *scenario;
	char *status;
	char *reason;
	char *phase;
	char *boot;
	char *dir;
	gint64 boot_ms;
	gint64 steps_ms;
	gint64 shutdown_ms;
	gint64 total_ms;
	char *failed_step;	/* "line L: TEXT", or NULL */
	gboolean expected_crash;
	GPtrArray *crashes;	/* titles (char*) */
	char *host;		/* the machine that ran it */
	gint64 start_ms;	/* wall clock, Unix milliseconds; 0 unknown */
	guint lost_attempts;	/* tries lost with their host */
} HhArchiveCell;

typedef struct {
	char *name;
	char *release;
	char *cache_key;
	char *identity;		/* source: tarball SHA-256, git HEAD, ... */
	guint patches;
	char *series_hash;	/* SHA-256 of the series' patches, or NULL */
	char *config_hash;	/* SHA-256 of the final .config */
} HhArchiveKernel;

/* One past verdict of a cell (or of one of its repeats). */
typedef struct {
	char *run_id;
	char *start;
	char *status;
	gboolean expected_crash;
	char *cell;		/* its name ("NAME~N" for a repeat) */
} HhArchiveHistory;

void hh_archive_run_free(HhArchiveRun *r);
void hh_archive_kernel_free(HhArchiveKernel *k);
void hh_archive_history_free(HhArchiveHistory *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhArchiveKernel, hh_archive_kernel_free)
void hh_archive_cell_free(HhArchiveCell *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhArchiveRun, hh_archive_run_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhArchiveCell, hh_archive_cell_free)

HhArchive *hh_archive_open(const char *path, GError **error);
void hh_archive_close(HhArchive *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhArchive, hh_archive_close)

#define HH_ARCHIVE_SCHEMA 3

gboolean hh_archive_run_begin(HhArchive *a, const HhArchiveRun *run,
			      GError **error);
gboolean hh_archive_run_end(HhArchive *a, const char *run_id,
			    const char *end, gboolean complete,
			    GError **error);
gboolean hh_archive_kernel(HhArchive *a, const char *run_id,
			   const HhArchiveKernel *k, GError **error);
gboolean hh_archive_cell(HhArchive *a, const char *run_id,
			 const HhArchiveCell *cell, GError **error);

/* One run, or NULL (with an error saying so) if the archive lacks it. */
HhArchiveRun *hh_archive_run(HhArchive *a, const char *run_id,
			     GError **error);

/*
 * Forgets runs: all but the newest keep ones (keep 0: no limit) and, if
 * before is not NULL, those that started before it (ISO 8601).  The newest
 * complete run of each matrix and label is never removed: it is the
 * baseline later runs of that kind compare with.  Returns the ids removed (their result directories are the
 * caller's).
 */
GPtrArray *hh_archive_prune(HhArchive *a, guint keep, const char *before,
			    GError **error);


/* The id of the newest run, or NULL with an error if there is none. */
char *hh_archive_newest_run(HhArchive *a, GError **error);

/* Runs, newest first; cells of a run in name order. */
GPtrArray *hh_archive_runs(HhArchive *a, GError **error);
GPtrArray *hh_archive_cells(HhArchive *a, const char *run_id,
			    GError **error);
GPtrArray *hh_archive_kernels(HhArchive *a, const char *run_id,
			      GError **error);

/*
 * Every cell's verdicts in the newest max_runs runs of matrix (NULL: any)
 * that started at or before before (NULL: any time), in one query: base
 * cell name (repeats folded in) -> GPtrArray of HhArchiveHistory*, newest
 * first.  For reports and comparisons of whole runs: their cost grows
 * with the cells and runs read, not with cells times the archive.
 */
GHashTable *hh_archive_histories(HhArchive *a, const char *matrix,
				 const char *before, guint max_runs,
				 GError **error);

#endif
