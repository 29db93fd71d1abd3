/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One bisect step (see bisect.h).  The user's tree is only read: the
 * commit is checked out into our own --shared clone, so neither 'git
 * bisect' in the user's tree nor its working copy is disturbed, and the
 * O= directory inside the clone makes every build after the first an
 * incremental one.
 */
#include "config.h"

#include "bisect.h"
#include "result.h"
#include "commands.h"
#include "hh-error.h"
#include "kbuild.h"
#include "paths.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void hh_bisect_step_clear(HhBisectStep *s)
{
	g_clear_pointer(&s->tree, g_free);
	g_clear_pointer(&s->commit, g_free);
	g_clear_pointer(&s->cell, g_free);
	g_clear_pointer(&s->matrix, g_free);
	g_clear_pointer(&s->patches_dir, g_free);
	g_clear_pointer(&s->fragments_dir, g_free);
	g_clear_pointer(&s->state, g_free);
	g_clear_pointer(&s->signatures, g_ptr_array_unref);
}

void hh_bisect_result_free(HhBisectResult *r)
{
	if (!r)
		return;
	g_free(r->commit);
	g_free(r->why);
	g_free(r->dir);
	g_free(r->run_dir);
	if (r->signatures)
		g_ptr_array_unref(r->signatures);
	g_free(r);
}

static void say(const HhBisectStep *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void say(const HhBisectStep *s, const char *fmt, ...)
{
	va_list ap;

	(void)s;
	va_start(ap, fmt);
	fputs("bisect-step: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static gboolean git_env(const char *tree, const char *const *env,
			const char *const *args, char **out, GError **error)
{
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();
	g_auto(GStrv) argv = NULL;
	g_autofree char *text = NULL;

	g_strv_builder_add_many(b, "git", "-C", tree, NULL);
	g_strv_builder_addv(b, (const char **)args);
	argv = g_strv_builder_end(b);
	if (!hh_run((const char *const *)argv, NULL, env, NULL,
		    HH_SPAWN_CAPTURE, &text, error))
		return FALSE;
	if (out)
		*out = g_strdup(g_strchomp(text ? text : (char *)""));
	return TRUE;
}

gboolean hh_bisect_git(const char *tree, const char *const *args, char **out,
		       GError **error)
{
	return git_env(tree, NULL, args, out, error);
}

char *hh_bisect_toplevel(const char *dir, GError **error)
{
	const char *args[] = { "rev-parse", "--show-toplevel", NULL };
	char *top = NULL;

	if (!hh_bisect_git(dir, args, &top, error)) {
		g_prefix_error(error, "'%s' is not a git tree: ", dir);
		return NULL;
	}
	return top;
}

/* --- the clone ---------------------------------------------------------- */

typedef struct {
	char *dir;	/* bisect/<tree-id> */
	char *src;
	char *build;
	int lock_fd;
} Clone;

static void clone_clear(Clone *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	g_free(c->dir);
	g_free(c->src);
	g_free(c->build);
}

char *hh_bisect_tree_dir(const char *tree)
{
	g_autofree char *id = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							    tree, -1);

	return g_strdup_printf("%s/bisect/%.16s", hh_cache_dir(), id);
}

static guint kill_in(const char *build)
{
	g_autofree char *below = g_strdup_printf("%s/", build);
	guint killed = 0;

	/* Until none is left: a make may fork while we look. */
	for (guint round = 0; round < 50; round++) {
		g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
		const char *name;
		guint found = 0;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *link = NULL, *cwd = NULL;
			pid_t pid;

			if (!g_ascii_isdigit(name[0]))
				continue;
			pid = (pid_t)atoi(name);
			if (pid == getpid())
				continue;
			link = g_strdup_printf("/proc/%s/cwd", name);
			cwd = g_file_read_link(link, NULL);
			if (!cwd || (!g_str_equal(cwd, build) &&
				     !g_str_has_prefix(cwd, below)))
				continue;
			if (kill(pid, SIGKILL) == 0)
				found++;
		}
		killed += found;
		if (!found)
			break;
		g_usleep(50 * 1000);
	}
	return killed;
}

