/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: result.json reading (result.c) and what the report
 * model takes from it (report-model.c): verdict, reason, steps, crashes
 * and the failure excerpt, all of it clean text.
 */
#include "config.h"

#include "report-model.h"
#include "result.h"

#include <glib/gstdio.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static char *dir;

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree char *path = NULL, *reason = NULL, *excerpt = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) steps = NULL, crashes = NULL;
	HhArchiveCell cell = { .name = "k/v/s", .status = "fail",
			       .reason = "fuzz", .dir = NULL };
	HhRepCell c = { .cell = &cell };

	if (!dir)
		dir = g_dir_make_tmp("hh-fuzz-XXXXXX", NULL);
	cell.dir = dir;
	path = g_build_filename(dir, "result.json", NULL);
	g_assert(g_file_set_contents(path, (const char *)data, size, NULL));
	c.parser = hh_result_load(dir, &c.result, &err);
	g_assert(c.parser || err);
	reason = hh_rep_result_str(&c, "reason");
	if (reason)
		g_assert(g_utf8_validate(reason, -1, NULL));
	steps = hh_rep_steps(&c);
	crashes = hh_rep_crashes(&c);
	excerpt = hh_rep_failure_excerpt(&c, 4096);
	g_assert(g_utf8_validate(excerpt, -1, NULL));
	if (c.parser)
		g_object_unref(c.parser);
	return 0;
}
