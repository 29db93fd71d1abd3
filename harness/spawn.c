/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "spawn.h"
#include "hh-error.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Live process groups, read by the signal handler: lock-free by design. */
#define HH_MAX_CHILDREN 512
static volatile sig_atomic_t live_groups[HH_MAX_CHILDREN];
static volatile sig_atomic_t interrupt_signal;

static void registry_add(GPid pid)
{
	for (int i = 0; i < HH_MAX_CHILDREN; i++) {
		if (__sync_bool_compare_and_swap(&live_groups[i], 0, pid))
			return;
	}
	/* Full: PR_SET_PDEATHSIG still covers this child. */
}

static void registry_remove(GPid pid)
{
	for (int i = 0; i < HH_MAX_CHILDREN; i++) {
		if (__sync_bool_compare_and_swap(&live_groups[i], pid, 0))
			return;
	}
}

static void on_signal(int sig)
{
	int saved = errno;

	if (interrupt_signal) {
		/* Second signal: leave now, the children are already gone. */
		_exit(128 + sig);
	}
	interrupt_signal = sig;
	for (int i = 0; i < HH_MAX_CHILDREN; i++) {
		pid_t pid = live_groups[i];

		if (pid > 0)
			kill(-pid, SIGKILL);
	}
	errno = saved;
}

void hh_spawn_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

gboolean hh_spawn_interrupted(void)
{
	return interrupt_signal != 0;
}

int hh_spawn_interrupt_signal(void)
{
	return interrupt_signal;
}

static void child_setup(gpointer data)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static char **clean_environment(const char *const *extra)
{
	static const char *const pass[] = {
		"PATH", "HOME", "TMPDIR", "USER", "CCACHE_DIR",
		"CCACHE_MAXSIZE", "CCACHE_DISABLE", "CCACHE_RECACHE", NULL,
	};
	char **env = g_new0(char *, 1);

	for (int i = 0; pass[i]; i++) {
		const char *v = g_getenv(pass[i]);

		if (v)
			env = g_environ_setenv(env, pass[i], v, TRUE);
	}
	if (!g_environ_getenv(env, "PATH"))
		env = g_environ_setenv(env, "PATH",
				       "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
				       TRUE);
	env = g_environ_setenv(env, "LC_ALL", "C", TRUE);
	for (int i = 0; extra && extra[i]; i++) {
		const char *eq = strchr(extra[i], '=');
		g_autofree char *key = NULL;

		if (!eq)
			continue;
		key = g_strndup(extra[i], eq - extra[i]);
		env = g_environ_setenv(env, key, eq + 1, TRUE);
	}
	return env;
}

HhChild *hh_child_spawn(const char *const *argv, const char *cwd,
			const char *const *env, const char *log_path,
			HhSpawnFlags flags, GError **error)
{
	return hh_child_spawn_with_fd(argv, cwd, env, log_path, flags, -1, -1,
				      error);
}

HhChild *hh_child_spawn_with_fd(const char *const *argv, const char *cwd,
				const char *const *env, const char *log_path,
				HhSpawnFlags flags, int pass_fd, int target_fd,
				GError **error)
{
	GSubprocessFlags sflags = G_SUBPROCESS_FLAGS_NONE;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_auto(GStrv) environ = NULL;
	GSubprocess *proc;
	HhChild *child;
	const char *id;

	if (hh_spawn_interrupted()) {
		if (pass_fd >= 0)
			close(pass_fd);
		g_set_error(error, HH_ERROR, HH_ERROR_CANCELLED, "interrupted");
		return NULL;
	}
	if (flags & HH_SPAWN_CAPTURE)
		sflags |= G_SUBPROCESS_FLAGS_STDOUT_PIPE |
			  G_SUBPROCESS_FLAGS_STDERR_MERGE;
	else if (log_path)
		sflags |= G_SUBPROCESS_FLAGS_STDERR_MERGE;
	else if (!(flags & HH_SPAWN_INHERIT_OUTPUT))
		sflags |= G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
			  G_SUBPROCESS_FLAGS_STDERR_SILENCE;

	launcher = g_subprocess_launcher_new(sflags);
	environ = clean_environment(env);
	g_subprocess_launcher_set_environ(launcher, environ);
	if (cwd)
		g_subprocess_launcher_set_cwd(launcher, cwd);
	if (log_path && !(flags & HH_SPAWN_CAPTURE))
		g_subprocess_launcher_set_stdout_file_path(launcher, log_path);
	g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL,
					      NULL);
	if (pass_fd >= 0)
		g_subprocess_launcher_take_fd(launcher, pass_fd, target_fd);

	proc = g_subprocess_launcher_spawnv(launcher, argv, error);
	if (!proc) {
		g_prefix_error(error, "cannot start '%s': ", argv[0]);
		return NULL;
	}
	child = g_new0(HhChild, 1);
	child->proc = proc;
	id = g_subprocess_get_identifier(proc);
	child->pid = id ? atoi(id) : 0;
	if (child->pid > 0)
		registry_add(child->pid);
	if (hh_spawn_interrupted())
		hh_child_kill(child);
	return child;
}