guint hh_bisect_kill_orphans(const char *tree)
{
	g_autofree char *dir = hh_bisect_tree_dir(tree);
	g_autofree char *build = g_build_filename(dir, "src", "hh-build", NULL);

	return kill_in(build);
}

static gboolean clone_open(Clone *c, const char *tree, GError **error)
{
	guint orphans;

	g_autofree char *lock = NULL, *dotgit = NULL;

	c->lock_fd = -1;
	c->dir = hh_bisect_tree_dir(tree);
	c->src = g_build_filename(c->dir, "src", NULL);
	c->build = g_build_filename(c->src, "hh-build", NULL);
	if (!hh_mkdir_p(c->dir, 0755, error))
		return FALSE;
	lock = g_strdup_printf("%s.lock", c->dir);
	c->lock_fd = open(lock, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX) < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "cannot lock '%s': %s", lock, g_strerror(errno));
		return FALSE;
	}
	orphans = kill_in(c->build);
	if (orphans)
		fprintf(stderr, "bisect-step: killed %u process(es) an "
				"interrupted step left in %s\n", orphans,
			c->build);
	dotgit = g_build_filename(c->src, ".git", NULL);
	if (!g_file_test(dotgit, G_FILE_TEST_IS_DIR)) {
		const char *argv[] = { "git", "clone", "-q", "--shared",
				       "--no-checkout", tree, c->src, NULL };

		if (!hh_rm_rf(c->src, error) ||
		    !hh_run(argv, NULL, NULL, NULL, HH_SPAWN_CAPTURE, NULL,
			    error))
			return FALSE;
	}
	return TRUE;
}

/* Detaches the clone at commit, dropping what the last step applied. */
static gboolean clone_checkout(Clone *c, const char *commit, GError **error)
{
	const char *reset[] = { "reset", "-q", "--hard", NULL };
	const char *clean[] = { "clean", "-fdqx", "-e", "/hh-build", NULL };
	const char *checkout[] = { "-c", "advice.detachedHead=false",
				   "checkout", "-q", "-f", "--detach", commit,
				   NULL };
	const char *head[] = { "rev-parse", "-q", "--verify", "HEAD", NULL };

	/* A fresh --no-checkout clone has nothing to reset or clean. */
	if (hh_bisect_git(c->src, head, NULL, NULL) &&
	    (!hh_bisect_git(c->src, reset, NULL, error) ||
	     !hh_bisect_git(c->src, clean, NULL, error)))
		return FALSE;
	return hh_bisect_git(c->src, checkout, NULL, error);
}

/* --- the series ---------------------------------------------------------- */

/*
 * Whether the series applies (reverse: reverses, last patch first) to
 * HEAD, one patch after the other, in a scratch index: the working copy
 * is not touched.
 */
static gboolean series_applies(Clone *c, GPtrArray *patches,
			       gboolean reverse)
{
	g_autofree char *index = g_build_filename(c->dir, "check-index", NULL);
	g_autofree char *var = g_strdup_printf("GIT_INDEX_FILE=%s", index);
	const char *env[] = { var, NULL };
	const char *read_tree[] = { "read-tree", "HEAD", NULL };
	gboolean ok = git_env(c->src, env, read_tree, NULL, NULL);

	for (guint i = 0; ok && i < patches->len; i++) {
		const char *patch = patches->pdata[reverse ?
						   patches->len - 1 - i : i];
		const char *fwd[] = { "apply", "--cached", patch, NULL };
		const char *rev[] = { "apply", "--cached", "--reverse", patch,
				      NULL };

		ok = git_env(c->src, env, reverse ? rev : fwd, NULL, NULL);
	}
	g_unlink(index);
	return ok;
}

