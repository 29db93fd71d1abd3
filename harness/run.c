/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run engine (run.h): builds what the matrix needs (cached), then boots
 * every cell kernel x variant x scenario, -j at a time, printing KTAP on
 * stdout and progress on stderr.
 *
 * Matrix files are key files:
 *   [matrix]
 *   kernels=stock            names of [kernel NAME] groups below
 *   variants=mem2g-x         names or globs of variant files in configs/variants
 *   scenarios=NAME           names or globs of scenario files in configs/scenarios
 *   [kernel stock]
 *   source=default           a tarball or tree; default: linux-source-6.1
 *   patches=none             a patch directory, or none
 */
#include "config.h"

#include "run.h"
#include "cell.h"
#include "commands.h"
#include "hh-error.h"
#include "hosts.h"
#include "image.h"
#include "initramfs.h"
#include "kbuild.h"
#include "kconfig.h"
#include "matrix.h"
#include "scheduler.h"
#include "snapshot.h"
#include "agent-client.h"
#include "archive.h"
#include "paths.h"
#include "report.h"
#include "spawn.h"
#include "util.h"

#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct {
	HhMatrixKernel *def;
	HhKernelBuild *build;
	GHashTable *kconfig;
} Kernel;

typedef struct _Group Group;

typedef struct {
	HhCellSpec spec;
	HhCellResult *result;
	guint index;
	HhCost cost;
	Group *group;		/* its snapshot group, or NULL (cold) */
	GPtrArray *attempts;	/* char*: tries lost with their host */
	Group *boots;		/* not a cell: boots and saves this group,
				 * then queues its cells */
} Job;

typedef struct {
	HhMatrix *matrix;
	GPtrArray *kernels;	/* Kernel* */
	GPtrArray *jobs;	/* Job* */
	HhScheduler *sched;
	gboolean keep_going;
	GMutex lock;
	guint started;
	guint done;
	guint next_print;
	guint counts[HH_V_ERROR + 1];
	guint expected_crashes;
	gboolean tty;
	gint64 t0;
	HhArchive *archive;	/* NULL if it could not be opened */
	gboolean resuming;	/* the run is already in the archive */
	gboolean all_lost;	/* every host went away */
	char *run_id;
	GHashTable *prebuilt;	/* kernel name -> O= build directory */
	HhVmBackend *backend;	/* one host: its backend; several: the
				 * first host's, not owned */
	GPtrArray *hosts;	/* HhHost*, or NULL for one host */
	const char *hosts_file;	/* for the re-run and resume commands */
	GThread *watcher;	/* brings lost hosts back */
	gint finished;		/* atomic: the watcher stops */
	char *storage_error;	/* results could not be written: stop */
	HhVmPool *vm_pool;	/* guests started ahead, or NULL */
	gint64 archive_us;	/* spent writing cells to the archive */
	const HhSuppressions *sup;
	GPtrArray *boot_jobs;	/* Job* that boot groups (one host) */
	HhCost budget;
	GHashTable *images;	/* "ROOTFS\nSOURCE" -> HhImage* (distro) */
} Run;

static void kernel_free(gpointer p)
{
	Kernel *k = p;

	hh_kernel_build_free(k->build);
	if (k->kconfig)
		g_hash_table_unref(k->kconfig);
	g_free(k);
}

static void job_free(gpointer p)
{
	Job *j = p;

	g_free(j->spec.name);
	g_free(j->spec.dir);
	g_free(j->spec.rerun);
	g_free(j->spec.initrd);
	g_free(j->spec.vm_name);
	hh_cell_result_free(j->result);
	if (j->attempts)
		g_ptr_array_unref(j->attempts);
	g_free(j);
}

/* A kernel that boots a distro image merges configs/kernel/distro.config;
 * the others stay as small as before. */
static gboolean kernel_boots_images(GPtrArray *cells, HhMatrixKernel *def)
{
	for (guint i = 0; i < cells->len; i++) {
		HhMatrixCell *c = cells->pdata[i];

		if (c->kernel == def && c->variant->rootfs)
			return TRUE;
	}
	return FALSE;
}

static char *image_key(const HhMatrixCell *c)
{
	return g_strdup_printf("%s\n%s", c->variant->rootfs,
			       c->kernel->spec.source ? c->kernel->spec.source :
							HH_DEFAULT_KERNEL_SOURCE);
}

/* The images of the cells' rootfs= variants: "debian" built (or found in
 * the cache) with the selftests of the cell's kernel source, a path
 * opened as made by 'image build' or 'image import'. */
static gboolean prepare_images(Run *run, GPtrArray *cells, gboolean quiet,
			       GError **error)
{
	for (guint i = 0; i < cells->len; i++) {
		HhMatrixCell *c = cells->pdata[i];
		g_autofree char *key = NULL;
		HhImage *img;

		if (!c->variant->rootfs)
			continue;
		key = image_key(c);
		if (g_hash_table_contains(run->images, key))
			continue;
		if (g_str_equal(c->variant->rootfs, "debian")) {
			HhImageSpec spec = {
				.kernel_source = c->kernel->spec.source,
				.quiet = quiet,
			};

			img = hh_image_build(&spec, error);
		} else {
			g_autofree char *path = hh_resolve_config(
				c->variant->rootfs);

			img = hh_image_open(path, error);
		}
		if (!img) {
			g_prefix_error(error, "variant %s: ", c->variant->name);
			return FALSE;
		}
		fprintf(stderr, "image %s: %s %s (%.1f s)\n", c->variant->rootfs,
			img->cached ? "cached" : "built", img->path,
			img->seconds);
		g_hash_table_insert(run->images, g_steal_pointer(&key), img);
	}
	return TRUE;
}

static gboolean kernel_used(GPtrArray *cells, HhMatrixKernel *def)
{
	for (guint i = 0; i < cells->len; i++) {
		if (((HhMatrixCell *)cells->pdata[i])->kernel == def)
			return TRUE;
	}
	return FALSE;
}

/* A kernel built elsewhere (bisect, a developer's tree): DIR is its O=
 * directory, with arch/x86/boot/bzImage, .config and
 * include/config/kernel.release. */
static HhKernelBuild *prebuilt_kernel(const char *name, const char *dir,
				      GError **error)
{
	g_autoptr(HhKernelBuild) b = g_new0(HhKernelBuild, 1);
	g_autofree char *rel = g_build_filename(dir, "include", "config",
						"kernel.release", NULL);
	g_autofree char *hash = NULL;

	b->dir = g_canonicalize_filename(dir, NULL);
	b->bzimage = g_build_filename(b->dir, "arch", "x86", "boot", "bzImage",
				      NULL);
	b->config = g_build_filename(b->dir, ".config", NULL);
	if (!g_file_test(b->bzimage, G_FILE_TEST_IS_REGULAR) ||
	    !g_file_test(b->config, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--kernel-build %s=%s: no arch/x86/boot/bzImage and "
			    ".config there (give the O= directory of a finished "
			    "x86_64 build)", name, dir);
		return NULL;
	}
	if (g_file_get_contents(rel, &b->release, NULL, NULL))
		g_strstrip(b->release);
	else
		b->release = g_strdup("unknown");
	hash = hh_sha256_file(b->bzimage, NULL);
	b->key = g_strdup_printf("prebuilt-%.16s", hash ? hash : "unreadable");
	b->source_identity = g_strdup_printf("prebuilt:%s", b->dir);
	b->cached = TRUE;
	return g_steal_pointer(&b);
}

/* Builds (or finds) the kernels the selected cells use, in matrix order. */
static gboolean build_kernels(Run *run, GPtrArray *cells, gboolean quiet,
			      GError **error)
{
	for (guint i = 0; i < run->matrix->kernels->len; i++) {
		Kernel *k;

		if (!kernel_used(cells, run->matrix->kernels->pdata[i]))
			continue;
		k = g_new0(Kernel, 1);
		k->def = run->matrix->kernels->pdata[i];
		k->def->spec.quiet = quiet;
		k->def->spec.distro = kernel_boots_images(cells, k->def);
		g_ptr_array_add(run->kernels, k);
		if (g_hash_table_contains(run->prebuilt, k->def->name)) {
			const char *dir = g_hash_table_lookup(run->prebuilt,
							      k->def->name);

			k->build = prebuilt_kernel(k->def->name, dir, error);
			if (!k->build)
				return FALSE;
			fprintf(stderr, "kernel %s: prebuilt %s in %s\n",
				k->def->name, k->build->release, k->build->dir);
		} else {
			k->build = hh_kernel_build(&k->def->spec, error);
			if (!k->build)
				return FALSE;
			fprintf(stderr, "kernel %s: %s %s (%.1f s)\n",
				k->def->name,
				k->build->waited ? "built by another process," :
				k->build->cached ? "cached" : "built",
				k->build->release, k->build->seconds);
		}
		k->kconfig = hh_kconfig_load(k->build->config, error);
		if (!k->kconfig)
			return FALSE;
	}
	return TRUE;
}

