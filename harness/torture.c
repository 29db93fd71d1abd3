/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hotplug torture: the driver.  Each episode is one ordinary cell
 * (cell.c) restored from the boot snapshot, whose steps come from here one
 * at a time (HhCellSpec.next_step): an operation drawn from the episode's
 * seed, then a check step whose expectations are the model's state after
 * the result the guest gave.  Everything a cell does for a scenario (the
 * kernel log, crash analysis, timeouts, result.json, no orphan QEMU) is
 * the cell's.  A failing episode is shrunk with ddmin by running
 * subsequences of its operations as new cells, and written as a scenario.
 */
#include "config.h"

#include "torture.h"
#include "archive.h"
#include "commands.h"
#include "ddmin.h"
#include "hh-error.h"
#include "initramfs.h"
#include "kconfig.h"
#include "logcheck.h"
#include "matrix.h"
#include "paths.h"
#include "report.h"
#include "run.h"
#include "scenario.h"
#include "snapshot.h"
#include "spawn.h"
#include "torture-model.h"
#include "util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

/* A kernel splat in an operation's window (the crash analyser reads the
 * whole log again when the cell ends). */
#define SPLAT_CHECK "no-log \"Call Trace:|WARNING: CPU:|BUG:|Oops|KASAN|general protection fault\"\n"

void hh_torture_options_init(HhTortureOptions *o)
{
	*o = (HhTortureOptions){
		.episode = 200, .jobs = 1, .repro_runs = 3,
		.timeouts = { .boot_ms = 120000, .request_ms = 60000,
			      .shutdown_ms = 30000 },
	};
}

gboolean hh_torture_parse_duration(const char *option, const char *text,
				   gboolean zero_ok, guint *secs,
				   GError **error)
{
	char *end = NULL;
	guint64 n = g_ascii_strtoull(text, &end, 10);
	guint mult = 1;

	if (end == text)
		goto bad;
	if (g_str_equal(end, "m"))
		mult = 60;
	else if (g_str_equal(end, "h"))
		mult = 3600;
	else if (*end && !g_str_equal(end, "s"))
		goto bad;
	if ((!n && !zero_ok) || n > 7 * 24 * 3600 / mult)
		goto bad;
	*secs = (guint)n * mult;
	return TRUE;
bad:
	g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
		    "%s %s: expected %sa duration like 90s, 30m or 2h (at most "
		    "a week)", option, text, zero_ok ? "0 or " : "");
	return FALSE;
}