/* Applies the series to the working copy, patch after patch. */
static gboolean apply_series(Clone *c, GPtrArray *patches, GError **error)
{
	for (guint i = 0; i < patches->len; i++) {
		const char *args[] = { "apply", patches->pdata[i], NULL };

		if (!hh_bisect_git(c->src, args, NULL, error)) {
			g_prefix_error(error, "'%s': ",
				       (char *)patches->pdata[i]);
			return FALSE;
		}
	}
	return TRUE;
}

/* The subject of a git format-patch file, "[PATCH n/m] " dropped. */
static char *patch_subject(const char *path)
{
	g_autofree char *text = NULL;
	g_autoptr(GString) s = NULL;
	const char *p, *end;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	p = strstr(text, "\nSubject: ");
	if (!p)
		return NULL;
	s = g_string_new(NULL);
	p += strlen("\nSubject: ");
	for (;;) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		g_string_append_len(s, p, end - p);
		if (*end != '\n' || (end[1] != ' ' && end[1] != '\t'))
			break;
		p = end + 1; /* a folded header line keeps its blank */
	}
	if (s->str[0] == '[') {
		const char *close = strchr(s->str, ']');

		if (close)
			g_string_erase(s, 0, close + 1 - s->str);
	}
	return g_strdup(g_strstrip(s->str));
}

/* Every patch of the series is a commit in HEAD's history (by subject):
 * the series was applied and changed later. */
static gboolean series_in_history(Clone *c, GPtrArray *patches)
{
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();
	g_autoptr(GPtrArray) subjects = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) args = NULL, lines = NULL;
	g_autofree char *out = NULL;

	g_strv_builder_add_many(b, "log", "--format=%s", "-F", NULL);
	for (guint i = 0; i < patches->len; i++) {
		char *subject = patch_subject(patches->pdata[i]);
		g_autofree char *grep = NULL;

		if (!subject)
			return FALSE;
		grep = g_strdup_printf("--grep=%s", subject);
		g_ptr_array_add(subjects, subject);
		g_strv_builder_add(b, grep);
	}
	g_strv_builder_add(b, "HEAD");
	args = g_strv_builder_end(b);
	if (!hh_bisect_git(c->src, (const char *const *)args, &out, NULL))
		return FALSE;
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; i < subjects->len; i++) {
		if (!g_strv_contains((const char *const *)lines,
				     subjects->pdata[i]))
			return FALSE;
	}
	return TRUE;
}

/* Paths the series touches. */
static GPtrArray *series_paths(GPtrArray *patches)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < patches->len; i++) {
		g_autofree char *text = NULL;
		g_auto(GStrv) lines = NULL;

		if (!g_file_get_contents(patches->pdata[i], &text, NULL, NULL))
			continue;
		lines = g_strsplit(text, "\n", -1);
		for (guint k = 0; lines[k]; k++) {
			const char *l = lines[k];

			if (!g_str_has_prefix(l, "+++ b/") &&
			    !g_str_has_prefix(l, "--- a/"))
				continue;
			if (g_hash_table_contains(seen, l + 6))
				continue;
			g_ptr_array_add(paths, g_strdup(l + 6));
			g_hash_table_add(seen, paths->pdata[paths->len - 1]);
		}
	}
	return paths;
}

/*
 * Re-applying the series rewrites its files with a new mtime, and make
 * would rebuild everything that includes them.  A file whose content is
 * what it was at the last step gets that step's mtime back; the manifest
 * is then rewritten for this step.
 */
