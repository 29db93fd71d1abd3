/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hotplug-harness run: builds what the matrix needs (cached), then boots
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

#include "cell.h"
#include "commands.h"
#include "hh-error.h"
#include "initramfs.h"
#include "kbuild.h"
#include "kconfig.h"
#include "paths.h"
#include "spawn.h"
#include "util.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	char *name;
	HhKernelBuild *build;
	GHashTable *kconfig;
} Kernel;

typedef struct {
	HhCellSpec spec;
	HhCellResult *result;
	guint index;
} Job;

typedef struct {
	GPtrArray *kernels;	/* Kernel* */
	GPtrArray *variants;	/* HhVariant* */
	GPtrArray *scenarios;	/* HhScenario* */
	GPtrArray *jobs;	/* Job* */
	GMutex lock;
	GCond cond;
	guint done;
	guint next_print;
	guint counts[HH_V_ERROR + 1];
	gboolean tty;
	gint64 t0;
	char *matrix_path;
} Run;

static void kernel_free(gpointer p)
{
	Kernel *k = p;

	g_free(k->name);
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
	hh_cell_result_free(j->result);
	g_free(j);
}

/* Names or globs against NAME.EXT files of a config directory. */
static GPtrArray *select_files(const char *subdir, const char *ext,
			       char **wanted, const char *origin,
			       GError **error)
{
	g_autofree char *dir = hh_data_path(subdir);
	g_autoptr(GDir) d = g_dir_open(dir, 0, error);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	const char *n;

	if (!d) {
		g_ptr_array_unref(out);
		return NULL;
	}
	while ((n = g_dir_read_name(d))) {
		if (g_str_has_suffix(n, ext))
			g_ptr_array_add(names, g_strndup(n, strlen(n) - strlen(ext)));
	}
	g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
	for (int w = 0; wanted[w]; w++) {
		const char *pat = g_strstrip(wanted[w]);
		gboolean any = FALSE;

		for (guint i = 0; i < names->len; i++) {
			if (!g_pattern_match_simple(pat, names->pdata[i]))
				continue;
			any = TRUE;
			g_ptr_array_add(out, g_strdup_printf("%s/%s%s", dir,
				(char *)names->pdata[i], ext));
		}
		if (!any) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s: no %s*%s matches '%s'", origin, dir,
				    ext, pat);
			g_ptr_array_unref(out);
			return NULL;
		}
	}
	return out;
}

static gboolean load_kernels(Run *run, GKeyFile *kf, gboolean quiet,
			     GError **error)
{
	g_auto(GStrv) names = g_key_file_get_string_list(kf, "matrix", "kernels",
							 NULL, NULL);

	if (!names || !names[0]) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [matrix] needs kernels=", run->matrix_path);
		return FALSE;
	}
	for (int i = 0; names[i]; i++) {
		g_autofree char *group = g_strdup_printf("kernel %s",
							 g_strstrip(names[i]));
		g_autofree char *source = g_key_file_get_string(kf, group, "source", NULL);
		g_autofree char *patches = g_key_file_get_string(kf, group, "patches", NULL);
		HhKernelSpec spec = { 0 };
		Kernel *k;

		if (!g_key_file_has_group(kf, group)) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s: kernel '%s' has no [%s] group",
				    run->matrix_path, names[i], group);
			return FALSE;
		}
		spec.source = source && !g_str_equal(source, "default") ?
			hh_resolve_config(source) : NULL;
		spec.patches_dir = !patches || g_str_equal(patches, "none") ?
			NULL : hh_resolve_config(patches);
		spec.fragments_dir = hh_data_path("configs/kernel");
		spec.quiet = quiet;
		k = g_new0(Kernel, 1);
		k->name = g_strdup(names[i]);
		g_ptr_array_add(run->kernels, k);
		k->build = hh_kernel_build(&spec, error);
		hh_kernel_spec_clear(&spec);
		if (!k->build)
			return FALSE;
		fprintf(stderr, "kernel %s: %s %s (%.1f s)\n", k->name,
			k->build->cached ? "cached" : "built",
			k->build->release, k->build->seconds);
		k->kconfig = hh_kconfig_load(k->build->config, error);
		if (!k->kconfig)
			return FALSE;
	}
	return TRUE;
}

