/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hotplug-harness bisect: finds the commit of a kernel tree that broke a
 * cell, with 'git bisect run' and bisect-step as its step command.
 * hotplug-harness bisect-step: one step, for 'git bisect run' (exit 0
 * good, 1 bad, 125 skip, 128 or more abort).
 */
#include "config.h"

#include "bisect.h"
#include "commands.h"
#include "result.h"
#include "hh-error.h"
#include "paths.h"
#include "spawn.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Options bisect and bisect-step share. */
typedef struct {
	char *tree, *cell, *matrix, *patches, *fragments, *state;
	gboolean no_patches, quiet;
	gint runs, jobs;
} Opts;

static void opts_clear(Opts *o)
{
	g_free(o->tree);
	g_free(o->cell);
	g_free(o->matrix);
	g_free(o->patches);
	g_free(o->fragments);
	g_free(o->state);
}

static void add_common_entries(GOptionContext *ctx, Opts *o)
{
	const GOptionEntry entries[] = {
		{ "tree", 't', 0, G_OPTION_ARG_FILENAME, &o->tree,
		  "the kernel git tree (bisect-step default: the current "
		  "directory's)", "DIR" },
		{ "cell", 'c', 0, G_OPTION_ARG_STRING, &o->cell,
		  "the cell to boot (required)", "KERNEL/VARIANT/SCENARIO" },
		{ "runs", 'n', 0, G_OPTION_ARG_INT, &o->runs,
		  "boots that must all pass for a commit to be good "
		  "(bisect default 2, bisect-step 1)", "N" },
		{ "matrix", 'm', 0, G_OPTION_ARG_FILENAME, &o->matrix,
		  "matrix file naming the cell (default configs/check.matrix)",
		  "FILE" },
		{ "no-patches", 0, 0, G_OPTION_ARG_NONE, &o->no_patches,
		  "do not apply the emulator series to commits that lack it",
		  NULL },
		{ "patches", 'p', 0, G_OPTION_ARG_FILENAME, &o->patches,
		  "the series (default: kernel-patches/V.P for the tree's "
		  "VERSION.PATCHLEVEL)", "DIR" },
		{ "fragments", 'f', 0, G_OPTION_ARG_FILENAME, &o->fragments,
		  "*.config fragments (default configs/kernel)", "DIR" },
		{ "state", 0, 0, G_OPTION_ARG_FILENAME, &o->state,
		  "state directory: steps.tsv, build logs, runs, bisect.log",
		  "DIR" },
		{ "jobs", 'j', 0, G_OPTION_ARG_INT, &o->jobs,
		  "make -j and cells at once (default: number of CPUs)", "N" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet,
		  "no build progress", NULL },
		{ NULL },
	};
	g_option_context_add_main_entries(ctx, entries, NULL);
}

/* Fills a step from the options; tree already resolved. */
static gboolean fill_step(Opts *o, HhBisectStep *s, guint default_runs,
			  GError **error)
{
	g_auto(GStrv) parts = o->cell ? g_strsplit(o->cell, "/", -1) : NULL;

	if (!parts || g_strv_length(parts) != 3 || !*parts[0]) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--cell KERNEL/VARIANT/SCENARIO is required");
		return FALSE;
	}
	if (o->runs < 0 || o->runs > 100) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--runs %d: expected 1 to 100", o->runs);
		return FALSE;
	}
	s->cell = g_strdup(o->cell);
	s->matrix = o->matrix ? hh_resolve_config(o->matrix) :
				hh_data_path("configs/check.matrix");
	if (!g_path_is_absolute(s->matrix)) {
		char *abs = g_canonicalize_filename(s->matrix, NULL);

		g_free(s->matrix);
		s->matrix = abs;
	}
	if (o->no_patches)
		s->patches_dir = NULL;
	else if (o->patches)
		s->patches_dir = g_canonicalize_filename(o->patches, NULL);
	else if (!(s->patches_dir = hh_bisect_series_for(s->tree, error)))
		return FALSE;
	s->fragments_dir = o->fragments ?
		g_canonicalize_filename(o->fragments, NULL) :
		hh_data_path("configs/kernel");
	s->runs = o->runs ? (guint)o->runs : default_runs;
	s->jobs = o->jobs > 0 ? (guint)o->jobs : 0;
	s->quiet = o->quiet;
	s->run = hh_run_matrix;
	s->signatures = g_ptr_array_new_with_free_func(g_free);
	return TRUE;
}