static void keep_mtimes(Clone *c, GPtrArray *paths)
{
	g_autofree char *manifest = g_build_filename(c->dir, "mtimes", NULL);
	g_autofree char *old = NULL;
	g_autoptr(GHashTable) before = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GString) out = g_string_new(NULL);

	if (g_file_get_contents(manifest, &old, NULL, NULL)) {
		g_auto(GStrv) lines = g_strsplit(old, "\n", -1);

		for (guint i = 0; lines[i]; i++) {
			char *tab = strrchr(lines[i], '\t');

			if (!tab)
				continue;
			*tab = '\0';
			g_hash_table_replace(before, g_strdup(tab + 1),
					     g_strdup(lines[i]));
		}
	}
	for (guint i = 0; i < paths->len; i++) {
		const char *rel = paths->pdata[i];
		g_autofree char *path = g_build_filename(c->src, rel, NULL);
		g_autofree char *sum = hh_sha256_file(path, NULL);
		const char *prev = g_hash_table_lookup(before, rel);
		struct stat st;

		if (!sum)
			continue;
		if (prev && g_str_has_prefix(prev, sum) &&
		    prev[strlen(sum)] == ' ') {
			struct timespec ts[2];
			long long sec;
			long nsec;

			if (sscanf(prev + strlen(sum), " %lld %ld", &sec,
				   &nsec) == 2) {
				ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
				ts[0].tv_nsec = ts[1].tv_nsec = nsec;
				utimensat(AT_FDCWD, path, ts, 0);
			}
		}
		if (g_stat(path, &st) < 0)
			continue;
		g_string_append_printf(out, "%s %lld %ld\t%s\n", sum,
				       (long long)st.st_mtim.tv_sec,
				       st.st_mtim.tv_nsec, rel);
	}
	hh_write_file(manifest, out->str, (gssize)out->len, NULL);
}

/*
 * Makes sure the clone carries the series: already there (it reverses
 * cleanly, or every patch is in the history), or applied now.  FALSE with
 * HH_ERROR_BUILD when it is neither: the step is skipped.
 */
static gboolean ensure_series(const HhBisectStep *s, Clone *c,
			      GPtrArray *patches, GError **error)
{
	g_autoptr(GPtrArray) paths = NULL;

	if (series_applies(c, patches, TRUE)) {
		say(s, "the emulator series is in the tree");
		return TRUE;
	}
	if (series_applies(c, patches, FALSE)) {
		if (!apply_series(c, patches, error))
			return FALSE;
		paths = series_paths(patches);
		keep_mtimes(c, paths);
		say(s, "applied the emulator series (%u patches)",
		    patches->len);
		return TRUE;
	}
	if (series_in_history(c, patches)) {
		say(s, "the emulator series is in the history (changed since)");
		return TRUE;
	}
	g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
		    "the emulator series in '%s' does not apply to this "
		    "commit and is not in its history", s->patches_dir);
	return FALSE;
}

/* --- signatures ---------------------------------------------------------- */

GPtrArray *hh_bisect_signatures(JsonObject *o)
{
	GPtrArray *sig = g_ptr_array_new_with_free_func(g_free);
	const char *status = json_object_get_string_member_with_default(
		o, "status", "unknown");
	const char *step = json_object_get_string_member_with_default(
		o, "failed_step", NULL);
	const char *reason = json_object_get_string_member_with_default(
		o, "reason", NULL);
	JsonArray *crashes = json_object_has_member(o, "crashes") ?
		json_object_get_array_member(o, "crashes") : NULL;

	for (guint i = 0; crashes && i < json_array_get_length(crashes); i++) {
		JsonObject *k = json_array_get_object_element(crashes, i);
		const char *title = k ? json_object_get_string_member_with_default(
			k, "title", NULL) : NULL;

		if (title && !json_object_has_member(k, "suppressed_by"))
			g_ptr_array_add(sig, g_strdup_printf("crash: %s",
							     title));
	}
	if (g_str_equal(status, "crash") && sig->len)
		return sig;
	g_ptr_array_set_size(sig, 0);
	if (step)
		g_ptr_array_add(sig, g_strdup_printf("step: %s", step));
	else
		g_ptr_array_add(sig, g_strdup_printf("%s: %s", status,
						     reason ? reason : "-"));
	return sig;
}

