/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_SELFTEST_H
#define HH_SELFTEST_H

#include <glib.h>

#include "result.h"

/*
 * The kernel's selftests in a distro guest (scenario action "selftest"):
 * the command that runs one through the installed kselftest runner, and
 * its output split into cases, each a step of the cell.
 *
 * The runner prints TAP 13 (one "ok N selftests: COLLECTION: TEST" per
 * test) and the test's own output prefixed with "# ".  A test that prints
 * (K)TAP itself gives a case per "# ok N" / "# not ok N" line.  The hotplug
 * scripts print plain text: a line indented by one tab starts a case
 * ("online all hot-pluggable memory in offline state:"), lines indented
 * deeper or not at all belong to it.  A case fails on FAILED, "unexpected"
 * (the scripts' own words for a wrong result) or a shell error such as
 * "command not found" (mem-on-off-test.sh without bc offlines nothing and
 * the runner still says ok), is a skip on SKIPPED, else passes.  The
 * runner's own result line is the last case.
 */
typedef struct {
	char *name;
	HhVerdict verdict;	/* pass, skip or fail */
	char *message;		/* the lines that decided it, or NULL */
} HhSelftestCase;

void hh_selftest_case_free(gpointer c);

/* The guest command for TEST ("memory-hotplug:mem-on-off-test.sh"):
 * argv for sh -c, the runner's output through cat (under systemd its
 * stdout is a socket, and the runner writes to /dev/stdout). */
char **hh_selftest_argv(const char *dir, const char *test);

/* TRUE if test is COLLECTION:FILE with no shell metacharacters. */
gboolean hh_selftest_name_valid(const char *test);

/* The cases of the output; never empty (without a result line from the
 * runner, a failing case says so). */
GPtrArray *hh_selftest_parse(const char *output);

#endif
