/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "initramfs.h"
#include "hh-error.h"
#include "paths.h"
#include "spawn.h"
#include "util.h"

#include <gio/gio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define INITRAMFS_RECIPE "hh-initramfs-1"

void hh_initramfs_free(HhInitramfs *img)
{
	if (!img)
		return;
	g_free(img->path);
	g_free(img->key);
	g_free(img);
}

static void pad4(GByteArray *out)
{
	static const guint8 zero[4];

	if (out->len % 4)
		g_byte_array_append(out, zero, 4 - out->len % 4);
}

void hh_cpio_add(GByteArray *out, guint32 ino, const char *name,
		 guint32 mode, guint32 rdev_major, guint32 rdev_minor,
		 const void *data, gsize len)
{
	char hdr[111];
	gsize namesize = strlen(name) + 1;

	/* magic ino mode uid gid nlink mtime size dev(2) rdev(2) namesize check */
	g_snprintf(hdr, sizeof(hdr),
		   "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		   ino, mode, 0, 0, S_ISDIR(mode) ? 2 : 1, 0, (guint32)len, 0,
		   0, rdev_major, rdev_minor, (guint32)namesize, 0);
	g_byte_array_append(out, (const guint8 *)hdr, 110);
	g_byte_array_append(out, (const guint8 *)name, namesize);
	pad4(out);
	if (len)
		g_byte_array_append(out, data, len);
	pad4(out);
}

void hh_cpio_finish(GByteArray *out)
{
	hh_cpio_add(out, 0, "TRAILER!!!", 0, 0, 0, NULL, 0);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static gboolean build_archive(const char *agent, const char *busybox,
			      GByteArray *cpio, GError **error)
{
	static const char *const dirs[] = {
		"bin", "dev", "etc", "proc", "root", "sbin", "sys", "tmp",
		"usr", "usr/bin", "usr/sbin", NULL,
	};
	const char *list_argv[] = { busybox, "--list", NULL };
	g_autofree char *list = NULL, *agent_data = NULL, *bb_data = NULL;
	g_auto(GStrv) applets = NULL;
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();
	gsize agent_len, bb_len;
	guint32 ino = 1;

	if (!g_file_get_contents(agent, &agent_data, &agent_len, error)) {
		g_prefix_error(error, "guest agent (run 'make' first): ");
		return FALSE;
	}
	if (!g_file_get_contents(busybox, &bb_data, &bb_len, error)) {
		g_prefix_error(error,
			       "busybox (Debian: apt-get install busybox-static): ");
		return FALSE;
	}
	if (!hh_run(list_argv, NULL, NULL, NULL, HH_SPAWN_CAPTURE, &list,
		    error))
		return FALSE;

	for (int i = 0; dirs[i]; i++)
		hh_cpio_add(cpio, ino++, dirs[i], S_IFDIR | 0755, 0, 0, NULL, 0);
	hh_cpio_add(cpio, ino++, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0);
	hh_cpio_add(cpio, ino++, "init", S_IFREG | 0755, 0, 0, agent_data,
		    agent_len);
	hh_cpio_add(cpio, ino++, "bin/busybox", S_IFREG | 0755, 0, 0, bb_data,
		    bb_len);
	applets = g_strsplit(list, "\n", -1);
	for (int i = 0; applets[i]; i++) {
		char *a = g_strstrip(applets[i]);

		if (*a && !strchr(a, '/') && !g_str_equal(a, "busybox"))
			g_ptr_array_add(sorted, a);
	}
	g_ptr_array_sort(sorted, cmp_str);
	for (guint i = 0; i < sorted->len; i++) {
		g_autofree char *name =
			g_strdup_printf("bin/%s", (char *)sorted->pdata[i]);

		hh_cpio_add(cpio, ino++, name, S_IFLNK | 0777, 0, 0, "busybox",
			    strlen("busybox"));
	}
	hh_cpio_finish(cpio);
	return TRUE;
}

static GBytes *gzip(GByteArray *data, GError **error)
{
	g_autoptr(GZlibCompressor) z =
		g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
	g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data(
		data->data, data->len, NULL);
	g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable();
	g_autoptr(GOutputStream) out =
		g_converter_output_stream_new(mem, G_CONVERTER(z));

	if (g_output_stream_splice(out, in,
				   G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL,
				   error) < 0)
		return NULL;
	return g_memory_output_stream_steal_as_bytes(
		G_MEMORY_OUTPUT_STREAM(mem));
}

/* TRUE if the file is a gzip stream that decompresses to its end (its
 * CRC checked): a truncated or damaged cache entry is not. */
static gboolean gzip_whole(const char *path, GError **error)
{
	g_autoptr(GFile) f = g_file_new_for_path(path);
	g_autoptr(GFileInputStream) raw = g_file_read(f, NULL, error);
	g_autoptr(GZlibDecompressor) z = NULL;
	g_autoptr(GInputStream) in = NULL;
	g_autofree char *buf = g_malloc(65536);
	gssize n;

	if (!raw)
		return FALSE;
	z = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
	in = g_converter_input_stream_new(G_INPUT_STREAM(raw),
					  G_CONVERTER(z));
	while ((n = g_input_stream_read(in, buf, 65536, NULL, error)) > 0)
		;
	return n == 0;
}

/* A cache entry there and whole; quiet: say nothing of a damaged one
 * (it was said before taking the lock). */
static gboolean cached_whole(const char *path, gboolean quiet)
{
	g_autoptr(GError) why = NULL;

	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return FALSE;
	if (gzip_whole(path, &why))
		return TRUE;
	if (!quiet)
		fprintf(stderr, "initramfs: cached %s is damaged (%s): "
			"rebuilding it\n", path, why->message);
	return FALSE;
}

static char *image_key(const char *agent, const char *busybox,
		       GError **error)
{
	g_autofree char *a = hh_sha256_file(agent, error);
	g_autofree char *b = a ? hh_sha256_file(busybox, error) : NULL;
	g_autofree char *all = NULL;

	if (!b) {
		g_prefix_error(error, "initramfs inputs: ");
		return NULL;
	}
	all = g_strdup_printf(INITRAMFS_RECIPE "\n%s\n%s\n", a, b);
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, all, -1);
}