static gboolean load_signatures(GPtrArray *out, const char *file,
				GError **error)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(file, &text, NULL, error))
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		if (*lines[i])
			g_ptr_array_add(out, g_strdup(lines[i]));
	}
	return TRUE;
}

/* bisect-step aborts 'git bisect run' on every error: an exit status
 * from 1 to 127 would mark the commit bad. */
static int step_error(const GError *e)
{
	int code = hh_report_error(e);

	return code >= 128 ? code : HH_BISECT_ABORT;
}

int hh_cmd_bisect_step(int argc, char **argv)
{
	Opts o = { 0 };
	g_autofree char *commit = NULL, *sig_file = NULL;
	g_auto(GStrv) sigs = NULL;
	const GOptionEntry entries[] = {
		{ "commit", 0, 0, G_OPTION_ARG_STRING, &commit,
		  "the commit to test (default BISECT_HEAD if 'git bisect "
		  "start --no-checkout' set it, else HEAD)", "REV" },
		{ "signature", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sigs,
		  "a failure is bad only with this signature, as bisect "
		  "prints it (repeatable); without one every failure is bad",
		  "TEXT" },
		{ "signature-file", 0, 0, G_OPTION_ARG_FILENAME, &sig_file,
		  "signatures, one a line", "FILE" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"- test one commit, for git bisect run");
	g_autoptr(GError) err = NULL;
	g_autoptr(HhBisectResult) r = NULL;
	HhBisectStep s = { 0 };
	int code;

	add_common_entries(ctx, &o);
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Checks the commit out into a clone under the cache, applies "
		"the emulator\nseries if it lacks it, builds it incrementally "
		"(O= kept between steps)\nand boots the cell --runs times.  "
		"Exit status for 'git bisect run': 0 good\n(every boot "
		"passed), 1 bad (a failure with the signature), 125 skip (the\n"
		"build failed, the series does not apply, a different "
		"failure), 128 or\nmore abort (a harness or QEMU error).\n\n"
		"  git bisect run hotplug-harness bisect-step --cell "
		"emu/emu-mem2g-possible4/emu-walkthrough");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return HH_BISECT_ABORT;
	if (argc > 1) {
		fprintf(stderr, "hotplug-harness bisect-step: unexpected '%s'\n",
			argv[1]);
		return HH_BISECT_ABORT;
	}
	s.tree = hh_bisect_toplevel(o.tree ? o.tree : ".", &err);
	if (!s.tree || !fill_step(&o, &s, 1, &err))
		goto fail;
	if (!commit) {
		const char *args[] = { "rev-parse", "-q", "--verify",
				       "BISECT_HEAD", NULL };

		commit = hh_bisect_git(s.tree, args, NULL, NULL) ?
			g_strdup("BISECT_HEAD") : g_strdup("HEAD");
	}
	s.commit = g_steal_pointer(&commit);
	for (guint i = 0; sigs && sigs[i]; i++)
		g_ptr_array_add(s.signatures, g_strdup(sigs[i]));
	if (sig_file && !load_signatures(s.signatures, sig_file, &err))
		goto fail;
	if (o.state) {
		s.state = g_canonicalize_filename(o.state, NULL);
	} else {
		g_autofree char *dir = hh_bisect_tree_dir(s.tree);

		s.state = g_build_filename(dir, "manual", NULL);
	}
	r = hh_bisect_step_run(&s);
	code = (int)r->verdict;
	goto out;
fail:
	code = step_error(err);
out:
	hh_bisect_step_clear(&s);
	opts_clear(&o);
	return code;
}

/* --- bisect ---------------------------------------------------------------- */

/*
 * git in the user's tree when the bisect ends, also after a signal: the
 * spawn module rightly starts nothing once interrupted, so this one
 * cleanup goes through g_spawn_sync (argv, no shell).
 */