static Kernel *kernel_of(Run *run, HhMatrixKernel *def)
{
	for (guint i = 0; i < run->kernels->len; i++) {
		Kernel *k = run->kernels->pdata[i];

		if (k->def == def)
			return k;
	}
	g_assert_not_reached();
}

/* What a cell takes from the host: one CPU under single-threaded TCG (its
 * vCPUs under KVM, and under TCG with tcg-threads=multi every CPU it may
 * plug), and its guest RAM plus every DIMM and virtio-mem device it
 * plugs (at its maximum size). */
static HhCost cell_cost(const HhMatrixCell *c, HhAccel accel)
{
	HhCost cost = { accel == HH_ACCEL_KVM ? c->variant->cpus :
			c->variant->tcg_multi ? c->variant->maxcpus : 1,
			c->variant->memory };

	for (guint i = 0; i < c->scenario->steps->len; i++) {
		const HhStep *st = c->scenario->steps->pdata[i];

		if (st->kind == HH_ACT_DIMM_ADD ||
		    st->kind == HH_ACT_VIRTIO_MEM_ADD)
			cost.memory += st->size;
	}
	return cost;
}

static void print_progress(Run *run, Job *j)
{
	HhCellResult *r = j->result;
	gboolean bad = r->verdict > HH_V_SKIP && !r->expected;

	if (run->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "[%u/%u] %-7s %s (%.1f s)%s%s\n", run->done,
		run->jobs->len,
		r->expected ? "xfail" : hh_verdict_name(r->verdict), j->spec.name,
		r->seconds, r->reason ? ": " : "", r->reason ? r->reason : "");
	if (bad)
		fprintf(stderr, "        results: %s\n        re-run:  %s\n",
			j->spec.dir, j->spec.rerun);
	if (run->tty) {
		gint64 el = hh_now_ms() - run->t0;
		guint left = run->jobs->len - run->done;
		double eta = run->done ? el / 1000.0 / run->done * left : 0;

		fprintf(stderr, "done %u/%u, running %u, failed %u, ETA %.0f s",
			run->done, run->jobs->len, run->started - run->done,
			run->counts[HH_V_FAIL] + run->counts[HH_V_CRASH] +
				run->counts[HH_V_TIMEOUT] + run->counts[HH_V_ERROR],
			eta);
	}
	fflush(stderr);
}

/* KTAP lines in cell order, as soon as all earlier cells are done. */
static void print_ktap(Run *run)
{
	while (run->next_print < run->jobs->len) {
		Job *j = run->jobs->pdata[run->next_print];
		HhCellResult *r = j->result;

		if (!r)
			break;
		run->next_print++;
		/* KTAP and progress may share one terminal. */
		if (run->tty && isatty(1))
			fputs("\r\033[K", stderr);
		if (r->verdict == HH_V_PASS)
			printf("ok %u %s\n", j->index + 1, j->spec.name);
		else if (r->verdict == HH_V_SKIP)
			printf("ok %u %s # SKIP %s\n", j->index + 1,
			       j->spec.name, r->reason);
		else if (r->expected)
			printf("not ok %u %s # TODO expected crash: %s\n",
			       j->index + 1, j->spec.name, r->reason);
		else
			printf("not ok %u %s # %s%s%s\n", j->index + 1,
			       j->spec.name, hh_verdict_name(r->verdict),
			       r->reason ? ": " : "", r->reason ? r->reason : "");
	}
	fflush(stdout);
}

/* Commits the cell to the archive at once (called under run->lock);
 * FALSE (with why) if the archive could not take it. */
static gboolean archive_cell(Run *run, Job *j, GError **error)
{
	g_autoptr(GError) err = NULL;
	HhArchiveCell c = {
		.name = j->spec.name, .kernel = (char *)j->spec.kernel_name,
		.variant = j->spec.variant->name,
		.scenario = j->spec.scenario->name,
		.status = (char *)hh_verdict_name(j->result->verdict),
		.reason = j->result->reason, .phase = j->result->phase,
		.boot = j->result->boot_mode, .dir = j->spec.dir,
		.boot_ms = j->result->boot_ms,
		.steps_ms = j->result->steps_ms,
		.shutdown_ms = j->result->shutdown_ms,
		.failed_step = j->result->failed_step,
		.total_ms = (gint64)(j->result->seconds * 1000),
		.expected_crash = j->result->expected,
		.crashes = j->result->crashes,
		.host = (char *)hh_cell_host(&j->spec),
		.start_ms = j->result->started_us / 1000,
		.lost_attempts = j->attempts ? j->attempts->len : 0,
	};

	gint64 t0 = g_get_monotonic_time();
	gboolean ok = !run->archive ||
		      hh_archive_cell(run->archive, run->run_id, &c, &err);

	run->archive_us += g_get_monotonic_time() - t0;
	if (!ok) {
		fprintf(stderr, "warning: %s\n", err->message);
		g_propagate_error(error, g_steal_pointer(&err));
		return FALSE;
	}
	return TRUE;
}

/*
 * A cell whose result.json could not be written (the results directory
 * full, or read-only) is not archived, so nothing half-written is
 * reported; the run stops there, keeping what finished before.
 */
static void keep_cell(Run *run, Job *j)
{
	g_autofree char *path = g_build_filename(j->spec.dir, "result.json",
						 NULL);
	g_autoptr(GError) err = NULL;

	if (run->storage_error)
		return;
	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
		run->storage_error = g_strdup_printf(
			"%s could not be written", path);
	else if (!archive_cell(run, j, &err))
		run->storage_error = g_strdup(err->message);
	else
		return;
	hh_scheduler_stop(run->sched);
}

/* A cell that needs more memory than the host has is not started (it
 * would run the host out of memory): a skip saying so. */
static void refuse_job(Run *run, Job *j, HhCost budget)
{
	g_autofree char *need = hh_format_size(j->cost.memory);
	g_autofree char *have = hh_format_size(budget.memory);

	j->result = hh_cell_result_new();
	j->result->verdict = HH_V_SKIP;
	j->result->phase = g_strdup("setup");
	j->result->reason = g_strdup_printf(
		"not run: needs %s of host memory, more than the %s the host "
		"has available (MemAvailable, or HH_MEMORY_BUDGET)", need, have);
	run->started++;
	run->done++;
	run->counts[HH_V_SKIP]++;
	print_progress(run, j);
	archive_cell(run, j, NULL);
}

static gboolean counts_as_failure(const HhCellResult *r)
{
	return r->verdict > HH_V_SKIP && !r->expected;
}

/* Records a finished cell: progress, KTAP, archive (run->lock held). */
static void job_done(Run *run, Job *j, HhCellResult *r)
{
	j->result = r;
	run->done++;
	if (r->expected)
		run->expected_crashes++;
	else
		run->counts[r->verdict]++;
	print_progress(run, j);
	print_ktap(run);
	keep_cell(run, j);
	hh_cell_result_slim(r);
	if (counts_as_failure(r) && !run->keep_going)
		hh_scheduler_stop(run->sched);
}

static void boot_group(Run *run, Group *g);

static void run_job(gpointer data, gpointer user)
{
	Job *j = data;
	Run *run = user;
	HhCellResult *r;

	if (j->boots) {
		boot_group(run, j->boots);
		return;
	}
	g_mutex_lock(&run->lock);
	run->started++;
	g_mutex_unlock(&run->lock);
	r = hh_cell_run(&j->spec);
	g_mutex_lock(&run->lock);
	job_done(run, j, r);
	g_mutex_unlock(&run->lock);
}

