/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the suppressions parser and the kernel-log crash
 * analyser (logcheck.c).  Input: suppressions text, a NUL byte, then a
 * kernel log (one record per line).  Without a NUL the whole input is the
 * log, checked against the project's configs/suppressions.
 */
#include "config.h"

#include "logcheck.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static HhSuppressions *shipped;

static void scan(const char *log, gsize len, const HhSuppressions *sup)
{
	g_autofree char *text = g_strndup(log, len);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GPtrArray) crashes =
		hh_logcheck_scan((const char *const *)lines,
				 g_strv_length(lines), sup);

	for (guint i = 0; i < crashes->len; i++) {
		HhCrash *c = crashes->pdata[i];

		g_assert(c->title && c->excerpt && c->count >= 1);
	}
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	g_autoptr(HhSuppressions) sup = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *suptext = NULL;

	if (!shipped)
		shipped = hh_suppressions_load(HH_SRCDIR "/configs/suppressions",
					       NULL);
	if (!nul) {
		scan(text, size, shipped);
		return 0;
	}
	suptext = g_strndup(text, nul - text);
	sup = hh_suppressions_parse(suptext, "fuzz", &err);
	g_assert(sup || err);
	scan(nul + 1, size - (nul + 1 - text), sup);
	return 0;
}