guint64 hh_torture_episode_seed(guint64 seed, guint episode)
{
	/* splitmix64 of (seed, episode): episodes far apart in the stream */
	guint64 z = seed + 0x9e3779b97f4a7c15ull * (episode + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

char *hh_torture_signature(const HhCellResult *r)
{
	const char *reason = r->reason ? r->reason : "";
	const char *p;

	if (r->crashes && r->crashes->len)
		return g_strdup_printf("crash: %s",
				       (char *)r->crashes->pdata[0]);
	if (r->verdict == HH_V_PASS || r->verdict == HH_V_SKIP)
		return NULL;
	/* "line N: WHAT: why" -> WHAT */
	if (g_str_has_prefix(reason, "line ") && (p = strstr(reason, ": ")))
		reason = p + 2;
	p = strstr(reason, ": ");
	return g_strdup_printf("%s: %.*s", hh_verdict_name(r->verdict),
			       p ? (int)(p - reason) : (int)strlen(reason),
			       reason);
}

/* ---- the run ---- */

typedef struct {
	guint episode;
	guint64 seed;
	GArray *drawn;		/* HhTmOp: every operation drawn */
	guint failed_at;	/* drawn index of the failing operation */
	char *signature;
	char *dir;
	char *scenario;		/* written scenario, once shrunk */
	guint shrunk_len;
	guint shrink_runs;
	double shrink_seconds;
	guint repro_ok, repro_n;
	gboolean duplicate;
	char *body;		/* the scenario text of the episode as it ran */
	gboolean replayed;	/* its prefix failed again from the snapshot */
} Finding;

typedef struct {
	const HhTortureOptions *o;
	HhMatrix *matrix;
	HhMatrixKernel *kdef;
	HhKernelBuild *build;
	GHashTable *kconfig;
	HhVariant *variant;
	HhInitramfs *img;
	HhVmBackend *backend;
	HhAccel accel;
	HhSnapshot *snap;
	HhSuppressions *sup;
	HhTmConfig cfg;
	HhScenario *base;	/* the boot step and the scenario's name */
	char *run_id, *run_dir, *matrix_path;
	HhArchive *archive;
	guint64 seed;
	gint64 t0, deadline;
	GMutex lock;
	guint next_episode;
	guint ops_reserved;	/* drawn by started episodes */
	guint ops_run;		/* run in the guest */
	guint episodes;
	guint64 op_ms;		/* time inside episodes' steps */
	gboolean stop;
	guint errors_in_row;	/* episodes ending in a harness error */
	GPtrArray *findings;	/* Finding* */
	GPtrArray *cells;	/* Done*: archived when the run ends */
} Torture;

/* A finished episode, for the archive. */
typedef struct {
	char *name, *dir, *leaf;
	HhCellResult *result;
} Done;

static void done_free(gpointer p)
{
	Done *d = p;

	g_free(d->name);
	g_free(d->dir);
	g_free(d->leaf);
	hh_cell_result_free(d->result);
	g_free(d);
}

static void finding_free(gpointer p)
{
	Finding *f = p;

	g_array_unref(f->drawn);
	g_free(f->signature);
	g_free(f->dir);
	g_free(f->scenario);
	g_free(f->body);
	g_free(f);
}

/* ---- one cell: a trial ---- */

typedef struct {
	Torture *t;
	HhTmModel model;
	GArray *plan;		/* HhTmOp to replay, or NULL: draw from gen */
	HhTmGen *gen;
	guint limit;		/* operations to draw at most */
	GArray *drawn;		/* HhTmOp */
	guint ran;		/* operations run in the guest */
	guint last_drawn;	/* drawn index of the operation running */
	gboolean pending;	/* an operation ran; its check is next */
	HhTmOp cur;
	HhTmLegal legal;
	GPtrArray *keep;	/* HhScenario*: the steps handed out */
	GString *body;		/* the scenario text of what ran */
	gint64 deadline;	/* 0: none */
	gboolean broken;	/* a step of its own did not parse */
} Trial;

static const HhStep *parse_step(Trial *tr, const char *text, guint line)
{
	g_autoptr(GError) err = NULL;
	HhScenario *sc = hh_scenario_parse(text, "torture", NULL, &err);
	HhStep *s;

	if (!sc || sc->steps->len < 2) {
		/* a model bug: the cell ends here, saying why */
		fprintf(stderr, "torture: cannot parse its own step '%s': "
			"%s\n", text, err ? err->message : "no action");
		tr->broken = TRUE;
		if (sc)
			hh_scenario_free(sc);
		return NULL;
	}
	g_ptr_array_add(tr->keep, sc);
	s = sc->steps->pdata[1];
	s->line = line;
	for (guint i = 0; i < s->expects->len; i++)
		((HhExpect *)s->expects->pdata[i])->line = line;
	return s;
}

static gboolean host_action(HhTmKind k)
{
	return k == HH_TM_DIMM_ADD || k == HH_TM_DIMM_DEL || k == HH_TM_WORKLOAD;
}

static gboolean trial_draw(Trial *tr, HhTmOp *op)
{
	if (tr->plan) {
		if (tr->drawn->len >= tr->plan->len)
			return FALSE;
		*op = g_array_index(tr->plan, HhTmOp, tr->drawn->len);
	} else {
		if (tr->drawn->len >= tr->limit ||
		    (tr->deadline && hh_now_ms() >= tr->deadline))
			return FALSE;
		hh_tm_gen_next(tr->gen, op);
	}
	g_array_append_val(tr->drawn, *op);
	return TRUE;
}

static const char *result_word(gint err)
{
	return err ? hh_errno_name(err) : "ok";
}

/* The operation line as the written scenario has it: the result the guest
 * gave where the model allowed two, else what the model says. */
static void record_op(Trial *tr, gint err)
{
	g_autofree char *line = hh_tm_op_line(&tr->cur);
	g_autofree char *suffix = NULL;

	if (tr->legal.n == 2 && err >= 0 && !host_action(tr->cur.kind))
		suffix = g_strdup_printf(" -> %s", result_word(err));
	else
		suffix = hh_tm_result_suffix(&tr->cur, tr->legal);
	g_string_append_printf(tr->body, "\n# operation %u\n%s%s\n" SPLAT_CHECK,
			       tr->ran, line, suffix);
}

static const HhStep *trial_next(gpointer data, guint idx,
				const HhCellStepOutcome *last)
{
	Trial *tr = data;
	HhTmOp op;

	(void)idx;
	if (tr->pending) {
		gint err = host_action(tr->cur.kind) ? 0 : last->err;
		g_autofree char *expect = NULL, *text = NULL;

		tr->pending = FALSE;
		hh_tm_apply(&tr->model, &tr->cur, MAX(err, 0));
		record_op(tr, err);
		expect = hh_tm_expectations(&tr->model,
					    tr->cur.kind == HH_TM_DIMM_ADD ||
					    tr->cur.kind == HH_TM_DIMM_DEL);
		g_string_append(tr->body, expect);
		text = g_strdup_printf("mark \"check after operation %u\"\n%s",
				       tr->ran, expect);
		return parse_step(tr, text, tr->ran);
	}
	while (!hh_spawn_interrupted() && trial_draw(tr, &op)) {
		g_autofree char *line = NULL, *suffix = NULL, *text = NULL;
		HhTmLegal legal = hh_tm_legal(&tr->model, &op);

		if (!legal.n)
			continue;	/* its target is not there */
		tr->cur = op;
		tr->legal = legal;
		tr->pending = TRUE;
		tr->ran++;
		tr->last_drawn = tr->drawn->len - 1;
		line = hh_tm_op_line(&op);
		suffix = hh_tm_result_suffix(&op, legal);
		text = g_strdup_printf("%s%s\n" SPLAT_CHECK, line, suffix);
		return parse_step(tr, text, tr->ran);
	}
	return NULL;
}

static char *base_text(const HhTmConfig *cfg)
{
	HhTmModel m;
	g_autofree char *expect = NULL;

	hh_tm_init(&m, cfg);
	expect = hh_tm_expectations(&m, FALSE);
	return g_strdup_printf("description hotplug torture\n%s", expect);
}

static void spec_fill(Torture *t, HhCellSpec *spec, const char *name,
		      const char *dir)
{
	memset(spec, 0, sizeof(*spec));
	spec->name = (char *)name;
	spec->kernel_name = t->kdef->name;
	spec->bzimage = t->build->bzimage;
	spec->kconfig = t->kconfig;
	spec->kernel_release = t->build->release;
	spec->initrd = t->img->path;
	spec->variant = t->variant;
	spec->scenario = t->base;
	spec->suppressions = t->sup;
	spec->backend = t->backend;
	spec->accel = t->accel;
	spec->timeouts = t->o->timeouts;
	spec->dir = (char *)dir;
	spec->snapshot = t->snap;
	spec->repeat_index = 1;
	spec->baseline_nodes = t->cfg.possible_nodes;
}

/* Runs a trial as a cell in dir; the trial keeps what it drew and ran. */
static HhCellResult *run_trial(Torture *t, Trial *tr, const char *name,
			       const char *dir)
{
	HhCellSpec spec;
	g_autofree char *vm = g_strdup_printf("hh-%s-%s", t->run_id, name);
	g_autofree char *rerun = g_strdup_printf(
		"hotplug-harness torture --kernel %s --variant %s --seed %"
		G_GUINT64_FORMAT " --episode %u", t->kdef->name, t->variant->name,
		t->seed, t->o->episode);
	HhCellResult *r;

	for (char *p = vm; *p; p++)
		if (*p == '/')
			*p = '-';
	tr->t = t;
	hh_tm_init(&tr->model, &t->cfg);
	tr->drawn = g_array_new(FALSE, FALSE, sizeof(HhTmOp));
	tr->keep = g_ptr_array_new_with_free_func(
		(GDestroyNotify)hh_scenario_free);
	tr->body = g_string_new(NULL);
	spec_fill(t, &spec, name, dir);
	spec.vm_name = vm;
	spec.rerun = rerun;
	spec.next_step = trial_next;
	spec.next_data = tr;
	r = hh_cell_run(&spec);
	if (tr->pending) {
		/* the operation itself failed: as the model expected it */
		g_autofree char *line = hh_tm_op_line(&tr->cur);
		g_autofree char *suffix = hh_tm_result_suffix(&tr->cur,
							      tr->legal);

		g_autofree char *expect = NULL;

		/* and what must hold after it, where it works */
		hh_tm_apply(&tr->model, &tr->cur, tr->legal.err[0]);
		expect = hh_tm_expectations(&tr->model,
					    tr->cur.kind == HH_TM_DIMM_ADD ||
					    tr->cur.kind == HH_TM_DIMM_DEL);
		g_string_append_printf(tr->body, "\n# operation %u\n%s%s\n"
				       SPLAT_CHECK "%s", tr->ran, line, suffix,
				       expect);
	}
	return r;
}

static void trial_clear(Trial *tr)
{
	g_clear_pointer(&tr->drawn, g_array_unref);
	g_clear_pointer(&tr->keep, g_ptr_array_unref);
	if (tr->body)
		g_string_free(tr->body, TRUE);
	tr->body = NULL;
	g_clear_pointer(&tr->gen, hh_tm_gen_free);
}

static gboolean is_failure(const HhCellResult *r)
{
	return r->verdict == HH_V_FAIL || r->verdict == HH_V_CRASH ||
	       r->verdict == HH_V_TIMEOUT;
}

static void archive_cell(Torture *t, const Done *d)
{
	g_autoptr(GError) err = NULL;
	const HhCellResult *r = d->result;
	HhArchiveCell c = {
		.name = d->name, .kernel = t->kdef->name,
		.variant = t->variant->name, .scenario = d->leaf,
		.status = (char *)hh_verdict_name(r->verdict),
		.reason = r->reason, .phase = r->phase, .boot = r->boot_mode,
		.dir = d->dir, .boot_ms = r->boot_ms,
		.steps_ms = r->steps_ms, .shutdown_ms = r->shutdown_ms,
		.total_ms = (gint64)(r->seconds * 1000),
		.failed_step = r->failed_step, .crashes = r->crashes,
		.host = (char *)g_get_host_name(),
		.start_ms = r->started_us / 1000,
	};

	if (!hh_archive_cell(t->archive, t->run_id, &c, &err))
		fprintf(stderr, "warning: %s\n", err->message);
}

/* ---- episodes ---- */

static gboolean next_episode(Torture *t, guint *e, guint *n)
{
	gboolean go;

	g_mutex_lock(&t->lock);
	*n = t->o->episode;
	if (t->o->ops)
		*n = MIN(*n, t->o->ops - MIN(t->ops_reserved, t->o->ops));
	go = !t->stop && *n > 0 && !hh_spawn_interrupted() &&
	     !(t->deadline && hh_now_ms() >= t->deadline);
	if (go) {
		*e = t->next_episode++;
		t->ops_reserved += *n;
	}
	g_mutex_unlock(&t->lock);
	return go;
}

static gpointer worker(gpointer data)
{
	Torture *t = data;
	guint e, n;

	while (next_episode(t, &e, &n)) {
		Trial tr = { 0 };
		g_autofree char *leaf = g_strdup_printf("torture-e%04u", e);
		g_autofree char *name = g_strdup_printf(
			"%s/%s/%s", t->kdef->name, t->variant->name, leaf);
		g_autofree char *dir = g_build_filename(
			t->run_dir, t->kdef->name, t->variant->name, leaf, NULL);
		g_autofree char *sig = NULL;
		HhCellResult *r;
		Done *d = g_new0(Done, 1);
		guint64 seed = hh_torture_episode_seed(t->seed, e);

		tr.gen = hh_tm_gen_new(&t->cfg, seed);
		tr.limit = n;
		tr.deadline = t->deadline;
		r = run_trial(t, &tr, name, dir);
		sig = hh_torture_signature(r);
		d->name = g_strdup(name);
		d->dir = g_strdup(dir);
		d->leaf = g_strdup(leaf);
		d->result = r;
		g_mutex_lock(&t->lock);
		g_ptr_array_add(t->cells, d);
		t->ops_run += tr.ran;
		t->episodes++;
		t->op_ms += r->steps_ms;
		fprintf(stderr, "torture: episode %u (seed %#" G_GINT64_MODIFIER
			"x): %u operation(s), %s (%u in all, %.0f s)\n", e,
			seed, tr.ran, sig ? sig : hh_verdict_name(r->verdict),
			t->ops_run,
			(hh_now_ms() - t->t0) / 1000.0);
		if (is_failure(r) && sig) {
			Finding *f = g_new0(Finding, 1);

			f->episode = e;
			f->seed = seed;
			f->drawn = g_array_ref(tr.drawn);
			f->body = g_strdup(tr.body->str);
			f->failed_at = tr.last_drawn;
			f->signature = g_steal_pointer(&sig);
			f->dir = g_strdup(dir);
			for (guint i = 0; i < t->findings->len; i++)
				if (g_str_equal(((Finding *)t->findings->pdata[i])->signature,
						f->signature))
					f->duplicate = TRUE;
			g_ptr_array_add(t->findings, f);
			if (!t->o->keep_going)
				t->stop = TRUE;
		} else if (hh_spawn_interrupted()) {
			t->stop = TRUE;
		} else if (tr.broken ||
			   (r->verdict == HH_V_ERROR && ++t->errors_in_row >= 3)) {
			fprintf(stderr, "torture: episode %u: harness error, "
				"stopping: %s\n", e, r->reason);
			t->stop = TRUE;
		} else if (r->verdict == HH_V_ERROR) {
			/* QEMU or the host hiccuped: not the kernel's fault,
			 * not a finding; three in a row stop the run */
			fprintf(stderr, "torture: episode %u: harness error "
				"(%s), going on\n", e, r->reason);
		} else {
			t->errors_in_row = 0;
		}
		g_mutex_unlock(&t->lock);
		trial_clear(&tr);
	}
	return NULL;
}

/* ---- shrinking ---- */

typedef struct {
	Torture *t;
	Finding *f;
	GArray *prefix;		/* HhTmOp: drawn[0..failed_at] */
	guint n;		/* tests so far */
	char *dir;		/* shrink directory */
	char *last_fail_dir;	/* newest failing try, kept */
	char *last_body;	/* its scenario text */
	guint last_ran;
} Shrink;

static GArray *subset(GArray *ops, const guint *idx, guint len)
{
	GArray *out = g_array_sized_new(FALSE, FALSE, sizeof(HhTmOp), len);

	for (guint i = 0; i < len; i++)
		g_array_append_val(out, g_array_index(ops, HhTmOp, idx[i]));
	return out;
}

/* Runs plan once; TRUE if it failed the same way. */
static gboolean try_plan(Shrink *sh, GArray *plan, gboolean keep)
{
	Torture *t = sh->t;
	Trial tr = { 0 };
	g_autofree char *leaf = g_strdup_printf("try-%03u", ++sh->n);
	g_autofree char *name = g_strdup_printf("%s/%s/shrink-e%04u-%s",
						t->kdef->name, t->variant->name,
						sh->f->episode, leaf);
	g_autofree char *dir = g_build_filename(sh->dir, leaf, NULL);
	g_autoptr(HhCellResult) r = NULL;
	g_autofree char *sig = NULL;
	gboolean same;

	tr.plan = plan;
	r = run_trial(t, &tr, name, dir);
	sig = hh_torture_signature(r);
	same = is_failure(r) && sig && g_str_equal(sig, sh->f->signature);
	fprintf(stderr, "torture: shrink %u: %u operation(s): %s\n", sh->n,
		plan->len, same ? "fails the same way" :
		sig ? sig : "passes");
	if (same) {
		if (sh->last_fail_dir && !keep)
			hh_rm_rf(sh->last_fail_dir, NULL);
		g_free(sh->last_fail_dir);
		sh->last_fail_dir = g_steal_pointer(&dir);
		g_free(sh->last_body);
		sh->last_body = g_strdup(tr.body->str);
		sh->last_ran = tr.ran;
	} else if (!keep) {
		hh_rm_rf(dir, NULL);
	}
	trial_clear(&tr);
	return same;
}

static gboolean still_fails(const guint *idx, guint len, gpointer data)
{
	Shrink *sh = data;
	g_autoptr(GArray) plan = subset(sh->prefix, idx, len);

	if (hh_spawn_interrupted())
		return FALSE;
	return try_plan(sh, plan, FALSE);
}

static char *scenario_name(Torture *t, Finding *f)
{
	return g_strdup_printf("torture-%s-s%" G_GUINT64_FORMAT "-e%u",
			       t->kdef->name, t->seed, f->episode);
}

static gboolean write_scenario(Torture *t, Finding *f, Shrink *sh,
			       GArray *minimal, GError **error)
{
	g_autofree char *name = scenario_name(t, f);
	g_autofree char *dir = t->o->scenario_dir ?
		g_strdup(t->o->scenario_dir) : g_strdup(t->run_dir);
	g_autofree char *requires = hh_tm_requires(&t->cfg, minimal);
	g_autofree char *path = NULL;
	g_autoptr(GString) s = g_string_new(NULL);
	g_autoptr(HhScenario) check = NULL;

	g_string_append_printf(s,
		"# Found by hotplug-harness torture on kernel '%s' (%s), "
		"variant %s:\n"
		"#   hotplug-harness torture --kernel %s --variant %s --seed %"
		G_GUINT64_FORMAT " --episode %u --first-episode %u --ops %u\n"
		"# episode %u (seed %#" G_GINT64_MODIFIER "x) failed at "
		"operation %u of the %u drawn;\n"
		"# %s to %u operation(s) in %u run(s), %.0f s; "
		"the %s sequence failed in %u of %u run(s)%s.\n"
		"# Failure: %s\n"
		"# Reproduce: hotplug-harness run --matrix %s --only '%s/%s/%s'\n",
		t->kdef->name, t->build->release, t->variant->name,
		t->kdef->name, t->variant->name, t->seed, t->o->episode,
		f->episode, f->drawn->len, f->episode, f->seed,
		f->failed_at + 1, f->drawn->len,
		f->replayed ? "shrunk (ddmin)" : "NOT shrunk (it did not fail "
		"again from the snapshot), kept", minimal->len,
		f->shrink_runs, f->shrink_seconds,
		f->replayed ? "shrunk" : "replayed", f->repro_ok,
		f->repro_n, f->repro_ok < f->repro_n ? " (flaky)" : "",
		f->signature,
		t->o->matrix ? t->o->matrix : "configs/torture.matrix",
		t->kdef->name, t->variant->name, name);
	g_string_append_printf(s, "description torture finding: %s\n",
			       f->signature);
	g_string_append_printf(s, "variants %s\n%s", t->variant->name,
			       requires);
	g_string_append(s, sh->last_body);
	/* It must be an ordinary scenario. */
	check = hh_scenario_parse(s->str, name, NULL, error);
	if (!check) {
		g_prefix_error(error, "torture wrote a scenario it cannot "
				      "parse: ");
		return FALSE;
	}
	if (!hh_mkdir_p(dir, 0755, error))
		return FALSE;
	path = g_strdup_printf("%s/%s.scenario", dir, name);
	if (!hh_write_file(path, s->str, -1, error))
		return FALSE;
	f->scenario = g_steal_pointer(&path);
	return TRUE;
}

#define REPLAYS 3

static void shrink(Torture *t, Finding *f)
{
	Shrink sh = { .t = t, .f = f };
	g_autoptr(GArray) minimal_idx = NULL, minimal = NULL;
	g_autoptr(GError) err = NULL;
	HhDdminStats st;
	gint64 t0 = hh_now_ms();

	sh.prefix = g_array_sized_new(FALSE, FALSE, sizeof(HhTmOp),
				      f->failed_at + 1);
	g_array_append_vals(sh.prefix, f->drawn->data, f->failed_at + 1);
	sh.dir = g_build_filename(t->run_dir, t->kdef->name, t->variant->name,
				  NULL);
	sh.dir = g_strdup_printf("%s/shrink-e%04u", sh.dir, f->episode);
	fprintf(stderr, "torture: shrinking episode %u: %u operation(s) "
		"drawn up to the failure (%s)\n", f->episode, sh.prefix->len,
		f->signature);
	/* The prefix first: the failure must reproduce from the snapshot
	 * (a result the kernel may choose, or a workload's timing, can take
	 * a replay elsewhere: up to REPLAYS tries). */
	for (guint i = 0; i < REPLAYS && !f->replayed; i++)
		f->replayed = !hh_spawn_interrupted() &&
			      try_plan(&sh, sh.prefix, FALSE);
	if (!f->replayed) {
		fprintf(stderr, "torture: episode %u did not fail again in %u "
			"replay(s): not shrunk (see %s)\n", f->episode, REPLAYS,
			f->dir);
		f->shrink_runs = sh.n;
		f->repro_n = REPLAYS;
		/* the episode as it ran is still the best reproducer */
		g_free(sh.last_body);
		sh.last_body = g_strdup(f->body);
		if (!write_scenario(t, f, &sh, sh.prefix, &err))
			fprintf(stderr, "torture: %s\n", err->message);
		goto out;
	}
	minimal_idx = hh_ddmin(sh.prefix->len, still_fails, &sh, 0, &st);
	minimal = subset(sh.prefix, (guint *)minimal_idx->data,
			 minimal_idx->len);
	f->shrink_runs = sh.n;
	f->shrink_seconds = (hh_now_ms() - t0) / 1000.0;
	f->shrunk_len = minimal->len;
	/* How reliably does the shrunk sequence fail? */
	f->repro_n = MAX(t->o->repro_runs, 1);
	for (guint i = 0; i < f->repro_n; i++)
		f->repro_ok += try_plan(&sh, minimal, i + 1 == f->repro_n);
	if (!f->repro_ok) {
		/* write what failed during the shrink: still a reproducer,
		 * with a rate of 0 in n said */
		fprintf(stderr, "torture: the shrunk sequence did not fail "
			"again in %u run(s): flaky\n", f->repro_n);
	}
	if (!write_scenario(t, f, &sh, minimal, &err))
		fprintf(stderr, "torture: %s\n", err->message);
	else
		fprintf(stderr, "torture: episode %u shrunk from %u to %u "
			"operation(s) in %u run(s) (%.0f s); failed in %u of %u "
			"re-run(s)%s; scenario: %s\n", f->episode,
			sh.prefix->len, minimal->len, f->shrink_runs,
			f->shrink_seconds, f->repro_ok, f->repro_n,
			f->repro_ok < f->repro_n ? " (flaky)" : "",
			f->scenario);
out:
	g_array_unref(sh.prefix);
	g_free(sh.dir);
	g_free(sh.last_fail_dir);
	g_free(sh.last_body);
}

/* ---- setup ---- */

static gboolean setup(Torture *t, GError **error)
{
	const HhTortureOptions *o = t->o;
	g_autofree char *vpath = NULL, *text = NULL, *sup = NULL;
	const char *vname = o->variant;

	t->matrix_path = o->matrix ? hh_resolve_config(o->matrix) :
				     hh_data_path("configs/torture.matrix");
	t->matrix = hh_matrix_load(t->matrix_path, error);
	if (!t->matrix)
		return FALSE;
	for (guint i = 0; i < t->matrix->kernels->len; i++) {
		HhMatrixKernel *k = t->matrix->kernels->pdata[i];

		if (o->kernel && g_str_equal(k->name, o->kernel))
			t->kdef = k;
	}
	if (!t->kdef) {
		g_autoptr(GString) names = g_string_new(NULL);

		for (guint i = 0; i < t->matrix->kernels->len; i++)
			g_string_append_printf(names, "%s%s", i ? ", " : "",
				((HhMatrixKernel *)t->matrix->kernels->pdata[i])->name);
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--kernel %s: %s names no such kernel (it has: %s)",
			    o->kernel ? o->kernel : "(none)", t->matrix_path,
			    names->str);
		return FALSE;
	}
	/* A debug kernel needs acpi=noirq under TCG (the variant says why) */
	if (!vname)
		vname = t->kdef->spec.configs &&
			g_strv_contains((const char *const *)t->kdef->spec.configs,
					"debug") ?
			"torture-emu-debug" : "torture-emu";
	vpath = g_strdup_printf("configs/variants/%s.variant", vname);
	{
		g_autofree char *p = hh_data_path(vpath);

		t->variant = hh_variant_load(g_file_test(vpath, G_FILE_TEST_EXISTS) ?
					     vpath : p, error);
	}
	if (!t->variant)
		return FALSE;
	sup = hh_data_path("configs/suppressions");
	if (g_file_test(sup, G_FILE_TEST_EXISTS)) {
		t->sup = hh_suppressions_load(sup, error);
		if (!t->sup)
			return FALSE;
	}
	t->build = hh_kernel_build(&t->kdef->spec, error);
	if (!t->build)
		return FALSE;
	t->kconfig = hh_kconfig_load(t->build->config, error);
	if (!t->kconfig)
		return FALSE;
	if (!hh_tm_config_from(t->variant, t->kconfig, &t->cfg, error))
		return FALSE;
	t->img = hh_initramfs_build(hh_agent_path(), hh_busybox_path(), error);
	if (!t->img)
		return FALSE;
	t->backend = hh_vm_backend_open("qemu", NULL, error);
	if (!t->backend)
		return FALSE;
	t->accel = hh_accel_resolve(t->backend, o->accel, t->build->bzimage);
	text = base_text(&t->cfg);
	t->base = hh_scenario_parse(text, "torture", NULL, error);
	if (!t->base)
		return FALSE;
	g_free(t->base->name);
	t->base->name = g_strdup("torture");
	return TRUE;
}

static void make_snapshot(Torture *t)
{
	HhCellSpec spec;
	HhVmConfig cfg;
	g_autofree char *cmdline = NULL, *key = NULL, *label = NULL;
	g_autoptr(GError) err = NULL;

	spec_fill(t, &spec, "torture", t->run_dir);
	spec.snapshot = NULL;
	hh_cell_vm_config(&spec, &cfg, &cmdline);
	key = hh_snapshot_key(t->backend, &cfg, &err);
	label = g_strdup_printf("%s/%s", t->kdef->name, t->variant->name);
	if (key)
		t->snap = hh_snapshot_get(t->backend, &cfg, key, label,
					  t->o->timeouts.boot_ms, &err);
	if (!t->snap)
		fprintf(stderr, "torture: no boot snapshot (%s): every episode "
			"boots cold\n", err ? err->message : "?");
}

/* The run in results/archive.sqlite, with its seed, rate and outcome in
 * its label, each episode a cell: `results`, `report` and the HTML report
 * show it like any run. */
static void archive_run(Torture *t, const char *start, const char *end,
			const char *label)
{
	g_autofree char *path = g_build_filename(t->o->results ? t->o->results :
						 "results", "archive.sqlite",
						 NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) planned = g_ptr_array_new();
	g_autofree char *ch = hh_sha256_file(t->build->config, NULL);
	HhArchiveRun r = {
		.id = t->run_id, .start = (char *)start,
		.host = (char *)g_get_host_name(), .version = PACKAGE_VERSION,
		.matrix = t->matrix_path, .repeat = 1, .label = (char *)label,
	};
	HhArchiveKernel ak = {
		.name = t->kdef->name, .release = t->build->release,
		.cache_key = t->build->key,
		.identity = t->build->source_identity,
		.patches = t->build->n_patches, .config_hash = ch,
	};

	for (guint i = 0; i < t->cells->len; i++)
		g_ptr_array_add(planned, ((Done *)t->cells->pdata[i])->name);
	g_ptr_array_add(planned, NULL);
	r.planned = (char **)planned->pdata;
	t->archive = hh_archive_open(path, &err);
	if (!t->archive || !hh_archive_run_begin(t->archive, &r, &err) ||
	    !hh_archive_kernel(t->archive, t->run_id, &ak, &err)) {
		fprintf(stderr, "warning: torture run not archived: %s\n",
			err ? err->message : "?");
		g_clear_pointer(&t->archive, hh_archive_close);
		return;
	}
	for (guint i = 0; i < t->cells->len; i++)
		archive_cell(t, t->cells->pdata[i]);
	hh_archive_run_end(t->archive, t->run_id, end, !hh_spawn_interrupted(),
			   NULL);
}

/* torture.json: seed, operations, rate, outcome, findings. */
static void write_summary(Torture *t, const char *start, double seconds,
			  const char *outcome)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *path = g_build_filename(t->run_dir, "torture.json", NULL);
	g_autoptr(GError) err = NULL;
	double op_s = t->op_ms ? t->ops_run * 1000.0 / t->op_ms : 0;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "run");
	json_builder_add_string_value(b, t->run_id);
	json_builder_set_member_name(b, "start");
	json_builder_add_string_value(b, start);
	json_builder_set_member_name(b, "kernel");
	json_builder_add_string_value(b, t->kdef->name);
	json_builder_set_member_name(b, "kernel_release");
	json_builder_add_string_value(b, t->build->release);
	json_builder_set_member_name(b, "variant");
	json_builder_add_string_value(b, t->variant->name);
	json_builder_set_member_name(b, "seed");
	json_builder_add_int_value(b, (gint64)t->seed);
	json_builder_set_member_name(b, "episode_ops");
	json_builder_add_int_value(b, t->o->episode);
	json_builder_set_member_name(b, "episodes");
	json_builder_add_int_value(b, t->episodes);
	json_builder_set_member_name(b, "operations");
	json_builder_add_int_value(b, t->ops_run);
	json_builder_set_member_name(b, "seconds");
	json_builder_add_double_value(b, seconds);
	json_builder_set_member_name(b, "ops_per_second");
	json_builder_add_double_value(b, op_s);
	json_builder_set_member_name(b, "ops_per_second_wall");
	json_builder_add_double_value(b, seconds > 0 ? t->ops_run / seconds : 0);
	json_builder_set_member_name(b, "outcome");
	json_builder_add_string_value(b, outcome);
	json_builder_set_member_name(b, "findings");
	json_builder_begin_array(b);
	for (guint i = 0; i < t->findings->len; i++) {
		Finding *f = t->findings->pdata[i];

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "episode");
		json_builder_add_int_value(b, f->episode);
		json_builder_set_member_name(b, "signature");
		json_builder_add_string_value(b, f->signature);
		json_builder_set_member_name(b, "failed_at");
		json_builder_add_int_value(b, f->failed_at + 1);
		json_builder_set_member_name(b, "duplicate");
		json_builder_add_boolean_value(b, f->duplicate);
		json_builder_set_member_name(b, "replayed");
		json_builder_add_boolean_value(b, f->replayed);
		json_builder_set_member_name(b, "shrunk_to");
		json_builder_add_int_value(b, f->shrunk_len);
		json_builder_set_member_name(b, "shrink_runs");
		json_builder_add_int_value(b, f->shrink_runs);
		json_builder_set_member_name(b, "shrink_seconds");
		json_builder_add_double_value(b, f->shrink_seconds);
		json_builder_set_member_name(b, "reproduced");
		json_builder_add_int_value(b, f->repro_ok);
		json_builder_set_member_name(b, "reproduce_runs");
		json_builder_add_int_value(b, f->repro_n);
		json_builder_set_member_name(b, "scenario");
		if (f->scenario)
			json_builder_add_string_value(b, f->scenario);
		else
			json_builder_add_null_value(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	if (!hh_write_json(path, b, TRUE, &err))
		fprintf(stderr, "warning: %s\n", err->message);
}