static char *git_cleanup(const char *tree, const char *verb)
{
	const char *argv[] = { "git", "-C", tree, "bisect", verb, NULL };
	char *out = NULL;
	int status = 0;

	if (!g_spawn_sync(NULL, (char **)argv, NULL,
			  G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
			  NULL, NULL, &out, NULL, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL))
		g_clear_pointer(&out, g_free);
	return out;
}

/* Passes on what a bisect-step started by git needs to find what we use. */
static GStrv child_env(void)
{
	static const char *const pass[] = { "HH_CACHE_DIR", "HH_AGENT",
					    "HH_BUSYBOX", "HH_QEMU", NULL };
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();

	g_autofree char *datadir = g_strdup_printf("HH_DATADIR=%s",
						   hh_data_dir());

	g_strv_builder_add(b, datadir);
	for (guint i = 0; pass[i]; i++) {
		g_autofree char *kv = NULL;

		if (!g_getenv(pass[i]))
			continue;
		kv = g_strdup_printf("%s=%s", pass[i], g_getenv(pass[i]));
		g_strv_builder_add(b, kv);
	}
	return g_strv_builder_end(b);
}

typedef struct {
	char *commit, *verdict, *dir, *run_dir, *why;
	double build_s, boot_s;
	guint boots;
} StepLine;

static void step_line_free(StepLine *l)
{
	g_free(l->commit);
	g_free(l->verdict);
	g_free(l->dir);
	g_free(l->run_dir);
	g_free(l->why);
	g_free(l);
}

static GPtrArray *load_steps(const char *state)
{
	g_autofree char *path = g_build_filename(state, "steps.tsv", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)step_line_free);

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return out;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", 8);
		StepLine *l;

		if (g_strv_length(f) != 8)
			continue;
		l = g_new0(StepLine, 1);
		l->commit = g_strdup(f[0]);
		l->verdict = g_strdup(f[1]);
		l->build_s = g_ascii_strtod(f[2], NULL);
		l->boot_s = g_ascii_strtod(f[3], NULL);
		l->boots = (guint)g_ascii_strtoull(f[4], NULL, 10);
		l->dir = g_strdup(f[5]);
		l->run_dir = g_strdup(f[6]);
		l->why = g_strdup(f[7]);
		g_ptr_array_add(out, l);
	}
	return out;
}

/*
 * The kernel log of step n (between its hh-mark lines), indented; the
 * last lines of the log if the marks are missing.
 */
static void print_kmsg(const char *path, gint n)
{
	g_autofree char *text = NULL;
	g_autofree char *begin = g_strdup_printf("hh-mark: step %d begin", n);
	g_autofree char *end = g_strdup_printf("hh-mark: step %d end", n);
	g_auto(GStrv) lines = NULL;
	guint len, from = 0, printed = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	lines = g_strsplit(g_strchomp(text), "\n", -1);
	len = g_strv_length(lines);
	while (from < len && (n < 0 || !strstr(lines[from], begin)))
		from++;
	if (from == len)
		from = len > 8 ? len - 8 : 0;
	for (guint i = from; i < len && printed < 16; i++, printed++) {
		printf("    %s\n", lines[i]);
		if (strstr(lines[i], end))
			break;
	}
}