/* A cell is given up after this many hosts were lost under it. */
#define MAX_LOST_ATTEMPTS 3

static char *clock_of(gint64 real_us)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(
		real_us / G_USEC_PER_SEC);

	return g_date_time_format(t, "%H:%M:%S");
}

/*
 * The cell's host went away under it (run->lock held): the host is marked
 * lost (said once), the try's files are kept beside the cell's directory,
 * and the cell goes back to the queue for another host.
 */
static void job_lost(Run *run, Job *j, HhHost *h, HhVmBackend *b,
		     HhCellResult *r)
{
	g_autofree char *when = NULL;
	g_autofree char *kept = NULL;

	if (h->backend == b && !h->lost) {
		h->lost = TRUE;
		h->lost_at = g_get_real_time();
	}
	when = clock_of(h->lost_at ? h->lost_at : g_get_real_time());
	if (h->backend == b && h->lost && !h->said_lost) {
		h->said_lost = TRUE;
		hh_scheduler_pool_set_down(run->sched, h->index, TRUE);
		fprintf(stderr, "%shost %s lost at %s, %u cell(s) moved to "
			"other hosts\n", run->tty ? "\r\033[K" : "",
			h->spec->label, when, h->running + 1);
	}
	if (!j->attempts)
		j->attempts = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(j->attempts, g_strdup_printf(
		"host %s lost at %s: %s", h->spec->label, when,
		r->reason ? r->reason : hh_verdict_name(r->verdict)));
	kept = g_strdup_printf("%s.lost-%s-%u", j->spec.dir, h->spec->label,
			       j->attempts->len);
	if (rename(j->spec.dir, kept) < 0)
		fprintf(stderr, "note: cannot keep %s as %s\n", j->spec.dir,
			kept);
	run->started--;
	if (j->attempts->len >= MAX_LOST_ATTEMPTS) {
		g_free(r->reason);
		r->verdict = HH_V_ERROR;
		r->reason = g_strdup_printf("lost with its host %u times (%s)",
					    j->attempts->len,
					    (char *)j->attempts->pdata[0]);
		run->started++;
		job_done(run, j, r);
		return;
	}
	hh_cell_result_free(r);
	hh_scheduler_add_first(run->sched, j, j->cost);
}

static HhSnapshot *job_snapshot(Run *run, Job *j, guint pool);

/* A cell on one of several hosts: that host's connection and snapshot. */
static void run_job_on(gpointer data, guint pool, gpointer user)
{
	Job *j = data;
	Run *run = user;
	HhHost *h = run->hosts->pdata[pool];
	HhVmBackend *b;
	HhCellResult *r;

	g_mutex_lock(&run->lock);
	run->started++;
	h->running++;
	b = h->backend;
	g_mutex_unlock(&run->lock);
	j->spec.backend = b;
	j->spec.host = h->spec->label;
	j->spec.snapshot = job_snapshot(run, j, pool);
	j->spec.attempts = j->attempts;
	r = hh_cell_run(&j->spec);
	/* Not the cell's fault if its host is gone (a call that finds out
	 * waits for the keepalive's verdict on a hung host). */
	if (r->verdict > HH_V_SKIP && !hh_spawn_interrupted() &&
	    !hh_vm_backend_alive(b)) {
		g_mutex_lock(&run->lock);
		h->running--;
		job_lost(run, j, h, b, r);
		g_mutex_unlock(&run->lock);
		return;
	}
	g_mutex_lock(&run->lock);
	h->running--;
	h->ran++;
	job_done(run, j, r);
	g_mutex_unlock(&run->lock);
}

/* Cells the run never started (a signal, or a failure without
 * --keep-going) are skipped, with the reason. */
static void mark_unstarted(Run *run)
{
	for (guint i = 0; i < run->jobs->len; i++) {
		Job *j = run->jobs->pdata[i];

		if (j->result)
			continue;
		j->result = g_new0(HhCellResult, 1);
		j->result->verdict = HH_V_SKIP;
		j->result->reason = g_strdup(hh_spawn_interrupted() ?
			"not run: interrupted" : run->all_lost ?
			"not run: every host was lost (finish with --resume)" :
			run->storage_error ?
			"not run: the results could not be written" :
			"not run after an earlier failure (use --keep-going)");
		run->counts[HH_V_SKIP]++;
	}
	print_ktap(run);
}

/* A domain name an operator can read: hh-<run>-<kernel>-<variant>-<scenario>
 * with every character libvirt or a shell would mind made '-'. */
static char *vm_name(const char *run_id, const char *cell)
{
	g_autofree char *raw = g_strdup_printf("hh-%s-%s", run_id, cell);

	for (char *p = raw; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			*p = '-';
	}
	return g_steal_pointer(&raw);
}

/* The command that re-runs one cell, as the user would type it. */
static char *rerun_command(Run *run, const HhRunOptions *o,
			   const HhMatrixCell *c)
{
	GString *s = g_string_new(NULL);
	const char *prebuilt = g_hash_table_lookup(run->prebuilt,
						   c->kernel->name);

	g_string_append_printf(s, "hotplug-harness run --matrix %s --results %s "
			       "--only '%s'", run->matrix->path, o->results,
			       c->name);
	if (prebuilt)
		g_string_append_printf(s, " --kernel-build %s=%s",
				       c->kernel->name, prebuilt);
	if (o->backend)
		g_string_append_printf(s, " --backend %s", o->backend);
	if (o->connect)
		g_string_append_printf(s, " --connect '%s'", o->connect);
	if (run->hosts_file)
		g_string_append_printf(s, " --hosts '%s'", run->hosts_file);
	return g_string_free(s, FALSE);
}

static void plan_jobs(Run *run, GPtrArray *cells, const HhRunOptions *o,
		      const HhSuppressions *sup, HhAccel accel,
		      const char *initrd)
{
	for (guint i = 0; i < cells->len; i++) {
		HhMatrixCell *c = cells->pdata[i];
		Kernel *ker = kernel_of(run, c->kernel);

		for (guint r = 1; r <= o->repeat; r++) {
			Job *j = g_new0(Job, 1);
			g_autofree char *leaf = hh_repeat_name(c->scenario->name,
							       r, o->repeat);

			j->index = run->jobs->len;
			j->spec.name = hh_repeat_name(c->name, r, o->repeat);
			j->spec.kernel_name = c->kernel->name;
			j->spec.bzimage = ker->build->bzimage;
			j->spec.kconfig = ker->kconfig;
			j->spec.kernel_release = ker->build->release;
			j->spec.initrd = g_strdup(initrd);
			if (c->variant->rootfs) {
				g_autofree char *key = image_key(c);

				j->spec.image = g_hash_table_lookup(run->images,
								    key);
			}
			j->spec.variant = c->variant;
			j->spec.scenario = c->scenario;
			j->spec.suppressions = sup;
			j->spec.backend = run->backend;
			j->spec.vm_name = vm_name(run->run_id, j->spec.name);
			j->spec.accel = accel;
			j->spec.timeouts = o->timeouts;
			j->spec.repeat_index = r;
			j->spec.dir = g_build_filename(o->results, run->run_id,
						       c->kernel->name,
						       c->variant->name, leaf, NULL);
			j->spec.rerun = rerun_command(run, o, c);
			j->cost = cell_cost(c, accel);
			g_ptr_array_add(run->jobs, j);
		}
	}
}

/* Cells that can start from one saved state. */
struct _Group {
	char *key;
	char *cmdline;
	HhVmConfig cfg;
	GPtrArray *jobs;	/* Job*, not owned */
	HhSnapshot *snap;
	HhCost cost;
	const char *label;	/* kernel/variant of the first cell */
	guint boot_timeout_ms;
	GError *error;
	/* several hosts: where its cells belong, and its state on each */
	gint host;
	HhSnapshot **snaps;
	gboolean *tried;	/* a snapshot was attempted on host i */
	guint n_snaps;
	GMutex lock;
	Job *boot_job;		/* one host: the job that boots it */
};

static void make_snapshot_on(gpointer data, guint pool, gpointer user);

/* Several hosts: a group's state on a host it was not placed on (its
 * host was lost, or this one took cells from a long queue), saved there
 * once for the group's cells that follow. */