void hh_child_kill(HhChild *child)
{
	if (child->pid > 0 && !g_subprocess_get_identifier(child->proc))
		return; /* already reaped */
	if (child->pid > 0) {
		kill(-child->pid, SIGKILL);
		kill(child->pid, SIGKILL);
	}
}

typedef struct {
	gboolean done;
	gboolean timed_out;
} WaitState;

static void wait_done(GObject *source, GAsyncResult *res, gpointer data)
{
	WaitState *st = data;

	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	st->done = TRUE;
}

static gboolean wait_timeout(gpointer data)
{
	WaitState *st = data;

	st->timed_out = TRUE;
	return G_SOURCE_REMOVE;
}

static void reaped(HhChild *child)
{
	if (child->pid > 0) {
		/* The group may still hold grandchildren (make's jobs). */
		kill(-child->pid, SIGKILL);
		registry_remove(child->pid);
		child->pid = 0;
	}
}

gboolean hh_child_wait(HhChild *child, guint timeout_ms, int *status,
		       GError **error)
{
	g_autoptr(GMainContext) ctx = g_main_context_ref_thread_default();
	WaitState st = { 0 };
	GSource *timer = NULL;

	if (!child->pid) {
		if (status)
			*status = g_subprocess_get_status(child->proc);
		return TRUE;
	}
	g_subprocess_wait_async(child->proc, NULL, wait_done, &st);
	if (timeout_ms) {
		timer = g_timeout_source_new(timeout_ms);
		g_source_set_callback(timer, wait_timeout, &st, NULL);
		g_source_attach(timer, ctx);
	}
	while (!st.done && !st.timed_out)
		g_main_context_iteration(ctx, TRUE);
	if (timer) {
		g_source_destroy(timer);
		g_source_unref(timer);
	}
	if (st.timed_out) {
		hh_child_kill(child);
		while (!st.done)
			g_main_context_iteration(ctx, TRUE);
		reaped(child);
		g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
			    "timed out after %u ms", timeout_ms);
		return FALSE;
	}
	reaped(child);
	if (status)
		*status = g_subprocess_get_status(child->proc);
	return TRUE;
}

char *hh_wait_status_describe(int status)
{
	if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));

		return g_strdup_printf("killed by signal %d (SIG%s)%s",
				       WTERMSIG(status),
				       abbrev ? abbrev : "?",
				       WCOREDUMP(status) ? ", core dumped" : "");
	}
	if (WIFEXITED(status))
		return g_strdup_printf("exited with status %d",
				       WEXITSTATUS(status));
	return g_strdup_printf("ended with wait status 0x%x", status);
}

void hh_child_free(HhChild *child)
{
	if (!child)
		return;
	if (child->pid) {
		hh_child_kill(child);
		g_subprocess_wait(child->proc, NULL, NULL);
		reaped(child);
	}
	g_object_unref(child->proc);
	g_free(child);
}

static gboolean check_status(const char *const *argv, int status,
			     const char *log_path, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (g_spawn_check_wait_status(status, &local))
		return TRUE;
	if (hh_spawn_interrupted()) {
		g_set_error(error, HH_ERROR, HH_ERROR_CANCELLED,
			    "'%s' interrupted", argv[0]);
		return FALSE;
	}
	if (log_path)
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "'%s' failed (%s); see %s", argv[0],
			    local->message, log_path);
	else
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "'%s' failed (%s)", argv[0], local->message);
	return FALSE;
}

gboolean hh_run(const char *const *argv, const char *cwd,
		const char *const *env, const char *log_path,
		HhSpawnFlags flags, char **output, GError **error)
{
	g_autoptr(HhChild) child = NULL;
	g_autofree char *out = NULL;
	int status;

	child = hh_child_spawn(argv, cwd, env, log_path, flags, error);
	if (!child)
		return FALSE;
	if (flags & HH_SPAWN_CAPTURE) {
		if (!g_subprocess_communicate_utf8(child->proc, NULL, NULL,
						   &out, NULL, error))
			return FALSE;
	}
	if (!hh_child_wait(child, 0, &status, error))
		return FALSE;
	if (output)
		*output = g_steal_pointer(&out);
	if (!check_status(argv, status, log_path, error)) {
		if (output && *output && **output && error && *error)
			g_prefix_error(error, "%s\n", g_strchomp(*output));
		return FALSE;
	}
	return TRUE;
}

char *hh_argv_to_string(const char *const *argv)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; argv[i]; i++) {
		g_autofree char *q = g_shell_quote(argv[i]);

		if (i)
			g_string_append_c(s, ' ');
		g_string_append(s, q);
	}
	return g_string_free(s, FALSE);
}