/* What the first bad commit's failing boot says. */
static void print_failure(const char *run_dir, const char *cell)
{
	g_autoptr(GPtrArray) boots = hh_result_load_repeats(run_dir, cell);

	for (guint b = 0; b < boots->len; b++) {
		JsonObject *o = json_node_get_object(
			json_parser_get_root(boots->pdata[b]));
		g_autofree char *kmsg = g_build_filename(
			run_dir, json_object_get_string_member_with_default(
					 o, "cell", cell) ?: cell,
			"kmsg.log", NULL);
		JsonArray *crashes, *steps;
		const char *status;
		gint failed = -1;

		status = json_object_get_string_member_with_default(o, "status",
								   "?");
		if (g_str_equal(status, "pass") || g_str_equal(status, "skip"))
			continue;
		printf("  status:       %s (%s)\n", status,
		       json_object_get_string_member_with_default(
			       o, "reason", "-") ?: "-");
		printf("  failing step: %s\n",
		       json_object_get_string_member_with_default(
			       o, "failed_step", "-") ?: "-");
		steps = json_object_get_array_member(o, "steps");
		for (guint i = 0; steps && i < json_array_get_length(steps); i++) {
			JsonObject *st = json_array_get_object_element(steps, i);
			const char *msg = json_object_get_string_member_with_default(
				st, "message", NULL);

			if (g_str_equal(json_object_get_string_member_with_default(
					st, "status", "pass"), "pass"))
				continue;
			if (failed < 0)
				failed = (gint)i;
			if (msg)
				printf("  message:      %s\n", msg);
		}
		crashes = json_object_get_array_member(o, "crashes");
		for (guint i = 0; crashes && i < json_array_get_length(crashes); i++) {
			JsonObject *k = json_array_get_object_element(crashes, i);

			printf("  crash title:  %s\n  crash excerpt:\n%s\n",
			       json_object_get_string_member_with_default(
				       k, "title", "?"),
			       json_object_get_string_member_with_default(
				       k, "excerpt", ""));
		}
		if (!crashes || !json_array_get_length(crashes))
			printf("  crash title:  none\n");
		printf("  kernel log of the failing step (%s):\n", kmsg);
		print_kmsg(kmsg, failed);
		return;
	}
}

static int compare_double(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_steps(GPtrArray *steps)
{
	g_autoptr(GArray) incr = g_array_new(FALSE, FALSE, sizeof(double));
	double build = 0, boot = 0;
	guint builds = 0, boots = 0;

	printf("\nsteps (build and boot wall times):\n");
	for (guint i = 0; i < steps->len; i++) {
		StepLine *l = steps->pdata[i];

		printf("  %2u %.12s %-5s build %6.1f s  boot %5.1f s (%u)  %s\n",
		       i + 1, l->commit, l->verdict, l->build_s, l->boot_s,
		       l->boots, l->why);
		if (l->build_s > 0) {
			builds++;
			build += l->build_s;
			if (i > 0)
				g_array_append_val(incr, l->build_s);
		}
		boots += l->boots;
		boot += l->boot_s;
	}
	g_array_sort(incr, compare_double);
	printf("%u step(s), %u build(s) in %.0f s (first %.1f s, median of "
	       "the others %.1f s), %u boot(s) in %.0f s\n", steps->len,
	       builds, build,
	       steps->len ? ((StepLine *)steps->pdata[0])->build_s : 0.0,
	       incr->len ? g_array_index(incr, double, incr->len / 2) : 0.0,
	       boots, boot);
}

/* Boots the two ends; records the bad end's signature for the steps. */
static gboolean check_ends(HhBisectStep *s, const char *good, const char *bad,
			   guint runs, GError **error)
{
	g_autoptr(HhBisectResult) b = NULL, g = NULL;
	g_autofree char *sig_file = g_build_filename(s->state, "signature",
						     NULL);
	g_autofree char *text = NULL;

	s->commit = g_strdup(bad);
	s->runs = 1;
	b = hh_bisect_step_run(s);
	if (b->verdict >= HH_BISECT_ABORT) {
		g_set_error(error, HH_ERROR, b->verdict > HH_BISECT_ABORT ?
			    HH_ERROR_CANCELLED : HH_ERROR_FAILED,
			    "--bad %s: %s", bad, b->why);
		return FALSE;
	}
	if (b->verdict != HH_BISECT_BAD) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "--bad %s is not bad (%s: %s): nothing to bisect",
			    bad, b->verdict ? "skip" : "good", b->why);
		return FALSE;
	}
	g_ptr_array_add(b->signatures, NULL);
	text = g_strjoinv("\n", (char **)b->signatures->pdata);
	g_ptr_array_set_size(b->signatures, b->signatures->len - 1);
	if (!hh_write_file(sig_file, text, -1, error))
		return FALSE;
	fprintf(stderr, "bisect: the bad end fails with: %s\n", text);
	g_free(s->commit);
	s->commit = g_strdup(good);
	s->runs = runs;
	g = hh_bisect_step_run(s);
	if (g->verdict >= HH_BISECT_ABORT) {
		g_set_error(error, HH_ERROR, g->verdict > HH_BISECT_ABORT ?
			    HH_ERROR_CANCELLED : HH_ERROR_FAILED,
			    "--good %s: %s", good, g->why);
		return FALSE;
	}
	if (g->verdict != HH_BISECT_GOOD) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "--good %s is not good: %s", good, g->why);
		return FALSE;
	}
	return TRUE;
}