static HhSnapshot *group_snapshot_on(Run *run, Group *g, guint host)
{
	HhSnapshot *snap;

	g_mutex_lock(&g->lock);
	if (!g->tried[host]) {
		g->tried[host] = TRUE;
		g_clear_error(&g->error);
		make_snapshot_on(g, host, run);
		if (g->snaps[host])
			fprintf(stderr, "%ssnapshot %.12s: saved on host %s too, "
				"for cells moved there\n",
				run->tty ? "\r\033[K" : "", g->key,
				((HhHost *)run->hosts->pdata[host])->spec->label);
	}
	snap = g->snaps[host];
	g_mutex_unlock(&g->lock);
	return snap;
}

static HhSnapshot *job_snapshot(Run *run, Job *j, guint pool)
{
	if (!j->group)
		return NULL;
	return j->group->snaps ? group_snapshot_on(run, j->group, pool) :
				 j->group->snap;
}

static void group_free(gpointer p)
{
	Group *g = p;

	g_free(g->key);
	g_free(g->cmdline);
	g_ptr_array_unref(g->jobs);
	for (guint i = 0; i < g->n_snaps; i++) {
		if (g->snaps[i] != g->snap)
			hh_snapshot_free(g->snaps[i]);
	}
	g_free(g->snaps);
	g_free(g->tried);
	g_mutex_clear(&g->lock);
	hh_snapshot_free(g->snap);
	g_clear_error(&g->error);
	g_free(g);
}

static GPtrArray *group_jobs(Run *run, HhBootMode mode, GError **error)
{
	g_autoptr(GHashTable) by_key = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(group_free);
	GPtrArray *out = g_ptr_array_new_with_free_func(group_free);

	for (guint i = 0; i < run->jobs->len; i++) {
		Job *j = run->jobs->pdata[i];
		g_autofree char *cmdline = NULL, *key = NULL;
		HhVmConfig cfg;
		Group *g;

		g_autofree char *skip = hh_cell_skip_reason(&j->spec);

		/* a skip never boots: no group for it */
		if (j->spec.scenario->cold_boot || skip)
			continue;
		hh_cell_vm_config(&j->spec, &cfg, &cmdline);
		key = hh_snapshot_key(j->spec.backend, &cfg, error);
		if (!key && mode != HH_BOOT_SNAPSHOT &&
		    g_error_matches(*error, HH_ERROR, HH_ERROR_UNSUPPORTED)) {
			fprintf(stderr, "snapshots: %s; every cell boots cold\n",
				(*error)->message);
			g_clear_error(error);
			return out;
		}
		if (!key) {
			g_ptr_array_unref(out);
			return NULL;
		}
		g = g_hash_table_lookup(by_key, key);
		if (!g) {
			g = g_new0(Group, 1);
			g_mutex_init(&g->lock);
			g->key = g_steal_pointer(&key);
			g->cmdline = g_steal_pointer(&cmdline);
			g->cfg = cfg;
			g->cfg.cmdline = g->cmdline;
			g->jobs = g_ptr_array_new();
			g->cost = j->cost;
			g->label = j->spec.name;
			g->boot_timeout_ms = j->spec.timeouts.boot_ms;
			g_hash_table_insert(by_key, g->key, g);
			g_ptr_array_add(groups, g);
		}
		g_ptr_array_add(g->jobs, j);
	}
	for (guint i = 0; i < groups->len; i++) {
		Group *g = groups->pdata[i];

		if (mode != HH_BOOT_SNAPSHOT && g->jobs->len < 2)
			continue;
		for (guint k = 0; k < g->jobs->len; k++)
			((Job *)g->jobs->pdata[k])->group = g;
		g_ptr_array_add(out, g_ptr_array_steal_index(groups, i--));
	}
	return out;
}

/* A pool per host, each as large as the host (several hosts). */
static HhScheduler *new_host_scheduler(Run *run)
{
	HhHost *h0 = run->hosts->pdata[0];
	HhScheduler *s = hh_scheduler_new(h0->budget.cpus, h0->budget);

	for (guint i = 1; i < run->hosts->len; i++) {
		HhHost *h = run->hosts->pdata[i];

		hh_scheduler_add_pool(s, h->budget.cpus, h->budget);
	}
	for (guint i = 0; i < run->hosts->len; i++) {
		HhHost *h = run->hosts->pdata[i];

		if (h->lost)
			hh_scheduler_pool_set_down(s, i, TRUE);
	}
	/* A host with nothing of its own takes another's cells (booting
	 * them cold) only from a long queue: a cold boot costs about ten
	 * restores. */
	hh_scheduler_set_steal_min(s, 10);
	return s;
}

static gint by_size_desc(gconstpointer a, gconstpointer b)
{
	const Group *x = *(Group *const *)a, *y = *(Group *const *)b;

	return (gint)y->jobs->len - (gint)x->jobs->len;
}

/* Several hosts: each group to the host with the least work per CPU
 * (largest groups first), so each host boots its groups once. */
static void place_groups(Run *run, GPtrArray *groups)
{
	g_autofree double *load = g_new0(double, run->hosts->len);
	g_autoptr(GPtrArray) order = g_ptr_array_new();

	for (guint i = 0; i < groups->len; i++)
		g_ptr_array_add(order, groups->pdata[i]);
	g_ptr_array_sort(order, by_size_desc);
	for (guint i = 0; i < order->len; i++) {
		Group *g = order->pdata[i];
		guint best = 0;
		double best_load = G_MAXDOUBLE;

		for (guint h = 0; h < run->hosts->len; h++) {
			HhHost *host = run->hosts->pdata[h];
			double l = (load[h] + g->jobs->len) /
				   MAX(host->budget.cpus, 1);

			if (l < best_load) {
				best = h;
				best_load = l;
			}
		}
		g->host = (gint)best;
		load[best] += g->jobs->len;
		g->n_snaps = run->hosts->len;
		g->snaps = g_new0(HhSnapshot *, g->n_snaps);
		g->tried = g_new0(gboolean, g->n_snaps);
		g->tried[best] = TRUE;
	}
}

static void make_snapshot_on(gpointer data, guint pool, gpointer user)
{
	Group *g = data;
	Run *run = user;
	HhHost *h = run->hosts->pdata[pool];
	g_autofree char *label = g_path_get_dirname(g->label);
	g_autofree char *key = hh_snapshot_key(h->backend, &g->cfg, NULL);

	/* The key as this host's QEMU sees it (versions may differ). */
	g->snaps[pool] = hh_snapshot_get(h->backend, &g->cfg,
					 key ? key : g->key, label,
					 g->boot_timeout_ms, &g->error);
	if (!g->snap)
		g->snap = g->snaps[pool];
}

static void make_snapshot(gpointer data, gpointer user)
{
	Group *g = data;
	const Job *first = g->jobs->pdata[0];

	g_autofree char *label = g_path_get_dirname(g->label);

	g->snap = hh_snapshot_get(first->spec.backend, &g->cfg, g->key, label,
				  g->boot_timeout_ms, &g->error);
}

/* A group booted and saved (or found in the cache), or not: says so, and
 * gives its cells the snapshot (or leaves them to boot cold). */
static void group_ready(Run *run, Group *g, const HhSuppressions *sup)
{
	g_autoptr(GPtrArray) crashes = NULL;

	if (!g->snap && hh_spawn_interrupted())
		return;
	if (!g->snap) {
		fprintf(stderr, "snapshot for %s's group failed, its %u "
			"cell(s) boot cold: %s\n", g->label, g->jobs->len,
			g->error ? g->error->message : "interrupted");
		return;
	}
	if (g->snap->created)
		fprintf(stderr, "snapshot %.12s: %u cell(s) like %s; booted "
			"in %.1f s, saved %.1f MB in %u ms%s\n",
			g->key, g->jobs->len, g->label,
			g->snap->boot_ms / 1000.0,
			(g->snap->state_bytes + g->snap->ram_bytes) / 1e6,
			g->snap->save_ms, g->snap->ram_files ?
			" (RAM in files, mapped by each cell)" : "");
	/* A splat while the group booted is said once, here; every cell of
	 * the group sees it in its log and fails. */
	crashes = hh_kmsg_records_scan(g->snap->records, sup);
	for (guint c = 0; c < crashes->len; c++) {
		HhCrash *k = crashes->pdata[c];

		if (!k->suppressed_by)
			fprintf(stderr, "snapshot %.12s: the kernel reported "
				"'%s' while booting; the group's %u cell(s) "
				"will fail\n", g->key, k->title, g->jobs->len);
	}
	for (guint j = 0; j < g->jobs->len; j++)
		((Job *)g->jobs->pdata[j])->spec.snapshot = g->snap;
	/* What the warm pool starts: the group's machine on the snapshot's
	 * RAM. */
	if (g->snap->ram_files)
		g->cfg.ram_dir = g->snap->dir;
}

