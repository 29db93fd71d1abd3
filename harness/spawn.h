/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_SPAWN_H
#define HH_SPAWN_H

#include <gio/gio.h>

/*
 * Every child the harness starts (QEMU, make, tar, patch, git) goes through
 * here: argv only (never a shell), a clean environment, no inherited file
 * descriptors, its own process group, PR_SET_PDEATHSIG so it dies with the
 * harness even on SIGKILL, and a registry of live process groups that the
 * SIGINT/SIGTERM handler kills at once.
 */

typedef enum {
	HH_SPAWN_NONE = 0,
	HH_SPAWN_INHERIT_OUTPUT = 1 << 0, /* child writes to our stdout/stderr */
	HH_SPAWN_CAPTURE = 1 << 1,	  /* collect stdout+stderr in memory */
} HhSpawnFlags;

typedef struct {
	GSubprocess *proc;
	GPid pid;
} HhChild;

/* Installs the signal handlers; call once from main(). */
void hh_spawn_init(void);

/* TRUE once SIGINT/SIGTERM/SIGHUP was received (children already killed). */
gboolean hh_spawn_interrupted(void);
int hh_spawn_interrupt_signal(void);

/*
 * Starts argv.  log_path, if not NULL, receives stdout and stderr.  cwd may
 * be NULL.  env is added to the clean environment (NULL-terminated
 * "KEY=value" strings, may be NULL).
 */
HhChild *hh_child_spawn(const char *const *argv, const char *cwd,
			const char *const *env, const char *log_path,
			HhSpawnFlags flags, GError **error);

/* The same, also giving the child our descriptor pass_fd as its fd
 * target_fd (pass_fd is closed in the parent). */
HhChild *hh_child_spawn_with_fd(const char *const *argv, const char *cwd,
				const char *const *env, const char *log_path,
				HhSpawnFlags flags, int pass_fd, int target_fd,
				GError **error);

/* Kills the child's whole process group with SIGKILL (idempotent). */
void hh_child_kill(HhChild *child);

/*
 * Waits for the child to exit, iterating the thread-default main context.
 * timeout_ms 0 means no limit.  On timeout the child is killed and reaped
 * and HH_ERROR_TIMEOUT is returned.  *status gets the wait status.
 */
gboolean hh_child_wait(HhChild *child, guint timeout_ms, int *status,
		       GError **error);

/* How a wait status ended: "killed by signal 9 (SIGKILL)", "exited with
 * status 1".  Newly allocated. */
char *hh_wait_status_describe(int status);

/* Reaps (killing first if needed) and frees. */
void hh_child_free(HhChild *child);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhChild, hh_child_free)

/*
 * Runs argv to completion.  Fails with a message naming the program and its
 * exit status; with HH_SPAWN_CAPTURE, *output (may be NULL) receives what it
 * printed.
 */
gboolean hh_run(const char *const *argv, const char *cwd,
		const char *const *env, const char *log_path,
		HhSpawnFlags flags, char **output, GError **error);

/* Quotes argv for display and for replay files (never executed by us). */
char *hh_argv_to_string(const char *const *argv);

#endif