/* git bisect start --no-checkout + run: the user's working copy is never
 * touched; each step reads BISECT_HEAD. */
static gboolean run_bisect(HhBisectStep *s, const char *good, const char *bad,
			   Opts *o, GError **error)
{
	const char *start[] = { "bisect", "start", "--no-checkout", bad, good,
				NULL };
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *runs = g_strdup_printf("%u", s->runs);
	g_autofree char *jobs = g_strdup_printf("%u", s->jobs);
	g_autofree char *sig = g_build_filename(s->state, "signature", NULL);
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();
	g_auto(GStrv) argv = NULL, env = child_env();

	if (!hh_bisect_git(s->tree, start, NULL, error))
		return FALSE;
	g_strv_builder_add_many(b, "git", "-C", s->tree, "bisect", "run", self,
				"bisect-step", "--tree", s->tree, "--cell",
				s->cell, "--runs", runs, "--matrix", s->matrix,
				"--state", s->state, "--signature-file", sig,
				"--fragments", s->fragments_dir, NULL);
	if (s->patches_dir)
		g_strv_builder_add_many(b, "--patches", s->patches_dir, NULL);
	else
		g_strv_builder_add(b, "--no-patches");
	if (s->jobs)
		g_strv_builder_add_many(b, "-j", jobs, NULL);
	if (o->quiet)
		g_strv_builder_add(b, "--quiet");
	argv = g_strv_builder_end(b);
	return hh_run((const char *const *)argv, NULL,
		      (const char *const *)env, NULL, HH_SPAWN_INHERIT_OUTPUT,
		      NULL, error);
}

/* "# first bad commit: [SHA] subject" of a bisect log, or NULL. */
static char *first_bad(const char *log, char **line)
{
	const char *p = log ? strstr(log, "# first bad commit: [") : NULL;
	const char *end;

	if (!p)
		return NULL;
	end = strchr(p, '\n');
	*line = g_strndup(p + 2, end ? (gsize)(end - p - 2) : strlen(p + 2));
	p += strlen("# first bad commit: [");
	return g_strndup(p, strcspn(p, "]"));
}