/* Boots each group once and saves it (or finds it in the cache); the cells
 * of a group that could not be saved boot cold. */
static void prepare_snapshots(Run *run, GPtrArray *groups, guint max_jobs,
			      const HhSuppressions *sup)
{
	g_autoptr(HhScheduler) sched = NULL;
	gint64 t0 = hh_now_ms();

	if (run->hosts) {
		place_groups(run, groups);
		sched = new_host_scheduler(run);
	} else {
		sched = hh_scheduler_new(max_jobs, hh_host_budget());
	}
	for (guint i = 0; i < groups->len; i++) {
		Group *g = groups->pdata[i];

		hh_scheduler_add_to(sched, g, g->cost,
				    run->hosts ? g->host : HH_POOL_ANY);
	}
	if (run->hosts)
		hh_scheduler_run_pools(sched, make_snapshot_on, run);
	else
		hh_scheduler_run(sched, make_snapshot, run);
	for (guint i = 0; i < groups->len; i++)
		group_ready(run, groups->pdata[i], sup);
	if (groups->len)
		fprintf(stderr, "snapshots: %u group(s) ready in %.1f s\n",
			groups->len, (hh_now_ms() - t0) / 1000.0);
}

/*
 * One host: a group boots as a job of the run's scheduler, beside other
 * groups' cells, and its cells go to the front of the queue the moment
 * its state is saved (with guests started ahead for them, vm-pool.h); a
 * group that could not be saved queues its cells to boot cold.
 */
static void boot_group(Run *run, Group *g)
{
	make_snapshot(g, run);
	if (hh_spawn_interrupted())
		return;
	group_ready(run, g, run->sup);
	/* Not for distro cells: each has its own disk overlay on the
	 * group's, made when the cell starts. */
	for (guint i = 0; run->vm_pool && g->snap && !g->cfg.image &&
			  i < g->jobs->len; i++) {
		Job *j = g->jobs->pdata[i];

		hh_vm_pool_expect(run->vm_pool, g->snap->key, &g->cfg, 1);
		j->spec.pool = run->vm_pool;
	}
	hh_vm_pool_fill(run->vm_pool);
	for (guint i = g->jobs->len; i-- > 0;) {
		Job *j = g->jobs->pdata[i];

		if (j->cost.memory > run->budget.memory) {
			g_mutex_lock(&run->lock);
			refuse_job(run, j, run->budget);
			g_mutex_unlock(&run->lock);
		} else {
			hh_scheduler_add_first(run->sched, j, j->cost);
		}
	}
}

/* The job that boots g (one host), queued where its first cell was. */
static Job *boot_job(Run *run, Group *g)
{
	Job *j = g_new0(Job, 1);

	j->boots = g;
	j->cost = g->cost;
	g->boot_job = j;
	g_ptr_array_add(run->boot_jobs, j);
	return j;
}

static void stop_warm_pool(Run *run, gboolean quiet)
{
	guint started, taken, wasted;

	if (!run->vm_pool)
		return;
	hh_vm_pool_counts(run->vm_pool, &started, &taken, &wasted);
	g_clear_pointer(&run->vm_pool, hh_vm_pool_free);
	if (!quiet)
		fprintf(stderr, "warm pool: %u guest(s) started ahead, %u "
			"taken by cells, %u unused\n", started, taken, wasted);
}

/*
 * --resume RUN: the archived run's matrix (unless --matrix says otherwise)
 * and the names of the cells it already has.
 */
static GHashTable *resume_plan(const char *results, const char *run_id,
			       char **matrix, char ***only, char ***exclude,
			       gint *repeat, GError **error)
{
	g_autofree char *path = g_build_filename(results, "archive.sqlite", NULL);
	g_autoptr(HhArchive) a = hh_archive_open(path, error);
	g_autoptr(HhArchiveRun) r = a ? hh_archive_run(a, run_id, error) : NULL;
	g_autoptr(GPtrArray) cells = r ? hh_archive_cells(a, run_id, error) :
					 NULL;
	GHashTable *done;

	if (!cells)
		return NULL;
	if (r->complete) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "run '%s' is complete: nothing to resume", run_id);
		return NULL;
	}
	/* The same cells as the run chose, unless told otherwise. */
	if (!*matrix)
		*matrix = g_strdup(r->matrix);
	if (!*only)
		*only = g_steal_pointer(&r->only);
	if (!*exclude)
		*exclude = g_steal_pointer(&r->exclude);
	*repeat = MAX(r->repeat, 1);
	done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < cells->len; i++)
		g_hash_table_add(done, g_strdup(((HhArchiveCell *)
						 cells->pdata[i])->name));
	fprintf(stderr, "resuming %s: %u cell(s) archived already\n", run_id,
		cells->len);
	return done;
}

static void drop_done(Run *run, GHashTable *done)
{
	for (guint i = 0; i < run->jobs->len; i++) {
		Job *j = run->jobs->pdata[i];

		if (g_hash_table_contains(done, j->spec.name))
			g_ptr_array_remove_index(run->jobs, i--);
	}
	for (guint i = 0; i < run->jobs->len; i++)
		((Job *)run->jobs->pdata[i])->index = i;
}

/* results/archive.sqlite: the run and its kernels now, cells as they end.
 * A broken archive costs a warning, never the run. */
/* SHA-256 over the series file and its patches, in order; NULL for a
 * kernel without patches. */
static char *series_hash(const char *patches_dir)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(GPtrArray) files = NULL;

	if (!patches_dir)
		return NULL;
	files = hh_kernel_series(patches_dir, NULL);
	if (!files)
		return NULL;
	for (guint i = 0; i < files->len; i++) {
		g_autofree char *text = NULL;
		gsize len = 0;

		if (!g_file_get_contents(files->pdata[i], &text, &len, NULL))
			return NULL;
		g_checksum_update(sum, (const guchar *)text, (gssize)len);
	}
	return g_strdup(g_checksum_get_string(sum));
}

/*
 * An archive that cannot be opened or written (corrupt, locked by another
 * writer beyond the busy timeout) stops the run before any cell boots:
 * cells run unarchived would be lost to resume, compare and reports, and
 * the file is never replaced by a new one.
 */
static gboolean open_archive(Run *run, const char *results, const char *start,
			     const char *matrix, char **only, char **exclude,
			     guint repeat, const char *label, GError **error)
{
	g_autofree char *path = g_build_filename(results, "archive.sqlite", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) planned = g_ptr_array_new();
	HhArchiveRun r = {
		.id = run->run_id, .start = (char *)start,
		.host = (char *)g_get_host_name(), .version = PACKAGE_VERSION,
		.matrix = (char *)matrix, .only = only, .exclude = exclude,
		.repeat = repeat, .label = (char *)label,
	};

	for (guint i = 0; i < run->jobs->len; i++)
		g_ptr_array_add(planned, ((Job *)run->jobs->pdata[i])->spec.name);
	g_ptr_array_add(planned, NULL);
	r.planned = (char **)planned->pdata;
	run->archive = hh_archive_open(path, &err);
	if (run->archive && run->resuming)
		return TRUE;
	if (run->archive && hh_archive_run_begin(run->archive, &r, &err)) {
		for (guint i = 0; i < run->kernels->len; i++) {
			Kernel *k = run->kernels->pdata[i];
			g_autofree char *sh = k->build->n_patches ?
				series_hash(k->def->spec.patches_dir) : NULL;
			g_autofree char *ch = hh_sha256_file(k->build->config, NULL);
			HhArchiveKernel ak = {
				.name = k->def->name,
				.release = k->build->release,
				.cache_key = k->build->key,
				.identity = k->build->source_identity,
				.patches = k->build->n_patches,
				.series_hash = sh, .config_hash = ch,
			};

			hh_archive_kernel(run->archive, run->run_id, &ak, NULL);
		}
		return TRUE;
	}
	g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
		    "%s (the archive is left as it is: repair or move it "
		    "aside, or give another --results)", err->message);
	g_clear_pointer(&run->archive, hh_archive_close);
	return FALSE;
}