static void torture_clear(Torture *t)
{
	g_clear_pointer(&t->findings, g_ptr_array_unref);
	g_clear_pointer(&t->cells, g_ptr_array_unref);
	g_clear_pointer(&t->archive, hh_archive_close);
	g_clear_pointer(&t->base, hh_scenario_free);
	g_clear_pointer(&t->snap, hh_snapshot_free);
	g_clear_pointer(&t->backend, hh_vm_backend_close);
	g_clear_pointer(&t->img, hh_initramfs_free);
	g_clear_pointer(&t->kconfig, g_hash_table_unref);
	g_clear_pointer(&t->build, hh_kernel_build_free);
	g_clear_pointer(&t->variant, hh_variant_free);
	g_clear_pointer(&t->matrix, hh_matrix_free);
	g_clear_pointer(&t->sup, hh_suppressions_free);
	g_free(t->run_id);
	g_free(t->run_dir);
	g_free(t->matrix_path);
	g_mutex_clear(&t->lock);
}

int hh_torture_run(const HhTortureOptions *o, char **run_dir_out)
{
	Torture t = { .o = o };
	g_autoptr(GError) err = NULL;
	g_autofree char *start = hh_iso_now(), *end = NULL, *outcome = NULL;
	g_autofree char *report = NULL;
	GPtrArray *threads;
	guint unique = 0, written = 0;
	double seconds;
	int code;

	g_mutex_init(&t.lock);
	t.findings = g_ptr_array_new_with_free_func(finding_free);
	t.cells = g_ptr_array_new_with_free_func(done_free);
	t.seed = o->seed_set ? o->seed : (guint64)g_get_real_time();
	if (!o->ops && !o->seconds) {
		g_set_error(&err, HH_ERROR, HH_ERROR_USAGE,
			    "torture needs --ops N or --time DURATION");
		goto fail;
	}
	if (!setup(&t, &err))
		goto fail;
	t.run_id = hh_run_new_id();
	t.run_dir = g_build_filename(o->results ? o->results : "results",
				     t.run_id, NULL);
	if (!hh_mkdir_p(t.run_dir, 0755, &err))
		goto fail;
	fprintf(stderr, "torture %s: kernel %s (%s), variant %s, seed %"
		G_GUINT64_FORMAT ", %u operation(s) per episode, -j%u, %s; "
		"results in %s\n", t.run_id, t.kdef->name, t.build->release,
		t.variant->name, t.seed, o->episode, MAX(o->jobs, 1),
		t.accel == HH_ACCEL_KVM ? "KVM" : "TCG", t.run_dir);
	make_snapshot(&t);
	t.t0 = hh_now_ms();
	t.deadline = o->seconds ? t.t0 + (gint64)o->seconds * 1000 : 0;
	t.next_episode = o->first_episode;
	threads = g_ptr_array_new();
	for (guint j = 0; j < MAX(o->jobs, 1); j++)
		g_ptr_array_add(threads, g_thread_new("hh-torture", worker, &t));
	for (guint j = 0; j < threads->len; j++)
		g_thread_join(threads->pdata[j]);
	g_ptr_array_unref(threads);
	seconds = (hh_now_ms() - t.t0) / 1000.0;
	for (guint i = 0; i < t.findings->len; i++) {
		Finding *f = t.findings->pdata[i];

		if (f->duplicate)
			continue;
		unique++;
		if (!o->no_shrink && !hh_spawn_interrupted())
			shrink(&t, f);
		/* not reproducible from this episode: another episode that
		 * failed the same way may be */
		for (guint j = i + 1; j < t.findings->len && !o->no_shrink &&
		     !f->replayed && !hh_spawn_interrupted(); j++) {
			Finding *g = t.findings->pdata[j];

			if (!g->duplicate || !g_str_equal(g->signature,
							  f->signature))
				continue;
			fprintf(stderr, "torture: trying episode %u, which "
				"failed the same way\n", g->episode);
			g->duplicate = FALSE;
			f->duplicate = TRUE;
			shrink(&t, g);
			if (!g->replayed) {
				g->duplicate = TRUE;
				f->duplicate = FALSE;
				continue;
			}
			if (f->scenario)
				g_remove(f->scenario);
			g_clear_pointer(&f->scenario, g_free);
			f = g;
		}
		written += f->scenario != NULL;
	}
	outcome = hh_spawn_interrupted() && !unique ?
		  g_strdup_printf("interrupted after %u operations", t.ops_run) :
		  unique ? g_strdup_printf("found %u: %s", unique,
					   ((Finding *)t.findings->pdata[0])->signature) :
		  g_strdup_printf("nothing in %u operations", t.ops_run);
	fprintf(stderr, "torture %s: %u operation(s) in %u episode(s), %.0f s "
		"(%.2f operations/s in the guest, %.2f/s overall): %s\n",
		t.run_id, t.ops_run, t.episodes, seconds,
		t.op_ms ? t.ops_run * 1000.0 / t.op_ms : 0,
		seconds > 0 ? t.ops_run / seconds : 0, outcome);
	write_summary(&t, start, seconds, outcome);
	{
		g_autofree char *dir = g_build_filename(t.run_dir, "report", NULL);
		g_autoptr(GError) rerr = NULL;
		g_autofree char *label = g_strdup_printf(
			"%s%storture seed=%" G_GUINT64_FORMAT " ops=%u "
			"ops/s=%.2f: %s", o->label ? o->label : "",
			o->label ? ": " : "", t.seed, t.ops_run,
			t.op_ms ? t.ops_run * 1000.0 / t.op_ms : 0, outcome);

		end = hh_iso_now();
		archive_run(&t, start, end, label);
		if (t.archive && hh_report_write(t.archive, t.run_id,
						 HH_REPORT_HTML, dir, &rerr))
			fprintf(stderr, "report:  %s/index.html\n", dir);
		else if (t.archive)
			fprintf(stderr, "warning: no HTML report: %s\n",
				rerr->message);
	}
	for (guint i = 0; i < t.findings->len; i++) {
		Finding *f = t.findings->pdata[i];

		if (f->scenario)
			printf("%s\n", f->scenario);
	}
	code = hh_spawn_interrupted() ? 128 + hh_spawn_interrupt_signal() :
	       unique ? 1 : 0;
	if (unique && written < unique && !o->no_shrink)
		code = 1;
	if (run_dir_out)
		*run_dir_out = g_strdup(t.run_dir);
	torture_clear(&t);
	return code;
fail:
	torture_clear(&t);
	return hh_report_error(err);
}
