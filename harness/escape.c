/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cleaning and escaping untrusted guest text for reports. */
#include "config.h"

#include "escape.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

static gboolean xml_char(gunichar c)
{
	if (c == '\t' || c == '\n')
		return TRUE;
	if (c < 0x20 || (c >= 0x7f && c < 0xa0))
		return FALSE;
	if (c >= 0xd800 && c <= 0xdfff)
		return FALSE;
	return c != 0xfffe && c != 0xffff && c <= 0x10ffff;
}

static void clean_into(GString *out, const char *p, gsize len)
{
	const char *end;

	if (!len)	/* p may be NULL */
		return;
	end = p + len;

	while (p < end) {
		gunichar c = g_utf8_get_char_validated(p, end - p);

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append(out, REPLACEMENT);
			p++;
			continue;
		}
		if (c == '\r') {
			p = g_utf8_next_char(p);
			continue;
		}
		if (c == 0) {		/* an embedded NUL */
			g_string_append(out, REPLACEMENT);
			p++;
			continue;
		}
		if (xml_char(c))
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		else
			g_string_append(out, REPLACEMENT);
		p = g_utf8_next_char(p);
	}
}

/* The head, a line saying cut bytes were left out (if any), the tail. */
static char *clean_parts(const char *head, gsize head_len, const char *tail,
			 gsize tail_len, gsize cut)
{
	GString *out = g_string_sized_new(head_len + tail_len + 64);

	clean_into(out, head, head_len);
	if (cut)
		g_string_append_printf(out, "\n[... %" G_GSIZE_FORMAT
				       " bytes cut by hotplug-harness ...]\n",
				       cut);
	clean_into(out, tail, tail_len);
	return g_string_free(out, FALSE);
}

char *hh_text_clean(const char *data, gsize len, gsize max)
{
	gsize head = max / 4, tail = max - head;

	if (!data)
		len = 0;
	if (!max || len <= max)
		return clean_parts(data, len, NULL, 0, 0);
	return clean_parts(data, head, data + len - tail, tail,
			   len - head - tail);
}

char *hh_text_clean_str(const char *s, gsize max)
{
	return s ? hh_text_clean(s, strlen(s), max) : NULL;
}

void hh_markup_append(GString *out, const char *raw)
{
	/* Cleaning clean text changes nothing; anything else is made safe
	 * here, whatever the caller forgot. */
	g_autofree char *text = hh_text_clean_str(raw, 0);

	for (const char *p = text; p && *p; p++) {
		switch (*p) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			g_string_append(out, "&#39;");
			break;
		default:
			g_string_append_c(out, *p);
		}
	}
}

void hh_markup_printf(GString *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			g_string_append_c(out, *p);
			continue;
		}
		p++;
		switch (*p) {
		case 's':
			hh_markup_append(out, va_arg(ap, const char *));
			break;
		case 'u':
			g_string_append_printf(out, "%u", va_arg(ap, unsigned));
			break;
		case 'd':
			g_string_append_printf(out, "%d", va_arg(ap, int));
			break;
		case '%':
			g_string_append_c(out, '%');
			break;
		default:
			g_assert_not_reached();
		}
	}
	va_end(ap);
}

char *hh_text_one_line(const char *clean, gsize max)
{
	GString *out = g_string_new(NULL);

	for (const char *p = clean; p && *p && out->len < max; p++) {
		if (*p == '\n' || *p == '\t')
			g_string_append_c(out, ' ');
		else if (*p == '#')
			g_string_append_c(out, '_');
		else
			g_string_append_c(out, *p);
	}
	/* Never end inside a UTF-8 sequence. */
	while (out->len && !g_utf8_validate(out->str, (gssize)out->len, NULL))
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

char *hh_text_read_file(const char *path, gsize max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	g_autofree char *buf = NULL;
	gsize len, head, tail;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	len = (gsize)st.st_size;
	if (!max || len <= max) {
		buf = g_malloc(len + 1);
		n = pread(fd, buf, len, 0);
		close(fd);
		return n < 0 ? NULL : hh_text_clean(buf, (gsize)n, 0);
	}
	/* Only the head and the tail are read, as hh_text_clean() keeps. */
	head = max / 4;
	tail = max - head;
	buf = g_malloc(max);
	if (pread(fd, buf, head, 0) != (ssize_t)head ||
	    pread(fd, buf + head, tail, (off_t)(len - tail)) != (ssize_t)tail) {
		close(fd);
		return NULL;
	}
	close(fd);
	return clean_parts(buf, head, buf + head, tail, len - max);
}