/* The HTML report of the run, from the archive; a failure costs a
 * warning, never the run's verdict. */
static void write_report(Run *run, const char *run_dir)
{
	g_autofree char *dir = g_build_filename(run_dir, "report", NULL);
	g_autoptr(GError) err = NULL;

	if (hh_report_write(run->archive, run->run_id, HH_REPORT_HTML, dir, &err))
		fprintf(stderr, "report:  %s/index.html\n", dir);
	else
		fprintf(stderr, "warning: no HTML report: %s\n", err->message);
}

/* A resumed run's cells that earlier invocations finished (from the
 * archive), so run.json describes the whole run. */
static GPtrArray *earlier_cells(Run *run)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)hh_archive_cell_free);
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GHashTable) now = NULL;

	if (!run->resuming || !run->archive)
		return out;
	all = hh_archive_cells(run->archive, run->run_id, NULL);
	now = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < run->jobs->len; i++)
		g_hash_table_add(now, ((Job *)run->jobs->pdata[i])->spec.name);
	for (guint i = 0; all && i < all->len; i++) {
		HhArchiveCell *c = all->pdata[i];

		if (!g_hash_table_contains(now, c->name))
			g_ptr_array_add(out, g_steal_pointer(&all->pdata[i]));
	}
	return out;
}

/* The harness's own CPU time and peak RSS (QEMU's are not in them) and
 * the time it spent archiving cells: what must stay flat per cell as
 * matrices grow (scripts/bench-scale). */
static void add_harness_usage(JsonBuilder *b, gint64 archive_us)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return;
	json_builder_set_member_name(b, "harness");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "cpu_ms");
	json_builder_add_int_value(b, (gint64)ru.ru_utime.tv_sec * 1000 +
				      ru.ru_utime.tv_usec / 1000 +
				      (gint64)ru.ru_stime.tv_sec * 1000 +
				      ru.ru_stime.tv_usec / 1000);
	json_builder_set_member_name(b, "peak_rss_kb");
	json_builder_add_int_value(b, ru.ru_maxrss);
	json_builder_set_member_name(b, "archive_ms");
	json_builder_add_int_value(b, archive_us / 1000);
	json_builder_end_object(b);
}

/* final: the run is over (written again at its end). */
static void write_run_json(Run *run, const char *dir, const char *run_id,
			   const char *start, gboolean complete,
			   gboolean final)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *end = hh_iso_now();
	g_autofree char *path = g_build_filename(dir, "run.json", NULL);
	g_autoptr(GPtrArray) earlier = earlier_cells(run);
	guint expected = run->expected_crashes;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "id");
	json_builder_add_string_value(b, run_id);
	json_builder_set_member_name(b, "start");
	json_builder_add_string_value(b, start);
	json_builder_set_member_name(b, "end");
	json_builder_add_string_value(b, end);
	json_builder_set_member_name(b, "harness_version");
	json_builder_add_string_value(b, PACKAGE_VERSION);
	json_builder_set_member_name(b, "host");
	json_builder_add_string_value(b, g_get_host_name());
	json_builder_set_member_name(b, "matrix");
	json_builder_add_string_value(b, run->matrix->path);
	json_builder_set_member_name(b, "complete");
	json_builder_add_boolean_value(b, complete);
	json_builder_set_member_name(b, "kernels");
	json_builder_begin_array(b);
	for (guint i = 0; i < run->kernels->len; i++) {
		Kernel *k = run->kernels->pdata[i];

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "name");
		json_builder_add_string_value(b, k->def->name);
		json_builder_set_member_name(b, "release");
		json_builder_add_string_value(b, k->build->release);
		json_builder_set_member_name(b, "cache_key");
		json_builder_add_string_value(b, k->build->key);
		json_builder_set_member_name(b, "source_identity");
		json_builder_add_string_value(b, k->build->source_identity);
		json_builder_set_member_name(b, "patches");
		json_builder_add_int_value(b, k->build->n_patches);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "counts");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "total");
	json_builder_add_int_value(b, run->jobs->len + earlier->len);
	for (int v = HH_V_PASS; v <= HH_V_ERROR; v++) {
		guint n = run->counts[v];

		for (guint i = 0; i < earlier->len; i++) {
			HhArchiveCell *c = earlier->pdata[i];

			n += !c->expected_crash &&
			     g_str_equal(c->status, hh_verdict_name(v));
		}
		json_builder_set_member_name(b, hh_verdict_name(v));
		json_builder_add_int_value(b, n);
	}
	for (guint i = 0; i < earlier->len; i++)
		expected += ((HhArchiveCell *)earlier->pdata[i])->expected_crash;
	json_builder_set_member_name(b, "expected_crash");
	json_builder_add_int_value(b, expected);
	json_builder_end_object(b);
	if (final)
		add_harness_usage(b, run->archive_us);
	json_builder_set_member_name(b, "cells");
	json_builder_begin_array(b);
	for (guint i = 0; i < earlier->len; i++) {
		HhArchiveCell *c = earlier->pdata[i];

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "name");
		json_builder_add_string_value(b, c->name);
		json_builder_set_member_name(b, "status");
		json_builder_add_string_value(b, c->status);
		json_builder_end_object(b);
	}
	for (guint i = 0; i < run->jobs->len; i++) {
		Job *j = run->jobs->pdata[i];

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "name");
		json_builder_add_string_value(b, j->spec.name);
		json_builder_set_member_name(b, "status");
		json_builder_add_string_value(b, j->result ?
			hh_verdict_name(j->result->verdict) : "missing");
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	hh_write_json(path, b, TRUE, NULL);
}

static void run_clear(Run *run)
{
	if (run->watcher) {
		g_atomic_int_set(&run->finished, 1);
		g_thread_join(run->watcher);
		run->watcher = NULL;
	}
	g_clear_pointer(&run->sched, hh_scheduler_free);
	g_clear_pointer(&run->vm_pool, hh_vm_pool_free);
	g_clear_pointer(&run->archive, hh_archive_close);
	g_clear_pointer(&run->jobs, g_ptr_array_unref);
	g_clear_pointer(&run->boot_jobs, g_ptr_array_unref);
	g_clear_pointer(&run->kernels, g_ptr_array_unref);
	g_clear_pointer(&run->matrix, hh_matrix_free);
	g_clear_pointer(&run->prebuilt, g_hash_table_unref);
	g_clear_pointer(&run->images, g_hash_table_unref);
	if (run->hosts)
		run->backend = NULL;	/* the first host's */
	g_clear_pointer(&run->backend, hh_vm_backend_close);
	g_clear_pointer(&run->hosts, g_ptr_array_unref);
	g_clear_pointer(&run->storage_error, g_free);
	g_mutex_clear(&run->lock);
}

static void run_init(Run *run, const HhRunOptions *o)
{
	run->kernels = g_ptr_array_new_with_free_func(kernel_free);
	run->images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)hh_image_free);
	run->jobs = g_ptr_array_new_with_free_func(job_free);
	run->boot_jobs = g_ptr_array_new_with_free_func(g_free);
	g_mutex_init(&run->lock);
	run->prebuilt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	for (guint i = 0; o->kernel_builds && o->kernel_builds[i]; i++) {
		const char *kb = o->kernel_builds[i], *eq = strchr(kb, '=');

		g_hash_table_replace(run->prebuilt,
				     g_strndup(kb, (gsize)(eq - kb)),
				     g_strdup(eq + 1));
	}
	run->tty = isatty(2);
	run->keep_going = o->keep_going;
	run->resuming = o->resume != NULL;
}

static HhSuppressions *load_suppressions(const HhRunOptions *o,
					 GError **error)
{
	g_autofree char *path = o->suppressions ? g_strdup(o->suppressions) :
				hh_data_path("configs/suppressions");

	if (!o->suppressions && !g_file_test(path, G_FILE_TEST_EXISTS))
		return NULL;
	return hh_suppressions_load(path, error);
}

