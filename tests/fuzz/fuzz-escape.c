/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: report text cleaning and escaping (escape.c).  The
 * first byte picks the bound given to hh_text_clean(); the rest is guest
 * text.  Checks the promises escape.h makes: valid UTF-8, no NUL or
 * control character but tab and newline, no markup character left
 * unescaped, one line with at most max bytes.
 */
#include "config.h"

#include "escape.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree char *clean = NULL, *one = NULL, *nul = NULL;
	g_autoptr(GString) markup = g_string_new(NULL);
	gsize max;

	if (size < 1)
		return 0;
	max = data[0] * 4u;
	data++;
	size--;
	clean = hh_text_clean((const char *)data, size, max);
	g_assert(g_utf8_validate(clean, -1, NULL));
	for (const char *p = clean; *p; p++)
		g_assert((guchar)*p >= 0x20 || *p == '\t' || *p == '\n');
	hh_markup_append(markup, clean);
	for (const char *p = markup->str; *p; p++) {
		g_assert(!strchr("<>\"'", *p));
		g_assert(*p != '&' || g_str_has_prefix(p, "&amp;") ||
			 g_str_has_prefix(p, "&lt;") || g_str_has_prefix(p, "&gt;") ||
			 g_str_has_prefix(p, "&quot;") ||
			 g_str_has_prefix(p, "&#39;"));
	}
	hh_markup_printf(markup, "<a title=\"%s\">%u</a>", clean, 7u);
	one = hh_text_one_line(clean, max ? max : 80);
	g_assert(!strchr(one, '\n'));
	g_assert(strlen(one) <= (max ? max : 80));
	nul = g_strndup((const char *)data, size);
	g_free(hh_text_clean_str(nul, max));
	return 0;
}