static gboolean load_matrix(Run *run, gboolean quiet, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_auto(GStrv) vwant = NULL, swant = NULL;
	g_autoptr(GPtrArray) vfiles = NULL, sfiles = NULL;

	if (!g_key_file_load_from_file(kf, run->matrix_path, G_KEY_FILE_NONE,
				       error)) {
		g_prefix_error(error, "%s: ", run->matrix_path);
		return FALSE;
	}
	vwant = g_key_file_get_string_list(kf, "matrix", "variants", NULL, NULL);
	swant = g_key_file_get_string_list(kf, "matrix", "scenarios", NULL, NULL);
	if (!vwant || !swant) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [matrix] needs variants= and scenarios=",
			    run->matrix_path);
		return FALSE;
	}
	vfiles = select_files("configs/variants", ".variant", vwant,
			      run->matrix_path, error);
	sfiles = vfiles ? select_files("configs/scenarios", ".scenario", swant,
				       run->matrix_path, error) : NULL;
	if (!sfiles)
		return FALSE;
	for (guint i = 0; i < vfiles->len; i++) {
		HhVariant *v = hh_variant_load(vfiles->pdata[i], error);

		if (!v)
			return FALSE;
		g_ptr_array_add(run->variants, v);
	}
	for (guint i = 0; i < sfiles->len; i++) {
		HhScenario *s = hh_scenario_load(sfiles->pdata[i], error);

		if (!s)
			return FALSE;
		g_ptr_array_add(run->scenarios, s);
	}
	/* Everything is checked before anything is built or booted. */
	return load_kernels(run, kf, quiet, error);
}

static void print_progress(Run *run, Job *j)
{
	HhCellResult *r = j->result;
	gboolean bad = r->verdict > HH_V_SKIP;

	if (run->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "[%u/%u] %-7s %s (%.1f s)%s%s\n", run->done,
		run->jobs->len, hh_verdict_name(r->verdict), j->spec.name,
		r->seconds, r->reason ? ": " : "", r->reason ? r->reason : "");
	if (bad)
		fprintf(stderr, "        results: %s\n        re-run:  %s\n",
			j->spec.dir, j->spec.rerun);
	if (run->tty) {
		gint64 el = hh_now_ms() - run->t0;
		guint left = run->jobs->len - run->done;
		double eta = run->done ? el / 1000.0 / run->done * left : 0;

		fprintf(stderr, "done %u/%u, failed %u, ETA %.0f s", run->done,
			run->jobs->len,
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
		if (r->verdict == HH_V_PASS)
			printf("ok %u %s\n", j->index + 1, j->spec.name);
		else if (r->verdict == HH_V_SKIP)
			printf("ok %u %s # SKIP %s\n", j->index + 1,
			       j->spec.name, r->reason);
		else
			printf("not ok %u %s # %s%s%s\n", j->index + 1,
			       j->spec.name, hh_verdict_name(r->verdict),
			       r->reason ? ": " : "", r->reason ? r->reason : "");
	}
	fflush(stdout);
}

static void run_job(gpointer data, gpointer user)
{
	Job *j = data;
	Run *run = user;
	HhCellResult *r = hh_cell_run(&j->spec);

	g_mutex_lock(&run->lock);
	j->result = r;
	run->done++;
	run->counts[r->verdict]++;
	print_progress(run, j);
	print_ktap(run);
	g_cond_signal(&run->cond);
	g_mutex_unlock(&run->lock);
}

static void plan_jobs(Run *run, const char *results, const char *run_id,
		      char **only, const HhSuppressions *sup, HhAccel accel,
		      const HhTimeouts *to, const char *initrd)
{
	for (guint k = 0; k < run->kernels->len; k++) {
		Kernel *ker = run->kernels->pdata[k];

		for (guint v = 0; v < run->variants->len; v++) {
			HhVariant *var = run->variants->pdata[v];

			for (guint s = 0; s < run->scenarios->len; s++) {
				HhScenario *sc = run->scenarios->pdata[s];
				g_autofree char *name = g_strdup_printf(
					"%s/%s/%s", ker->name, var->name,
					sc->name);
				gboolean selected = !only || !only[0];
				Job *j;

				for (int o = 0; only && only[o]; o++)
					selected |= g_pattern_match_simple(only[o], name);
				if (!selected ||
				    !hh_scenario_accepts_variant(sc, var->name))
					continue;
				j = g_new0(Job, 1);
				j->index = run->jobs->len;
				j->spec.name = g_steal_pointer(&name);
				j->spec.kernel_name = ker->name;
				j->spec.bzimage = ker->build->bzimage;
				j->spec.kconfig = ker->kconfig;
				j->spec.kernel_release = ker->build->release;
				j->spec.initrd = g_strdup(initrd);
				j->spec.variant = var;
				j->spec.scenario = sc;
				j->spec.suppressions = sup;
				j->spec.backend = &hh_vm_backend_qemu;
				j->spec.accel = accel;
				j->spec.timeouts = *to;
				j->spec.dir = g_build_filename(results, run_id,
							       ker->name, var->name,
							       sc->name, NULL);
				j->spec.rerun = g_strdup_printf(
					"hotplug-harness run --matrix %s --results %s --only '%s'",
					run->matrix_path, results, j->spec.name);
				g_ptr_array_add(run->jobs, j);
			}
		}
	}
}

static void write_run_json(Run *run, const char *dir, const char *run_id,
			   const char *start, gboolean complete)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *end = hh_iso_now();
	g_autofree char *path = g_build_filename(dir, "run.json", NULL);
	g_autofree char *text = NULL;

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
	json_builder_add_string_value(b, run->matrix_path);
	json_builder_set_member_name(b, "complete");
	json_builder_add_boolean_value(b, complete);
	json_builder_set_member_name(b, "kernels");
	json_builder_begin_array(b);
	for (guint i = 0; i < run->kernels->len; i++) {
		Kernel *k = run->kernels->pdata[i];

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "name");
		json_builder_add_string_value(b, k->name);
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
	json_builder_add_int_value(b, run->jobs->len);
	for (int v = HH_V_PASS; v <= HH_V_ERROR; v++) {
		json_builder_set_member_name(b, hh_verdict_name(v));
		json_builder_add_int_value(b, run->counts[v]);
	}
	json_builder_end_object(b);
	json_builder_set_member_name(b, "cells");
	json_builder_begin_array(b);
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
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	hh_write_file(path, text, -1, NULL);
}

