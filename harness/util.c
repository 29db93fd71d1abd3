/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "util.h"
#include "hh-error.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

gboolean hh_parse_size(const char *text, guint64 *out, GError **error)
{
	guint64 v;
	char *end = NULL;
	int shift = 0;

	if (!text || !g_ascii_isdigit(text[0]))
		goto bad;
	errno = 0;
	v = g_ascii_strtoull(text, &end, 0);
	if (errno)
		goto bad;
	switch (g_ascii_toupper(*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: break;
	}
	if ((*end == 'B' || *end == 'b') && shift)
		end++;
	if (*end)
		goto bad;
	if (shift && v > (G_MAXUINT64 >> shift))
		goto bad;
	*out = v << shift;
	return TRUE;
bad:
	g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
		    "'%s' is not a size (examples: 128M, 3G, 0x8000000)",
		    text ? text : "");
	return FALSE;
}

char *hh_format_size(guint64 bytes)
{
	if (bytes && bytes % (1ull << 30) == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT "G", bytes >> 30);
	if (bytes && bytes % (1ull << 20) == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT "M", bytes >> 20);
	return g_strdup_printf("%" G_GUINT64_FORMAT, bytes);
}

gboolean hh_write_file(const char *path, const char *data, gssize len,
		       GError **error)
{
	return g_file_set_contents_full(path, data, len,
					G_FILE_SET_CONTENTS_CONSISTENT, 0644,
					error);
}

gboolean hh_write_json(const char *path, JsonBuilder *builder,
		       gboolean pretty, GError **error)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	g_autofree char *text = NULL;

	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, pretty);
	text = json_generator_to_data(gen, NULL);
	return hh_write_file(path, text, -1, error);
}

gboolean hh_mkdir_p(const char *path, int mode, GError **error)
{
	if (g_mkdir_with_parents(path, mode) < 0) {
		int e = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
			    "cannot create directory '%s': %s", path,
			    g_strerror(e));
		return FALSE;
	}
	return TRUE;
}

char *hh_sha256_file(const char *path, GError **error)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(GMappedFile) map = g_mapped_file_new(path, FALSE, error);

	if (!map) {
		g_prefix_error(error, "cannot hash: ");
		return NULL;
	}
	g_checksum_update(sum, (const guchar *)g_mapped_file_get_contents(map),
			  g_mapped_file_get_length(map));
	return g_strdup(g_checksum_get_string(sum));
}

gint64 hh_now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

static gboolean timer_fired(gpointer data)
{
	return G_SOURCE_REMOVE;
}

void hh_iterate_once(guint max_ms)
{
	g_autoptr(GMainContext) ctx = g_main_context_ref_thread_default();
	GSource *timer = g_timeout_source_new(max_ms);

	g_source_set_callback(timer, timer_fired, NULL, NULL);
	g_source_attach(timer, ctx);
	g_main_context_iteration(ctx, TRUE);
	g_source_destroy(timer);
	g_source_unref(timer);
}

char *hh_iso_now(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	return g_date_time_format_iso8601(now);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

gboolean hh_rm_rf(const char *path, GError **error)
{
	if (!g_file_test(path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
		return TRUE;
	if (nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS) < 0) {
		int e = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
			    "cannot remove '%s': %s", path, g_strerror(e));
		return FALSE;
	}
	return TRUE;
}

void hh_json_set_string(JsonBuilder *b, const char *member,
			const char *value)
{
	json_builder_set_member_name(b, member);
	if (value)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

int hh_lock_file(const char *path, GError **error)
{
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);

	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int e = errno;

		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "cannot lock '%s': %s", path, g_strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}