char *hh_run_new_id(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");

	return g_strdup_printf("%s-%04x", stamp, g_random_int_range(0, 0xffff));
}

/* The end of a run: run.json, the archive, DIR/latest, the summary and
 * the report; returns the exit status. */
static int finish_run(Run *run, const HhRunOptions *o, const char *run_dir,
		      const char *start)
{
	gboolean complete = !hh_spawn_interrupted() &&
			    run->done == run->jobs->len;
	g_autofree char *latest = g_build_filename(o->results, "latest", NULL);
	guint failures;

	mark_unstarted(run);
	write_run_json(run, run_dir, run->run_id, start, complete, TRUE);
	if (run->archive) {
		g_autofree char *end = hh_iso_now();

		hh_archive_run_end(run->archive, run->run_id, end, complete,
				   NULL);
	}
	unlink(latest);
	if (symlink(run->run_id, latest) < 0)
		fprintf(stderr, "note: cannot link %s\n", latest);
	if (run->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "\n%u cell(s): %u pass, %u fail, %u crash, %u timeout, "
		"%u error, %u skip, %u expected crash in %.1f s\nresults: %s\n",
		run->jobs->len, run->counts[HH_V_PASS], run->counts[HH_V_FAIL],
		run->counts[HH_V_CRASH], run->counts[HH_V_TIMEOUT],
		run->counts[HH_V_ERROR], run->counts[HH_V_SKIP],
		run->expected_crashes, (hh_now_ms() - run->t0) / 1000.0,
		run_dir);
	if (run->archive && !o->no_report && !run->storage_error)
		write_report(run, run_dir);
	if (run->storage_error) {
		fprintf(stderr, "error: results directory %s: %s; the run "
			"stopped (the cells that finished before are kept); "
			"make room, then: hotplug-harness run --resume %s "
			"--results %s\n", o->results, run->storage_error,
			run->run_id, o->results);
		return HH_EXIT_ERROR;
	}
	if (hh_spawn_interrupted())
		return 128 + hh_spawn_interrupt_signal();
	failures = run->counts[HH_V_FAIL] + run->counts[HH_V_CRASH] +
		   run->counts[HH_V_TIMEOUT] + run->counts[HH_V_ERROR];
	return failures ? HH_EXIT_FAILURES : HH_EXIT_OK;
}

gboolean hh_boot_mode_parse(const char *text, HhBootMode *out,
			    GError **error)
{
	if (g_str_equal(text, "auto"))
		*out = HH_BOOT_AUTO;
	else if (g_str_equal(text, "cold"))
		*out = HH_BOOT_COLD;
	else if (g_str_equal(text, "snapshot"))
		*out = HH_BOOT_SNAPSHOT;
	else {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--boot '%s': expected cold, snapshot or auto",
			    text);
		return FALSE;
	}
	return TRUE;
}

gboolean hh_shard_parse(const char *text, guint *k, guint *n,
			GError **error)
{
	g_auto(GStrv) parts = g_strsplit(text, "/", 3);
	guint64 a, b;

	if (g_strv_length(parts) != 2 ||
	    !g_ascii_string_to_unsigned(parts[1], 10, 1, 10000, &b, NULL) ||
	    !g_ascii_string_to_unsigned(parts[0], 10, 1, b, &a, NULL)) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--shard '%s': expected K/N with 1 <= K <= N <= "
			    "10000, e.g. 2/3", text);
		return FALSE;
	}
	*k = (guint)a;
	*n = (guint)b;
	return TRUE;
}

void hh_run_options_init(HhRunOptions *o)
{
	*o = (HhRunOptions){
		.results = "results", .repeat = 1, .boot = HH_BOOT_AUTO,
		.warm_pool = -1,
		.accel = HH_ACCEL_AUTO,
		.timeouts = { .boot_ms = 120000, .request_ms = 60000,
			      .shutdown_ms = 30000 },
	};
}

/* Several hosts: --hosts FILE, else the matrix's [hosts]; NULL (and no
 * error) for one host. */
static GPtrArray *host_specs(const HhRunOptions *o, const HhMatrix *m,
			     const char **file, GError **error)
{
	*file = o->hosts ? o->hosts : m->hosts_file;
	if (o->hosts)
		return hh_hosts_load(o->hosts, error);
	if (m->hosts && m->hosts->len)
		return g_ptr_array_ref(m->hosts);
	return NULL;
}

static gboolean connect_hosts(Run *run, const HhRunOptions *o,
			      GPtrArray *specs, guint user_jobs,
			      GError **error)
{
	if (o->backend && !g_str_equal(o->backend, "libvirt")) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "several hosts run cells through libvirt: drop "
			    "--backend %s", o->backend);
		return FALSE;
	}
	if (o->connect) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--connect names one host and --hosts (or the "
			    "matrix's [hosts]) several: give one of them");
		return FALSE;
	}
	run->hosts = hh_hosts_connect(specs, user_jobs, o->insecure_tcp, error);
	if (!run->hosts)
		return FALSE;
	for (guint i = 0; i < run->hosts->len; i++) {
		HhHost *h = run->hosts->pdata[i];
		g_autoptr(GError) err = NULL;

		if (h->backend->ops->reap_stale &&
		    !h->backend->ops->reap_stale(h->backend, &err) && err)
			fprintf(stderr, "warning: host %s: looking for guests a "
				"dead run left: %s\n", h->spec->label,
				err->message);
	}
	run->backend = ((HhHost *)run->hosts->pdata[0])->backend;
	return TRUE;
}

/* Several hosts: notices an idle host's loss, and takes a lost host back
 * when it answers again, after destroying what the run left there. */
static gpointer watch_hosts(gpointer data)
{
	Run *run = data;
	g_autofree char *prefix = g_strdup_printf("hh-%s-", run->run_id);
	g_autofree gint64 *next = g_new0(gint64, run->hosts->len);

	while (!g_atomic_int_get(&run->finished)) {
		for (guint i = 0; i < run->hosts->len; i++) {
			HhHost *h = run->hosts->pdata[i];
			gint64 now = g_get_monotonic_time();
			HhVmBackend *b, *nb;
			gboolean lost, idle;
			guint reaped = 0;

			if (now < next[i])
				continue;
			next[i] = now + 2 * G_USEC_PER_SEC;
			g_mutex_lock(&run->lock);
			lost = h->lost;
			idle = h->running == 0;
			b = h->backend;
			g_mutex_unlock(&run->lock);
			if (!lost && idle && !hh_vm_backend_alive(b)) {
				g_autofree char *when = NULL;

				g_mutex_lock(&run->lock);
				h->lost = h->said_lost = TRUE;
				h->lost_at = g_get_real_time();
				when = clock_of(h->lost_at);
				hh_scheduler_pool_set_down(run->sched, i, TRUE);
				fprintf(stderr, "%shost %s lost at %s (idle), no "
					"cell moved\n", run->tty ? "\r\033[K" : "",
					h->spec->label, when);
				g_mutex_unlock(&run->lock);
				continue;
			}
			if (!lost)
				continue;
			next[i] = now + 5 * G_USEC_PER_SEC;
			nb = g_getenv("HH_XNORECONNECT") ? NULL : hh_host_reconnect(h, prefix, &reaped);
			if (!nb)
				continue;
			g_mutex_lock(&run->lock);
			/* Cells of the lost connection may still hold it. */
			g_ptr_array_add(h->old, h->backend);
			h->backend = nb;
			h->lost = h->said_lost = FALSE;
			hh_scheduler_pool_set_down(run->sched, i, FALSE);
			{
				g_autofree char *when = clock_of(g_get_real_time());

				fprintf(stderr, "%shost %s is back at %s; %u guest(s) "
					"the run had left there destroyed\n",
					run->tty ? "\r\033[K" : "",
					h->spec->label, when, reaped);
			}
			g_mutex_unlock(&run->lock);
		}
		g_usleep(G_USEC_PER_SEC / 5);
	}
	return NULL;
}

static void print_hosts(Run *run)
{
	for (guint i = 0; run->hosts && i < run->hosts->len; i++) {
		HhHost *h = run->hosts->pdata[i];

		fprintf(stderr, "host %s: %u cell(s)%s\n", h->spec->label,
			h->ran, h->lost ? ", lost" : "");
	}
}