HhInitramfs *hh_initramfs_build(const char *agent, const char *busybox,
				GError **error)
{
	g_autoptr(HhInitramfs) img = g_new0(HhInitramfs, 1);
	g_autoptr(GByteArray) cpio = g_byte_array_new();
	g_autoptr(GBytes) gz = NULL;
	g_autofree char *dir = g_build_filename(hh_cache_dir(), "initramfs",
						NULL);
	g_autofree char *full = image_key(agent, busybox, error);
	g_autofree char *lock = NULL;
	int fd;

	if (!full)
		return NULL;
	img->key = g_strndup(full, 16);
	img->path = g_strdup_printf("%s/%s.cpio.gz", dir, img->key);
	if (cached_whole(img->path, FALSE)) {
		img->cached = TRUE;
		return g_steal_pointer(&img);
	}
	/* One builder at a time per image, across processes (two runs on
	 * one cache): the others wait and take its image. */
	if (!hh_mkdir_p(dir, 0755, error))
		return NULL;
	lock = g_strdup_printf("%s.lock", img->path);
	fd = hh_lock_file(lock, error);
	if (fd < 0)
		return NULL;
	if (cached_whole(img->path, TRUE)) {
		fprintf(stderr, "initramfs: %s was built meanwhile by another "
			"process\n", img->path);
		img->cached = TRUE;
	} else if (build_archive(agent, busybox, cpio, error) &&
		   (gz = gzip(cpio, error)) &&
		   hh_write_file(img->path, g_bytes_get_data(gz, NULL),
				 g_bytes_get_size(gz), error)) {
		fprintf(stderr, "initramfs: built %s\n", img->path);
	} else {
		g_clear_pointer(&img, hh_initramfs_free);
	}
	close(fd);
	return g_steal_pointer(&img);
}