gboolean hh_bisect_signature_matches(GPtrArray *want, GPtrArray *got)
{
	if (!want || !want->len)
		return TRUE;
	for (guint i = 0; i < got->len; i++) {
		for (guint k = 0; k < want->len; k++) {
			if (g_str_equal(got->pdata[i], want->pdata[k]))
				return TRUE;
		}
	}
	return FALSE;
}

/* --- the step ------------------------------------------------------------ */

/* The first compiler or make error of a build log, for the one-line why. */
static char *first_error(const char *log)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(log, &text, NULL, NULL))
		return g_strdup("(no build log)");
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		if (strstr(lines[i], "error:") || strstr(lines[i], "Error "))
			return g_strdup(g_strstrip(lines[i]));
	}
	return g_strdup("(see the build log)");
}

static HhBisectVerdict abort_code(const GError *e)
{
	if (g_error_matches(e, HH_ERROR, HH_ERROR_CANCELLED))
		return (HhBisectVerdict)(128 + (hh_spawn_interrupt_signal() ?: 2));
	return HH_BISECT_ABORT;
}

static gboolean build(const HhBisectStep *s, HhBisectResult *r, Clone *c,
		      GError **error)
{
	g_autoptr(GPtrArray) patches = NULL, fragments = NULL;
	g_autofree char *log = g_build_filename(r->dir, "build.log", NULL);
	HhKernelSpec spec = { .jobs = s->jobs, .quiet = s->quiet };
	gint64 t0;

	if (!clone_checkout(c, r->commit, error))
		return FALSE;
	if (s->patches_dir) {
		patches = hh_kernel_series(s->patches_dir, error);
		if (!patches || !ensure_series(s, c, patches, error))
			return FALSE;
	}
	fragments = hh_kernel_fragments(s->fragments_dir, s->patches_dir,
					patches ? patches->len : 0, error);
	if (!fragments)
		return FALSE;
	say(s, "building %.12s in %s (log: %s)", r->commit, c->build, log);
	t0 = hh_now_ms();
	if (!hh_kernel_make(&spec, c->src, c->build, fragments, log, NULL,
			    error)) {
		r->build_s = (hh_now_ms() - t0) / 1000.0;
		if (!g_error_matches(*error, HH_ERROR, HH_ERROR_CANCELLED)) {
			g_autofree char *first = first_error(log);

			g_clear_error(error);
			g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
				    "build failed: %s", first);
		}
		return FALSE;
	}
	r->build_s = (hh_now_ms() - t0) / 1000.0;
	say(s, "built in %.1f s", r->build_s);
	return TRUE;
}