/* The backend: the options', else the matrix's [matrix] backend= and
 * connect=, else QEMU. */
static HhVmBackend *open_backend(const HhRunOptions *o, const HhMatrix *m,
				 GError **error)
{
	const char *name = o->backend ? o->backend :
			   m->backend ? m->backend : "qemu";
	const char *uri = o->connect ? o->connect : m->connect;
	HhVmBackend *b = hh_vm_backend_open(name, uri, error);
	g_autoptr(GError) err = NULL;

	/* The backend names each guest it removes. */
	if (b && b->ops->reap_stale && !b->ops->reap_stale(b, &err) && err)
		fprintf(stderr, "warning: looking for guests a dead run left: "
			"%s\n", err->message);
	return b;
}

int hh_run_matrix(const HhRunOptions *opts, char **run_dir_out)
{
	HhRunOptions o = *opts;
	g_autofree char *matrix_path = NULL, *run_id = NULL, *run_dir = NULL;
	g_autofree char *resume_matrix = NULL;
	g_auto(GStrv) resume_only = NULL, resume_exclude = NULL;
	g_autofree char *start = hh_iso_now();
	g_autoptr(GHashTable) done_cells = NULL;
	g_autoptr(GPtrArray) groups = NULL, cells = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(HhInitramfs) img = NULL;
	g_autoptr(HhSuppressions) sup = NULL;
	g_autoptr(GPtrArray) specs = NULL;
	HhAccel accel;
	HhCost budget;
	Run run = { 0 };
	gint repeat = (gint)o.repeat;
	guint user_jobs = o.max_jobs;
	int code;

	if (!o.results)
		o.results = "results";
	if (!o.max_jobs)
		o.max_jobs = g_get_num_processors();
	if (o.resume) {
		resume_matrix = g_strdup(o.matrix);
		resume_only = g_strdupv((char **)o.only);
		resume_exclude = g_strdupv((char **)o.exclude);
		done_cells = resume_plan(o.results, o.resume, &resume_matrix,
					 &resume_only, &resume_exclude, &repeat,
					 &err);
		if (!done_cells)
			return hh_report_error(err);
		o.matrix = resume_matrix;
		o.only = (const char *const *)resume_only;
		o.exclude = (const char *const *)resume_exclude;
		o.repeat = (guint)repeat;
	}
	matrix_path = o.matrix ? hh_resolve_config(o.matrix) :
				 hh_data_path("configs/default.matrix");
	run_init(&run, &o);
	sup = load_suppressions(&o, &err);
	if (err)
		goto fail;
	/* Everything is parsed and validated before anything is built. */
	run.matrix = hh_matrix_load(matrix_path, &err);
	if (!run.matrix)
		goto fail;
	cells = hh_matrix_cells(run.matrix, (char **)o.only,
				(char **)o.exclude, &err);
	if (!cells)
		goto fail;
	if (!cells->len) {
		g_set_error(&err, HH_ERROR, HH_ERROR_USAGE,
			    "no cell of %s matches the selection", matrix_path);
		goto fail;
	}
	if (o.shard_n) {
		guint before = cells->len;

		hh_matrix_cells_shard(cells, o.shard_k, o.shard_n);
		fprintf(stderr, "shard %u/%u: %u of %u cell(s)\n", o.shard_k,
			o.shard_n, cells->len, before);
		if (!cells->len) {
			g_set_error(&err, HH_ERROR, HH_ERROR_USAGE,
				    "shard %u/%u of %s has no cell", o.shard_k,
				    o.shard_n, matrix_path);
			goto fail;
		}
	}
	specs = host_specs(&o, run.matrix, &run.hosts_file, &err);
	if (err)
		goto fail;
	if (specs) {
		if (!connect_hosts(&run, &o, specs, user_jobs, &err))
			goto fail;
	} else {
		run.backend = open_backend(&o, run.matrix, &err);
		if (!run.backend)
			goto fail;
	}
	if (!build_kernels(&run, cells, o.quiet, &err) ||
	    !prepare_images(&run, cells, o.quiet, &err))
		goto fail;
	img = hh_initramfs_build(hh_agent_path(), hh_busybox_path(), &err);
	if (!img)
		goto fail;
	accel = hh_accel_resolve(run.backend, o.accel,
				 ((Kernel *)run.kernels->pdata[0])->build->bzimage);

	run_id = o.resume ? g_strdup(o.resume) : hh_run_new_id();
	run_dir = g_build_filename(o.results, run_id, NULL);
	run.run_id = run_id;
	if (!hh_mkdir_p(run_dir, 0755, &err))
		goto fail;
	plan_jobs(&run, cells, &o, sup, accel, img->path);
	if (done_cells)
		drop_done(&run, done_cells);
	if (run.hosts)
		fprintf(stderr, "run %s: %u cell(s) on %u host(s), %s, results "
			"in %s\n", run_id, run.jobs->len, run.hosts->len,
			accel == HH_ACCEL_KVM ? "KVM" : "TCG", run_dir);
	else
		fprintf(stderr, "run %s: %u cell(s), -j%u, %s, %s backend%s%s, "
			"results in %s\n", run_id, run.jobs->len, o.max_jobs,
			accel == HH_ACCEL_KVM ? "KVM" : "TCG",
			run.backend->ops->name, run.backend->uri ? " at " : "",
			run.backend->uri ? run.backend->uri : "", run_dir);
	write_run_json(&run, run_dir, run_id, start, FALSE, FALSE);
	if (!open_archive(&run, o.results, start, matrix_path,
			  (char **)o.only, (char **)o.exclude, o.repeat,
			  o.label, &err))
		goto fail;
	if (o.boot != HH_BOOT_COLD) {
		groups = group_jobs(&run, o.boot, &err);
		if (!groups)
			goto fail;
		/* Several hosts: every group first, each on its host. */
		if (run.hosts)
			prepare_snapshots(&run, groups, o.max_jobs, sup);
	}
	budget = hh_host_budget();
	run.budget = budget;
	run.sup = sup;
	run.sched = run.hosts ? new_host_scheduler(&run) :
		    hh_scheduler_new(o.max_jobs, budget);
	if (!run.hosts && groups && groups->len && o.warm_pool)
		run.vm_pool = hh_vm_pool_new(run.backend, o.warm_pool > 0 ?
					     (guint)o.warm_pool : o.max_jobs);
	for (guint i = 0; i < run.jobs->len; i++) {
		Job *j = run.jobs->pdata[i];

		/* One host: a group's cells wait for its boot job. */
		if (!run.hosts && j->group) {
			if (!j->group->boot_job) {
				Job *b = boot_job(&run, j->group);

				hh_scheduler_add(run.sched, b, b->cost);
			}
			continue;
		}
		if (!run.hosts && j->cost.memory > budget.memory)
			refuse_job(&run, j, budget);
		else
			hh_scheduler_add_to(run.sched, j, j->cost,
					    run.hosts && j->group ?
					    j->group->host : HH_POOL_ANY);
	}
	printf("KTAP version 1\n1..%u\n", run.jobs->len);
	fflush(stdout);
	run.t0 = hh_now_ms();
	if (run.hosts) {
		run.watcher = g_thread_new("hh-hosts", watch_hosts, &run);
		hh_scheduler_run_pools(run.sched, run_job_on, &run);
		run.all_lost = hh_scheduler_all_down(run.sched) &&
			       run.done < run.jobs->len;
		print_hosts(&run);
	} else {
		hh_scheduler_run(run.sched, run_job, &run);
	}
	stop_warm_pool(&run, o.quiet);
	code = finish_run(&run, &o, run_dir, start);
	if (run.all_lost && !hh_spawn_interrupted()) {
		fprintf(stderr, "every host was lost: %u cell(s) not run; finish "
			"the run with: hotplug-harness run --resume %s --results "
			"%s%s%s\n", run.jobs->len - run.done, run_id, o.results,
			run.hosts_file ? " --hosts " : "",
			run.hosts_file ? run.hosts_file : "");
		code = HH_EXIT_ERROR;
	}
	if (run_dir_out)
		*run_dir_out = g_strdup(run_dir);
	run_clear(&run);
	return code;
fail:
	run_clear(&run);
	return hh_report_error(err);
}