int hh_cmd_run(int argc, char **argv)
{
	g_autofree char *matrix = NULL, *results = NULL, *accel_s = NULL;
	g_autofree char *suppress = NULL;
	g_auto(GStrv) only = NULL;
	gint jobs = 0, boot_timeout = 120, request_timeout = 60;
	gboolean quiet = FALSE;
	GOptionEntry entries[] = {
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &matrix,
		  "matrix file (default configs/default.matrix)", "FILE" },
		{ "results", 'r', 0, G_OPTION_ARG_FILENAME, &results,
		  "results directory (default results)", "DIR" },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
		  "cells at once (default: number of CPUs)", "N" },
		{ "only", 0, 0, G_OPTION_ARG_STRING_ARRAY, &only,
		  "run cells whose kernel/variant/scenario name matches (repeatable)",
		  "GLOB" },
		{ "accel", 0, 0, G_OPTION_ARG_STRING, &accel_s,
		  "kvm, tcg or auto (default auto: KVM if a guest really boots "
		  "with it, else TCG)", "MODE" },
		{ "boot-timeout", 0, 0, G_OPTION_ARG_INT, &boot_timeout,
		  "seconds from start until the agent answers (default 120)", "S" },
		{ "request-timeout", 0, 0, G_OPTION_ARG_INT, &request_timeout,
		  "seconds for each request to the guest (default 60)", "S" },
		{ "suppressions", 0, 0, G_OPTION_ARG_FILENAME, &suppress,
		  "known kernel-log noise (default configs/suppressions)", "FILE" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
		  "no build progress", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"- boot a matrix of kernels x variants x scenarios");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhInitramfs) img = NULL;
	g_autoptr(HhSuppressions) sup = NULL;
	g_autofree char *run_id = NULL, *run_dir = NULL, *start = hh_iso_now();
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	HhTimeouts to;
	HhAccel accel = HH_ACCEL_AUTO;
	GThreadPool *pool;
	Run run = { 0 };
	int code;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Results go to DIR/<run-id>/: run.json and one directory per "
		"cell\n(KERNEL/VARIANT/SCENARIO) with console.log, kmsg.log, "
		"agent.log, qmp.log,\nqemu-cmdline.txt and result.json.  KTAP "
		"on stdout.  Exit status 0 only if\nno cell failed, crashed, "
		"timed out or errored.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (argc > 1) {
		fprintf(stderr, "hotplug-harness run: unexpected '%s' (see --help)\n",
			argv[1]);
		return HH_EXIT_USAGE;
	}
	if (accel_s && !hh_accel_parse(accel_s, &accel, &err))
		return hh_report_error(err);
	to.boot_ms = (guint)MAX(boot_timeout, 1) * 1000;
	to.request_ms = (guint)MAX(request_timeout, 1) * 1000;
	to.shutdown_ms = 30000;

	run.matrix_path = matrix ? hh_resolve_config(matrix) :
				   hh_data_path("configs/default.matrix");
	run.kernels = g_ptr_array_new_with_free_func(kernel_free);
	run.variants = g_ptr_array_new_with_free_func((GDestroyNotify)hh_variant_free);
	run.scenarios = g_ptr_array_new_with_free_func((GDestroyNotify)hh_scenario_free);
	run.jobs = g_ptr_array_new_with_free_func(job_free);
	run.tty = isatty(2);
	g_mutex_init(&run.lock);
	g_cond_init(&run.cond);
	{
		g_autofree char *sp = suppress ? g_strdup(suppress) :
					       hh_data_path("configs/suppressions");

		if (suppress || g_file_test(sp, G_FILE_TEST_EXISTS)) {
			sup = hh_suppressions_load(sp, &err);
			if (!sup)
				goto fail;
		}
	}
	if (!load_matrix(&run, quiet, &err))
		goto fail;
	img = hh_initramfs_build(hh_agent_path(), hh_busybox_path(), &err);
	if (!img)
		goto fail;
	accel = hh_accel_resolve(accel,
				 ((Kernel *)run.kernels->pdata[0])->build->bzimage);

	if (!results)
		results = g_strdup("results");
	run_id = g_date_time_format(now, "%Y%m%d-%H%M%S");
	{
		g_autofree char *suffix = g_strdup_printf("%s-%04x", run_id,
							  g_random_int_range(0, 0xffff));

		g_free(run_id);
		run_id = g_steal_pointer(&suffix);
	}
	run_dir = g_build_filename(results, run_id, NULL);
	if (!hh_mkdir_p(run_dir, 0755, &err))
		goto fail;
	plan_jobs(&run, results, run_id, only, sup, accel, &to, img->path);
	if (!run.jobs->len) {
		g_set_error(&err, HH_ERROR, HH_ERROR_USAGE,
			    "no cell of %s matches the selection",
			    run.matrix_path);
		goto fail;
	}
	printf("KTAP version 1\n1..%u\n", run.jobs->len);
	fflush(stdout);
	fprintf(stderr, "run %s: %u cell(s), -j%d, %s, results in %s\n", run_id,
		run.jobs->len, jobs > 0 ? jobs : (int)g_get_num_processors(),
		accel == HH_ACCEL_KVM ? "KVM" : "TCG", run_dir);
	write_run_json(&run, run_dir, run_id, start, FALSE);
	run.t0 = hh_now_ms();
	pool = g_thread_pool_new(run_job, &run,
				 jobs > 0 ? jobs : (int)g_get_num_processors(),
				 TRUE, NULL);
	for (guint i = 0; i < run.jobs->len; i++)
		g_thread_pool_push(pool, run.jobs->pdata[i], NULL);
	g_mutex_lock(&run.lock);
	while (run.done < run.jobs->len && !hh_spawn_interrupted())
		g_cond_wait_until(&run.cond, &run.lock,
				  g_get_monotonic_time() + G_TIME_SPAN_SECOND / 5);
	g_mutex_unlock(&run.lock);
	/* On a signal the children are already dead: let the cells finish
	 * writing what they have. */
	g_thread_pool_free(pool, hh_spawn_interrupted(), TRUE);
	write_run_json(&run, run_dir, run_id, start,
		       !hh_spawn_interrupted() && run.done == run.jobs->len);
	{
		g_autofree char *latest = g_build_filename(results, "latest", NULL);

		unlink(latest);
		if (symlink(run_id, latest) < 0)
			fprintf(stderr, "note: cannot link %s\n", latest);
	}
	fprintf(stderr, "\n%u cell(s): %u pass, %u fail, %u crash, %u timeout, "
		"%u error, %u skip in %.1f s\nresults: %s\n", run.jobs->len,
		run.counts[HH_V_PASS], run.counts[HH_V_FAIL], run.counts[HH_V_CRASH],
		run.counts[HH_V_TIMEOUT], run.counts[HH_V_ERROR], run.counts[HH_V_SKIP],
		(hh_now_ms() - run.t0) / 1000.0, run_dir);
	if (hh_spawn_interrupted())
		code = 128 + hh_spawn_interrupt_signal();
	else
		code = run.counts[HH_V_FAIL] + run.counts[HH_V_CRASH] +
			run.counts[HH_V_TIMEOUT] + run.counts[HH_V_ERROR] ?
			HH_EXIT_FAILURES : HH_EXIT_OK;
	goto out;
fail:
	code = hh_report_error(err);
out:
	g_ptr_array_unref(run.jobs);
	g_ptr_array_unref(run.kernels);
	g_ptr_array_unref(run.variants);
	g_ptr_array_unref(run.scenarios);
	g_free(run.matrix_path);
	return code;
}