static void boot(const HhBisectStep *s, HhBisectResult *r, const char *build)
{
	g_autofree char *kernel = g_strndup(s->cell, strcspn(s->cell, "/"));
	g_autofree char *kb = g_strdup_printf("%s=%s", kernel, build);
	g_autofree char *results = g_build_filename(r->dir, "results", NULL);
	const char *only[] = { s->cell, NULL };
	const char *builds[] = { kb, NULL };
	g_autoptr(GPtrArray) res = NULL;
	HhRunOptions ro;
	guint passed = 0, skipped = 0, errors = 0, other = 0, matching = 0;
	g_autofree char *other_sig = NULL;
	gint64 t0 = hh_now_ms();
	int code;

	hh_run_options_init(&ro);
	ro.matrix = s->matrix;
	ro.only = only;
	ro.repeat = s->runs;
	ro.boot = HH_BOOT_COLD;
	ro.results = results;
	ro.quiet = TRUE;
	ro.keep_going = TRUE;
	ro.max_jobs = s->jobs;
	ro.kernel_builds = builds;
	say(s, "booting %s %u time(s)", s->cell, s->runs);
	code = s->run(&ro, &r->run_dir);
	r->boot_s = (hh_now_ms() - t0) / 1000.0;
	if (code >= 128) {
		r->verdict = (HhBisectVerdict)code;
		r->why = g_strdup("interrupted while booting");
		return;
	}
	if ((code != HH_EXIT_OK && code != HH_EXIT_FAILURES) || !r->run_dir) {
		r->verdict = HH_BISECT_ABORT;
		r->why = g_strdup_printf("'run' failed with exit status %d "
					 "(a harness error, see above)", code);
		return;
	}
	res = hh_result_load_repeats(r->run_dir, s->cell);
	r->boots = res->len;
	r->signatures = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < res->len; i++) {
		JsonObject *o = json_node_get_object(
			json_parser_get_root(res->pdata[i]));
		const char *st = json_object_get_string_member_with_default(
			o, "status", "");
		g_autoptr(GPtrArray) sig = NULL;

		if (g_str_equal(st, "pass")) {
			passed++;
		} else if (g_str_equal(st, "skip")) {
			skipped++;
		} else if (g_str_equal(st, "error")) {
			errors++;
		} else {
			sig = hh_bisect_signatures(o);
			if (hh_bisect_signature_matches(s->signatures, sig)) {
				matching++;
				for (guint k = 0; k < sig->len; k++)
					g_ptr_array_add(r->signatures,
							g_strdup(sig->pdata[k]));
			} else if (!other++) {
				other_sig = g_strdup(sig->pdata[0]);
			}
		}
	}
	if (errors) {
		r->verdict = HH_BISECT_ABORT;
		r->why = g_strdup_printf("%u boot(s) ended in a harness or QEMU "
					 "error (see %s)", errors, r->run_dir);
	} else if (matching) {
		r->verdict = HH_BISECT_BAD;
		r->why = g_strdup_printf("%s (%u of %u boot(s) failed so)",
					 (char *)r->signatures->pdata[0],
					 matching, res->len);
	} else if (other) {
		r->verdict = HH_BISECT_SKIP;
		r->why = g_strdup_printf("fails differently (%s), not with the "
					 "signature bisected", other_sig);
	} else if (passed < s->runs) {
		r->verdict = HH_BISECT_SKIP;
		r->why = g_strdup_printf("only %u of %u boot(s) ran (%u "
					 "skipped: requirements not met?), see %s",
					 passed, s->runs, skipped, r->run_dir);
	} else {
		r->verdict = HH_BISECT_GOOD;
		r->why = g_strdup_printf("%u of %u boot(s) passed", passed,
					 s->runs);
	}
}

static const char *verdict_name(HhBisectVerdict v)
{
	switch (v) {
	case HH_BISECT_GOOD: return "good";
	case HH_BISECT_BAD: return "bad";
	case HH_BISECT_SKIP: return "skip";
	default: return "abort";
	}
}

/* steps.tsv: commit, verdict, build s, boot s, boots, step dir, run dir,
 * why. */
static void record(const HhBisectStep *s, HhBisectResult *r)
{
	g_autofree char *path = g_build_filename(s->state, "steps.tsv", NULL);
	g_autofree char *why = g_strdup(r->why ? r->why : "");
	g_autofree char *line = NULL;
	FILE *f;

	g_strdelimit(why, "\t\n", ' ');
	line = g_strdup_printf("%s\t%s\t%.1f\t%.1f\t%u\t%s\t%s\t%s\n",
			       r->commit ? r->commit : "?",
			       verdict_name(r->verdict), r->build_s, r->boot_s,
			       r->boots, r->dir ? r->dir : "",
			       r->run_dir ? r->run_dir : "", why);
	f = fopen(path, "a");
	if (f) {
		fputs(line, f);
		fclose(f);
	}
}