int hh_cmd_bisect(int argc, char **argv)
{
	Opts o = { 0 };
	g_autofree char *good_rev = NULL, *bad_rev = NULL;
	g_autofree char *good = NULL, *bad = NULL, *log = NULL;
	g_autofree char *log_path = NULL, *bad_commit = NULL, *bad_line = NULL;
	const GOptionEntry entries[] = {
		{ "good", 'g', 0, G_OPTION_ARG_STRING, &good_rev,
		  "a commit where the cell passes (required)", "REV" },
		{ "bad", 'b', 0, G_OPTION_ARG_STRING, &bad_rev,
		  "a commit where it fails (required)", "REV" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"- find the commit that broke a cell");
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) steps = NULL;
	HhBisectStep s = { 0 };
	gint64 t0 = hh_now_ms();
	gboolean started = FALSE;
	int code;

	add_common_entries(ctx, &o);
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Boots the cell at --bad (it must fail; its crash title or "
		"failing step is\nthe signature) and --runs times at --good (all "
		"must pass), then runs\n'git bisect run hotplug-harness "
		"bisect-step' in --tree without touching\nits working copy.  "
		"A commit is bad only if it fails with the signature;\na build "
		"failure, a series that does not apply or a different failure "
		"is\nskipped.  Ends with 'git bisect reset'; the bisect log is "
		"kept in the\nstate directory for 'git bisect replay'.  Exit "
		"status 0: first bad commit\nfound, 1: inconclusive (skipped "
		"commits left), 2: error.");
	if (!hh_parse_options(ctx, &argc, &argv, &code))
		return code;
	if (argc > 1 || !o.tree || !good_rev || !bad_rev) {
		fprintf(stderr, "usage: hotplug-harness bisect --tree DIR --good "
				"REV --bad REV --cell KERNEL/VARIANT/SCENARIO "
				"[--runs N] (see --help)\n");
		opts_clear(&o);
		return HH_EXIT_USAGE;
	}
	s.tree = hh_bisect_toplevel(o.tree, &err);
	if (!s.tree || !fill_step(&o, &s, 2, &err))
		goto fail;
	{
		g_autofree char *gs = g_strdup_printf("%s^{commit}", good_rev);
		g_autofree char *bs = g_strdup_printf("%s^{commit}", bad_rev);
		const char *ga[] = { "rev-parse", "-q", "--verify", gs, NULL };
		const char *ba[] = { "rev-parse", "-q", "--verify", bs, NULL };
		const char *bisecting[] = { "bisect", "log", NULL };

		if (!hh_bisect_git(s.tree, ga, &good, NULL) ||
		    !hh_bisect_git(s.tree, ba, &bad, NULL)) {
			g_set_error(&err, HH_ERROR, HH_ERROR_USAGE,
				    "--%s '%s' is not a commit of '%s'",
				    good ? "bad" : "good", good ? bad_rev :
				    good_rev, s.tree);
			goto fail;
		}
		if (hh_bisect_git(s.tree, bisecting, NULL, NULL)) {
			g_set_error(&err, HH_ERROR, HH_ERROR_FAILED,
				    "a bisect is already in progress in '%s': "
				    "'git -C %s bisect reset' ends it",
				    s.tree, s.tree);
			goto fail;
		}
	}
	if (o.state) {
		s.state = g_canonicalize_filename(o.state, NULL);
	} else {
		g_autofree char *dir = hh_bisect_tree_dir(s.tree);
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();
		g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");

		s.state = g_build_filename(dir, "runs", stamp, NULL);
	}
	if (!hh_mkdir_p(s.state, 0755, &err))
		goto fail;
	fprintf(stderr, "bisect: %s in %s between %.12s (good) and %.12s "
			"(bad); state in %s\n", s.cell, s.tree, good, bad,
		s.state);
	if (!check_ends(&s, good, bad, s.runs, &err))
		goto fail;
	started = TRUE;
	if (!run_bisect(&s, good, bad, &o, &err))
		goto fail;
	code = HH_EXIT_OK;
	goto out;
fail:
	code = hh_report_error(err);
out:
	steps = load_steps(s.state ? s.state : "/nonexistent");
	if (s.tree && hh_spawn_interrupted())
		hh_bisect_kill_orphans(s.tree);
	if (started) {
		log = git_cleanup(s.tree, "log");
		log_path = g_build_filename(s.state, "bisect.log", NULL);
		if (log)
			hh_write_file(log_path, log, -1, NULL);
		g_free(git_cleanup(s.tree, "reset"));
		bad_commit = first_bad(log, &bad_line);
	}
	if (steps->len)
		print_steps(steps);
	if (bad_commit) {
		printf("\n%s\n", bad_line);
		for (guint i = steps->len; i-- > 0;) {
			StepLine *l = steps->pdata[i];

			if (g_str_equal(l->commit, bad_commit) &&
			    g_str_equal(l->verdict, "bad")) {
				print_failure(l->run_dir, s.cell);
				break;
			}
		}
	} else if (started && code == HH_EXIT_OK) {
		fprintf(stderr, "bisect: no first bad commit (only skipped "
				"commits left?); see %s\n", log_path);
		code = HH_EXIT_FAILURES;
	}
	if (log)
		printf("bisect log: %s (replay: git -C %s bisect replay %s)\n",
		       log_path, s.tree, log_path);
	if (s.state)
		printf("total %.0f s; state: %s\n",
		       (hh_now_ms() - t0) / 1000.0, s.state);
	hh_bisect_step_clear(&s);
	opts_clear(&o);
	return code;
}