/* The next step's directory: state/steps/NN-<commit>. */
static char *step_dir(const HhBisectStep *s, const char *commit)
{
	g_autofree char *tsv = g_build_filename(s->state, "steps.tsv", NULL);
	g_autofree char *text = NULL;
	guint n = 1;

	if (g_file_get_contents(tsv, &text, NULL, NULL)) {
		for (const char *p = text; (p = strchr(p, '\n')); p++)
			n++;
	}
	return g_strdup_printf("%s/steps/%02u-%.12s", s->state, n, commit);
}

HhBisectResult *hh_bisect_step_run(const HhBisectStep *s)
{
	g_autoptr(HhBisectResult) r = g_new0(HhBisectResult, 1);
	g_autoptr(GError) err = NULL;
	g_autofree char *spec = g_strdup_printf("%s^{commit}", s->commit);
	const char *rev[] = { "rev-parse", "-q", "--verify", spec, NULL };
	const char *subj_args[] = { "log", "-1", "--format=%s", s->commit,
				    NULL };
	g_autofree char *subject = NULL;
	Clone c = { .lock_fd = -1 };

	if (!hh_mkdir_p(s->state, 0755, &err) ||
	    !hh_bisect_git(s->tree, rev, &r->commit, &err)) {
		g_prefix_error(&err, "revision '%s': ", s->commit);
		goto abort;
	}
	hh_bisect_git(s->tree, subj_args, &subject, NULL);
	say(s, "testing %.12s %s", r->commit, subject ? subject : "");
	r->dir = step_dir(s, r->commit);
	if (!hh_mkdir_p(r->dir, 0755, &err) ||
	    !clone_open(&c, s->tree, &err))
		goto abort;
	if (!build(s, r, &c, &err)) {
		if (!g_error_matches(err, HH_ERROR, HH_ERROR_BUILD))
			goto abort;
		r->verdict = HH_BISECT_SKIP;
		r->why = g_strdup(err->message);
		goto out;
	}
	boot(s, r, c.build);
	goto out;
abort:
	r->verdict = abort_code(err);
	r->why = g_strdup(err->message);
out:
	clone_clear(&c);
	say(s, "%.12s is %s: %s", r->commit ? r->commit : s->commit,
	    verdict_name(r->verdict), r->why);
	if (r->commit)
		record(s, r);
	return g_steal_pointer(&r);
}

/* The value of "NAME = value" in a kernel Makefile, or -1. */
static gint makefile_number(const char *text, const char *name)
{
	g_autofree char *pattern = g_strdup_printf("^%s\\s*=\\s*(\\d+)\\s*$",
						   name);
	g_autoptr(GRegex) re = g_regex_new(pattern, G_REGEX_MULTILINE, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;
	g_autofree char *digits = NULL;

	if (!re || !g_regex_match(re, text, 0, &m))
		return -1;
	digits = g_match_info_fetch(m, 1);
	return (gint)g_ascii_strtoll(digits, NULL, 10);
}

char *hh_bisect_series_for(const char *tree, GError **error)
{
	g_autofree char *mk = g_build_filename(tree, "Makefile", NULL);
	g_autofree char *text = NULL, *rel = NULL, *dir = NULL;
	gint version, patchlevel;

	if (!g_file_get_contents(mk, &text, NULL, error))
		return NULL;
	version = makefile_number(text, "VERSION");
	patchlevel = makefile_number(text, "PATCHLEVEL");
	if (version < 0 || patchlevel < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "%s: no VERSION and PATCHLEVEL: is %s a kernel "
			    "tree? (give --patches DIR or --no-patches)", mk,
			    tree);
		return NULL;
	}
	rel = g_strdup_printf("kernel-patches/%d.%d", version, patchlevel);
	dir = hh_data_path(rel);
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "%s is Linux %d.%d, and the project has no emulator "
			    "series for it (%s); give --patches DIR or "
			    "--no-patches", tree, version, patchlevel, dir);
		return NULL;
	}
	return g_steal_pointer(&dir);
}
