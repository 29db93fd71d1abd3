/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debian disk images for cells that boot a real userspace (see image.h and
 * docs/distro.md).  A built image is debootstrap's tree, copied, with the
 * payload written into the copy, made an ext4 filesystem with mke2fs -d
 * (about 1 s; a libguestfs appliance takes 27-53 s for the same tree) and
 * converted to qcow2.  An imported image gets the same payload through the
 * libguestfs C API, in a cached copy.
 */
#include "config.h"

#include "image.h"
#include "hh-error.h"
#include "kbuild.h"
#include "paths.h"
#include "spawn.h"
#include "util.h"

#include <glib/gstdio.h>
#include <guestfs.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bump when the payload or the way an image is made changes. */
#define HH_IMAGE_RECIPE "hh-image-1"
#define HH_TREE_RECIPE "hh-tree-1 debootstrap --variant=minbase"
#define HH_SELFTEST_TARGETS "memory-hotplug cpu-hotplug"
/* The filesystem of a built image: room for the guest's own writes. */
#define HH_IMAGE_FS_SIZE "2G"

void hh_image_spec_clear(HhImageSpec *spec)
{
	g_clear_pointer(&spec->suite, g_free);
	g_clear_pointer(&spec->packages, g_strfreev);
	g_clear_pointer(&spec->mirror, g_free);
	g_clear_pointer(&spec->kernel_source, g_free);
}

void hh_image_free(HhImage *img)
{
	if (!img)
		return;
	g_free(img->key);
	g_free(img->dir);
	g_free(img->path);
	g_free(img->root);
	g_free(img->fstype);
	g_free(img);
}

static void progress(const HhImageSpec *spec, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static void progress(const HhImageSpec *spec, const char *fmt, ...)
{
	va_list ap;

	if (spec->quiet)
		return;
	va_start(ap, fmt);
	fputs("image: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void image_file_free(gpointer p)
{
	HhImageFile *f = p;

	g_free(f->path);
	g_free(f->data);
	g_free(f->link);
	g_free(f->tree);
	g_free(f);
}

static void add_text(GPtrArray *out, const char *path, const char *text,
		     guint mode)
{
	HhImageFile *f = g_new0(HhImageFile, 1);

	f->path = g_strdup(path);
	f->data = g_strdup(text);
	f->len = strlen(text);
	f->mode = mode;
	g_ptr_array_add(out, f);
}

static void add_link(GPtrArray *out, const char *path, const char *target)
{
	HhImageFile *f = g_new0(HhImageFile, 1);

	f->path = g_strdup(path);
	f->link = g_strdup(target);
	g_ptr_array_add(out, f);
}

/* The agent runs after multi-user.target, like a user's own service; its
 * exit (the harness's POWEROFF, or a crash) powers the guest off, with the
 * file systems unmounted so the journal is on the disk. */
static const char agent_unit[] =
	"# Installed by hotplug-harness: the in-guest agent.\n"
	"[Unit]\n"
	"Description=hotplug-harness agent\n"
	"After=multi-user.target\n"
	"SuccessAction=poweroff-force\n"
	"FailureAction=poweroff-force\n"
	"\n"
	"[Service]\n"
	"Type=exec\n"
	"ExecStart=" HH_IMAGE_AGENT " --system\n"
	"StandardOutput=journal+console\n"
	"StandardError=journal+console\n";

/* Debian's udev has no rule that onlines hot-added memory (its
 * 70-memory.rules is about DMI); distributions that do ship one like it. */
static const char udev_rule[] =
	"# Installed by hotplug-harness: online hot-added memory blocks.\n"
	"SUBSYSTEM==\"memory\", ACTION==\"add\", ATTR{state}==\"offline\", "
	"ATTR{state}=\"online\"\n";

/* A guest killed seconds after an event keeps its journal only if
 * journald synced it (measured: nothing survives a kill 3 s after the
 * event with the default 5 min). */
static const char journald_conf[] =
	"# Installed by hotplug-harness: keep the journal on the disk.\n"
	"[Journal]\n"
	"Storage=persistent\n"
	"SyncIntervalSec=1s\n";

GPtrArray *hh_image_payload(const char *agent, const char *selftests,
			    gboolean root_fstab, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
		image_file_free);
	HhImageFile *f = g_new0(HhImageFile, 1);

	f->path = g_strdup(HH_IMAGE_AGENT);
	f->mode = 0755;
	if (!g_file_get_contents(agent, &f->data, &f->len, error)) {
		image_file_free(f);
		g_prefix_error(error, "the agent: ");
		return NULL;
	}
	g_ptr_array_add(out, f);
	add_text(out, "/etc/systemd/system/hh-agent.service", agent_unit, 0644);
	add_link(out, "/etc/systemd/system/multi-user.target.wants/"
		      "hh-agent.service", "../hh-agent.service");
	/* No gettys: this also stops the serial getty that systemd's
	 * generator adds for console=ttyS0. */
	add_link(out, "/etc/systemd/system/getty.target", "/dev/null");
	add_text(out, "/etc/udev/rules.d/80-hh-memory-online.rules", udev_rule,
		 0644);
	add_text(out, "/etc/systemd/journald.conf.d/hh.conf", journald_conf,
		 0644);
	add_text(out, "/etc/hostname", "hh-guest\n", 0644);
	if (root_fstab)
		add_text(out, "/etc/fstab",
			 "# Installed by hotplug-harness.\n"
			 "/dev/vda / ext4 rw,errors=remount-ro 0 1\n", 0644);
	if (selftests) {
		f = g_new0(HhImageFile, 1);
		f->path = g_strdup(HH_IMAGE_SELFTESTS);
		f->tree = g_strdup(selftests);
		g_ptr_array_add(out, f);
	}
	return g_steal_pointer(&out);
}

static gint cmp_strp(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static gint cmp_strp_data(gconstpointer a, gconstpointer b, gpointer unused)
{
	return cmp_strp(a, b);
}

/* Hashes what a payload entry puts into an image. */
static gboolean hash_payload(GChecksum *sum, GPtrArray *payload,
			     GError **error)
{
	for (guint i = 0; i < payload->len; i++) {
		HhImageFile *f = payload->pdata[i];
		g_autofree char *line = g_strdup_printf(
			"%s %o %" G_GSIZE_FORMAT " %s\n", f->path, f->mode,
			f->len, f->link ? f->link : "-");

		g_checksum_update(sum, (const guchar *)line, -1);
		if (f->data)
			g_checksum_update(sum, (const guchar *)f->data,
					  (gssize)f->len);
		if (f->tree) {
			const char *argv[] = { "find", ".", "-type", "f",
					       "-exec", "sha256sum", "{}", "+",
					       NULL };
			g_autofree char *out = NULL;
			g_auto(GStrv) lines = NULL;

			if (!hh_run(argv, f->tree, NULL, NULL, HH_SPAWN_CAPTURE,
				    &out, error))
				return FALSE;
			lines = g_strsplit(out, "\n", -1);
			/* find's order is the directory's: sort it */
			g_qsort_with_data(lines, (gint)g_strv_length(lines),
					  sizeof(char *), cmp_strp_data, NULL);
			for (guint j = 0; lines[j]; j++)
				g_checksum_update(sum, (const guchar *)lines[j],
						  -1);
		}
	}
	return TRUE;
}

char *hh_image_mirror_from_sources(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

	for (guint i = 0; lines[i]; i++) {
		g_autofree char *l = g_strstrip(g_strdup(lines[i]));
		g_auto(GStrv) w = NULL;
		const char *url = NULL;

		if (g_ascii_strncasecmp(l, "URIs:", 5) == 0) {
			w = g_strsplit_set(l + 5, " \t", -1);
		} else if (g_str_has_prefix(l, "deb ") ||
			   g_str_has_prefix(l, "deb\t")) {
			w = g_strsplit_set(l + 4, " \t", -1);
		} else {
			continue;
		}
		for (guint j = 0, opts = 0; w[j] && !url; j++) {
			/* deb [arch=amd64 signed-by=...] url */
			if (w[j][0] == '[')
				opts = 1;
			if (opts || !*w[j]) {
				opts = opts && !strchr(w[j], ']');
				continue;
			}
			url = w[j];
		}
		if (url && (g_str_has_prefix(url, "http://") ||
			    g_str_has_prefix(url, "https://") ||
			    g_str_has_prefix(url, "file:/")) &&
		    !strstr(url, "-security"))
			return g_strdup(url);
	}
	return NULL;
}

static char *machine_mirror(GError **error)
{
	const char *files[] = { "/etc/apt/sources.list.d/debian.sources",
				"/etc/apt/sources.list", NULL };
	g_autoptr(GDir) d = g_dir_open("/etc/apt/sources.list.d", 0, NULL);
	g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	for (guint i = 0; files[i]; i++) {
		g_autofree char *text = NULL, *m = NULL;

		if (g_file_get_contents(files[i], &text, NULL, NULL) &&
		    (m = hh_image_mirror_from_sources(text)))
			return g_steal_pointer(&m);
	}
	while (d && (name = g_dir_read_name(d)))
		g_ptr_array_add(more, g_build_filename(
			"/etc/apt/sources.list.d", name, NULL));
	for (guint i = 0; i < more->len; i++) {
		g_autofree char *text = NULL, *m = NULL;

		if (g_file_get_contents(more->pdata[i], &text, NULL, NULL) &&
		    (m = hh_image_mirror_from_sources(text)))
			return g_steal_pointer(&m);
	}
	g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
		    "no Debian mirror in /etc/apt/sources.list or "
		    "/etc/apt/sources.list.d/ (give one with --mirror URL)");
	return NULL;
}

static char *package_list(const HhImageSpec *spec)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) base = g_strsplit(HH_IMAGE_BASE_PACKAGES, ",", -1);
	GString *s = g_string_new(NULL);

	for (guint i = 0; base[i]; i++)
		g_ptr_array_add(all, g_strdup(base[i]));
	for (guint i = 0; spec->packages && spec->packages[i]; i++) {
		g_auto(GStrv) w = g_strsplit_set(spec->packages[i], ", ", -1);

		for (guint j = 0; w[j]; j++)
			if (*w[j])
				g_ptr_array_add(all, g_strdup(w[j]));
	}
	g_ptr_array_sort(all, cmp_strp);
	for (guint i = 0; i < all->len; i++) {
		gboolean dup = FALSE;

		for (guint j = 0; j < i && !dup; j++)
			dup = g_str_equal(all->pdata[i], all->pdata[j]);
		if (dup)
			continue;
		if (s->len)
			g_string_append_c(s, ',');
		g_string_append(s, all->pdata[i]);
	}
	return g_string_free(s, FALSE);
}

/* debootstrap's last "I: ..." line: on a terminal rewritten in place every
 * second, otherwise a line every 30 s. */
static gboolean follow_log(gpointer data)
{
	const char *log = data;
	g_autofree char *text = NULL;
	const char *last = NULL, *p;
	gboolean tty = isatty(STDERR_FILENO);

	if (!g_file_get_contents(log, &text, NULL, NULL))
		return G_SOURCE_CONTINUE;
	for (p = text; (p = strstr(p, "I: ")); p += 3)
		if (p == text || p[-1] == '\n')
			last = p + 3;
	if (!last)
		return G_SOURCE_CONTINUE;
	fprintf(stderr, "%simage: debootstrap: %.*s%s", tty ? "\r\033[K" : "",
		(int)MIN(strcspn(last, "\n"), 100), last, tty ? "" : "\n");
	return G_SOURCE_CONTINUE;
}

/* debootstrap: a tree per suite, packages and mirror. */
static char *build_tree(const HhImageSpec *spec, const char *suite,
			const char *packages, const char *mirror,
			char **key_out, GError **error)
{
	g_autofree char *stamp = g_strdup_printf(
		HH_TREE_RECIPE "\n%s\n%s\n%s\n", suite, packages, mirror);
	g_autofree char *key = g_compute_checksum_for_string(
		G_CHECKSUM_SHA256, stamp, -1);
	g_autofree char *dir = g_strdup_printf("%s/images/trees/%.16s",
					       hh_cache_dir(), key);
	g_autofree char *root = g_build_filename(dir, "root", NULL);
	g_autofree char *tmp = g_build_filename(dir, "root.tmp", NULL);
	g_autofree char *log = g_build_filename(dir, "debootstrap.log", NULL);
	g_autofree char *lock = g_build_filename(dir, "lock", NULL);
	g_autofree char *incl = g_strdup_printf("--include=%s", packages);
	const char *argv[] = { "debootstrap", "--variant=minbase", incl,
			       suite, tmp, mirror, NULL };
	gint64 t0 = hh_now_ms();
	guint timer;
	gboolean ok;
	int fd;

	*key_out = g_strndup(key, 16);
	if (g_file_test(root, G_FILE_TEST_IS_DIR))
		return g_steal_pointer(&root);
	if (!hh_mkdir_p(dir, 0755, error))
		return NULL;
	fd = hh_lock_file(lock, error);
	if (fd < 0)
		return NULL;
	if (g_file_test(root, G_FILE_TEST_IS_DIR)) {
		close(fd);
		return g_steal_pointer(&root);
	}
	if (geteuid() != 0) {
		close(fd);
		g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
			    "debootstrap needs root (the tree's files must "
			    "belong to root in the image): run 'image build' "
			    "as root once, the image is cached");
		return NULL;
	}
	if (!g_find_program_in_path("debootstrap")) {
		close(fd);
		g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
			    "debootstrap is not installed (apt-get install "
			    "debootstrap, or scripts/install-deps)");
		return NULL;
	}
	hh_rm_rf(tmp, NULL);
	progress(spec, "debootstrap %s from %s (%s); log: %s", suite, mirror,
		 packages, log);
	timer = spec->quiet ? 0 :
		g_timeout_add_seconds(isatty(STDERR_FILENO) ? 1 : 30,
				      follow_log, log);
	ok = hh_run(argv, NULL, NULL, log, 0, NULL, error);
	if (timer) {
		g_source_remove(timer);
		if (isatty(STDERR_FILENO))
			fputs("\r\033[K", stderr);
	}
	if (!ok) {
		close(fd);
		g_prefix_error(error, "debootstrap (log %s): ", log);
		return NULL;
	}
	/* 90 MB of downloaded .debs and package lists the guest never uses */
	{
		g_autofree char *debs = g_build_filename(
			tmp, "var/cache/apt/archives", NULL);
		g_autofree char *lists = g_build_filename(
			tmp, "var/lib/apt/lists", NULL);
		const char *clean[] = { "find", debs, lists, "-maxdepth", "1",
					"-type", "f", "-delete", NULL };

		hh_run(clean, NULL, NULL, NULL, 0, NULL, NULL);
	}
	if (rename(tmp, root) < 0) {
		close(fd);
		g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
			    "rename %s: %s", tmp, g_strerror(errno));
		return NULL;
	}
	close(fd);
	progress(spec, "debootstrap done in %.1f s",
		 (hh_now_ms() - t0) / 1000.0);
	return g_steal_pointer(&root);
}

/* The identity of a kernel source: tarballs by path, size and time, trees
 * by path (their selftests are hashed into the image key anyway). */
static char *source_stamp(const char *source, GError **error)
{
	GStatBuf st;

	if (g_stat(source, &st) < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
			    "kernel source '%s': %s", source,
			    g_strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode))
		return g_strdup_printf("tree %s", source);
	return g_strdup_printf("tarball %s %" G_GINT64_FORMAT " %"
			       G_GINT64_FORMAT, source, (gint64)st.st_size,
			       (gint64)st.st_mtime);
}

/* The members of a source tarball the selftests' make install needs. */
static const char *const selftest_members[] = {
	"tools/testing/selftests/Makefile",
	"tools/testing/selftests/lib.mk",
	"tools/testing/selftests/run_kselftest.sh",
	"tools/testing/selftests/kselftest",
	"tools/testing/selftests/memory-hotplug",
	"tools/testing/selftests/cpu-hotplug",
	"tools/scripts",
	"scripts/subarch.include",
	NULL,
};

/* The source tree's top directory inside a tarball ("linux-source-6.1"). */
static char *tarball_top(const char *tarball, GError **error)
{
	const char *argv[] = { "sh", "-c", "tar -tf \"$1\" | head -n 1", "sh",
			       tarball, NULL };
	g_autofree char *out = NULL;

	if (!hh_run(argv, NULL, NULL, NULL, HH_SPAWN_CAPTURE, &out, error))
		return NULL;
	g_strstrip(out);
	if (!*out) {
		g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
			    "kernel source '%s' is an empty tarball", tarball);
		return NULL;
	}
	out[strcspn(out, "/")] = 0;
	return g_steal_pointer(&out);
}

/* make -C tools/testing/selftests TARGETS=... install, from a tarball or a
 * tree, cached by the source's identity. */
static char *install_selftests(const HhImageSpec *spec, GError **error)
{
	g_autofree char *source = g_canonicalize_filename(
		spec->kernel_source ? spec->kernel_source :
				      HH_DEFAULT_KERNEL_SOURCE, NULL);
	g_autofree char *stamp = source_stamp(source, error);
	g_autofree char *key = NULL, *dir = NULL, *inst = NULL, *tmp = NULL;
	g_autofree char *src = NULL, *top = NULL, *lock = NULL, *log = NULL;
	g_autofree char *ipath = NULL, *mdir = NULL;
	gint64 t0 = hh_now_ms();
	int fd;

	if (!stamp)
		return NULL;
	key = g_compute_checksum_for_string(G_CHECKSUM_SHA256, stamp, -1);
	dir = g_strdup_printf("%s/images/selftests/%.16s", hh_cache_dir(), key);
	inst = g_build_filename(dir, "install", NULL);
	if (g_file_test(inst, G_FILE_TEST_IS_DIR) &&
	    !g_str_has_prefix(stamp, "tree "))
		return g_steal_pointer(&inst);
	if (!hh_mkdir_p(dir, 0755, error))
		return NULL;
	lock = g_build_filename(dir, "lock", NULL);
	fd = hh_lock_file(lock, error);
	if (fd < 0)
		return NULL;
	if (g_file_test(inst, G_FILE_TEST_IS_DIR) &&
	    !g_str_has_prefix(stamp, "tree ")) {
		close(fd);
		return g_steal_pointer(&inst);
	}
	tmp = g_build_filename(dir, "tmp", NULL);
	hh_rm_rf(tmp, NULL);
	hh_rm_rf(inst, NULL);
	if (!hh_mkdir_p(tmp, 0755, error))
		goto fail;
	if (g_file_test(source, G_FILE_TEST_IS_DIR)) {
		src = g_strdup(source);
	} else {
		g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(
			g_free);

		top = tarball_top(source, error);
		if (!top)
			goto fail;
		progress(spec, "extracting the selftests from %s", source);
		g_ptr_array_add(argv, g_strdup("tar"));
		g_ptr_array_add(argv, g_strdup("-xf"));
		g_ptr_array_add(argv, g_strdup(source));
		g_ptr_array_add(argv, g_strdup("-C"));
		g_ptr_array_add(argv, g_strdup(tmp));
		for (guint i = 0; selftest_members[i]; i++)
			g_ptr_array_add(argv, g_strdup_printf(
				"%s/%s", top, selftest_members[i]));
		g_ptr_array_add(argv, NULL);
		if (!hh_run((const char *const *)argv->pdata, NULL, NULL, NULL,
			    HH_SPAWN_CAPTURE, NULL, error))
			goto fail;
		src = g_build_filename(tmp, top, NULL);
	}
	mdir = g_build_filename(src, "tools/testing/selftests", NULL);
	ipath = g_strdup_printf("INSTALL_PATH=%s", inst);
	log = g_build_filename(dir, "install.log", NULL);
	{
		const char *argv[] = { "make", "-C", mdir,
				       "TARGETS=" HH_SELFTEST_TARGETS, ipath,
				       "install", NULL };

		if (!hh_run(argv, NULL, NULL, log, 0, NULL, error)) {
			g_prefix_error(error, "selftests install (log %s; it "
				       "needs rsync): ", log);
			goto fail;
		}
	}
	/* The runner kills a test after 45 s unless its directory's settings
	 * file says otherwise: under TCG mem-on-off-test.sh alone takes
	 * 17-60 s.  The scenario's selftest timeout is the real bound. */
	{
		g_auto(GStrv) targets = g_strsplit(HH_SELFTEST_TARGETS, " ", -1);

		for (guint i = 0; targets[i]; i++) {
			g_autofree char *set = g_build_filename(
				inst, targets[i], "settings", NULL);

			if (!g_file_set_contents(set, "timeout=3600\n", -1,
						 error))
				goto fail;
		}
	}
	hh_rm_rf(tmp, NULL);
	close(fd);
	progress(spec, "selftests (" HH_SELFTEST_TARGETS ") installed in "
		 "%.1f s", (hh_now_ms() - t0) / 1000.0);
	return g_steal_pointer(&inst);
fail:
	hh_rm_rf(tmp, NULL);
	close(fd);
	return NULL;
}

static gboolean write_meta(HhImage *img, const char *source,
			   GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *path = g_build_filename(img->dir, "image.json", NULL);

	json_builder_begin_object(b);
	hh_json_set_string(b, "key", img->key);
	hh_json_set_string(b, "root", img->root);
	hh_json_set_string(b, "fstype", img->fstype);
	hh_json_set_string(b, "source", source);
	hh_json_set_string(b, "recipe", HH_IMAGE_RECIPE);
	json_builder_end_object(b);
	return hh_write_json(path, b, TRUE, error);
}

HhImage *hh_image_open(const char *path, GError **error)
{
	g_autoptr(HhImage) img = g_new0(HhImage, 1);
	g_autoptr(JsonParser) p = json_parser_new();
	g_autofree char *meta = NULL;
	JsonObject *o;

	img->path = g_canonicalize_filename(path, NULL);
	img->dir = g_path_get_dirname(img->path);
	meta = g_build_filename(img->dir, "image.json", NULL);
	if (!g_file_test(img->path, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, HH_ERROR, HH_ERROR_NOT_FOUND,
			    "image '%s' does not exist (make one with "
			    "'hotplug-harness image build' or 'image import')",
			    path);
		return NULL;
	}
	if (!json_parser_load_from_file(p, meta, error)) {
		g_prefix_error(error, "image '%s' was not made by 'image build' "
			       "or 'image import' (no readable %s): ", path,
			       meta);
		return NULL;
	}
	o = json_node_get_object(json_parser_get_root(p));
	if (!o || !json_object_has_member(o, "root")) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: no \"root\" member", meta);
		return NULL;
	}
	img->root = g_strdup(json_object_get_string_member(o, "root"));
	img->fstype = g_strdup(json_object_get_string_member_with_default(
		o, "fstype", "ext4"));
	img->key = g_strdup(json_object_get_string_member_with_default(
		o, "key", ""));
	img->cached = TRUE;
	return g_steal_pointer(&img);
}

/* Writes the payload into a directory tree (the fast path). */
static gboolean payload_to_tree(GPtrArray *payload, const char *root,
				GError **error)
{
	for (guint i = 0; i < payload->len; i++) {
		HhImageFile *f = payload->pdata[i];
		g_autofree char *dst = g_build_filename(root, f->path, NULL);
		g_autofree char *parent = g_path_get_dirname(dst);

		if (!hh_mkdir_p(parent, 0755, error))
			return FALSE;
		unlink(dst);
		if (f->link) {
			if (symlink(f->link, dst) < 0) {
				g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
					    "symlink %s: %s", dst,
					    g_strerror(errno));
				return FALSE;
			}
		} else if (f->tree) {
			const char *argv[] = { "cp", "-a", "--no-preserve=ownership",
					       f->tree, dst, NULL };

			hh_rm_rf(dst, NULL);
			if (!hh_run(argv, NULL, NULL, NULL, HH_SPAWN_CAPTURE,
				    NULL, error))
				return FALSE;
		} else {
			if (!g_file_set_contents(dst, f->data, (gssize)f->len,
						 error))
				return FALSE;
			if (chmod(dst, f->mode) < 0) {
				g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
					    "chmod %s: %s", dst,
					    g_strerror(errno));
				return FALSE;
			}
		}
	}
	return TRUE;
}

gboolean hh_image_overlay(const char *base, const char *path, GError **error)
{
	const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2",
			       "-b", base, "-F", "qcow2", path, NULL };

	return hh_run(argv, NULL, NULL, NULL, HH_SPAWN_CAPTURE, NULL, error);
}

static HhImage *cached_image(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "image.qcow2", NULL);

	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return NULL;
	return hh_image_open(path, NULL);
}

/* The cache directory of an image made from base (a tree's key, a file's
 * hash) and the payload, which *payload gets; *key its key. */
static char *image_dir(const HhImageSpec *spec, const char *recipe,
		       const char *base, gboolean root_fstab,
		       GPtrArray **payload, char **key, GError **error)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree char *selftests = install_selftests(spec, error);

	if (!selftests)
		return NULL;
	*payload = hh_image_payload(hh_agent_path(), selftests, root_fstab,
				    error);
	if (!*payload)
		return NULL;
	g_checksum_update(sum, (const guchar *)recipe, -1);
	g_checksum_update(sum, (const guchar *)"\n", -1);
	g_checksum_update(sum, (const guchar *)base, -1);
	if (!hash_payload(sum, *payload, error))
		return NULL;
	*key = g_strndup(g_checksum_get_string(sum), 16);
	return g_strdup_printf("%s/images/%s", hh_cache_dir(), *key);
}

/* The image in dir if it is there (*img), else dir locked for building
 * it (*fd, to close); FALSE on error. */
static gboolean lock_or_cached(const char *dir, int *fd, HhImage **img,
			       GError **error)
{
	g_autofree char *lock = g_build_filename(dir, "lock", NULL);

	*fd = -1;
	*img = cached_image(dir);
	if (*img)
		return TRUE;
	if (!hh_mkdir_p(dir, 0755, error))
		return FALSE;
	*fd = hh_lock_file(lock, error);
	if (*fd < 0)
		return FALSE;
	*img = cached_image(dir);	/* built while we waited */
	if (*img) {
		close(*fd);
		*fd = -1;
	}
	return TRUE;
}

HhImage *hh_image_build(const HhImageSpec *spec, GError **error)
{
	const char *suite = spec->suite ? spec->suite : HH_IMAGE_DEFAULT_SUITE;
	g_autofree char *packages = package_list(spec);
	g_autofree char *mirror = spec->mirror ? g_strdup(spec->mirror) :
						 machine_mirror(error);
	g_autofree char *tree_key = NULL, *tree = NULL, *key = NULL;
	g_autoptr(GPtrArray) payload = NULL;
	g_autoptr(HhImage) img = NULL;
	g_autofree char *dir = NULL, *stage = NULL, *raw = NULL;
	g_autofree char *tmp = NULL, *label = NULL, *qcow = NULL;
	gint64 t0 = hh_now_ms();
	int fd;

	if (!mirror)
		return NULL;
	tree = build_tree(spec, suite, packages, mirror, &tree_key, error);
	if (!tree)
		return NULL;
	dir = image_dir(spec, HH_IMAGE_RECIPE, tree_key, TRUE, &payload, &key,
			error);
	if (!dir || !lock_or_cached(dir, &fd, &img, error))
		return NULL;
	if (img) {
		img->seconds = (hh_now_ms() - t0) / 1000.0;
		return g_steal_pointer(&img);
	}
	stage = g_build_filename(dir, "stage", NULL);
	raw = g_build_filename(dir, "image.raw", NULL);
	tmp = g_build_filename(dir, "image.qcow2.tmp", NULL);
	qcow = g_build_filename(dir, "image.qcow2", NULL);
	hh_rm_rf(stage, NULL);
	progress(spec, "copying the tree and adding the agent, its unit and "
		 "the selftests");
	{
		const char *cp[] = { "cp", "-a", "--reflink=auto", tree, stage,
				     NULL };

		if (!hh_run(cp, NULL, NULL, NULL, HH_SPAWN_CAPTURE, NULL,
			    error) ||
		    !payload_to_tree(payload, stage, error))
			goto fail;
	}
	progress(spec, "making the filesystem (mke2fs -d) and the qcow2");
	{
		const char *mkfs[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-L",
				       "hhroot", "-d", stage, raw,
				       HH_IMAGE_FS_SIZE, NULL };
		const char *conv[] = { "qemu-img", "convert", "-O", "qcow2",
				       raw, tmp, NULL };

		unlink(raw);
		if (!hh_run(mkfs, NULL, NULL, NULL, HH_SPAWN_CAPTURE, NULL,
			    error) ||
		    !hh_run(conv, NULL, NULL, NULL, HH_SPAWN_CAPTURE, NULL,
			    error))
			goto fail;
	}
	hh_rm_rf(stage, NULL);
	unlink(raw);
	g_clear_pointer(&img, hh_image_free);
	img = g_new0(HhImage, 1);
	img->key = g_strdup(key);
	img->dir = g_strdup(dir);
	img->path = g_strdup(qcow);
	img->root = g_strdup("/dev/vda");
	img->fstype = g_strdup("ext4");
	label = g_strdup_printf("debootstrap %s (%s) from %s", suite, packages,
				mirror);
	if (!write_meta(img, label, error) || rename(tmp, qcow) < 0) {
		if (error && !*error)
			g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
				    "rename %s: %s", tmp, g_strerror(errno));
		goto fail;
	}
	close(fd);
	img->seconds = (hh_now_ms() - t0) / 1000.0;
	return g_steal_pointer(&img);
fail:
	hh_rm_rf(stage, NULL);
	unlink(raw);
	unlink(tmp);
	close(fd);
	return NULL;
}

/* ---- import (libguestfs) ---- */

static void gfs_error(GError **error, guestfs_h *g, const char *what)
{
	const char *msg = g ? guestfs_last_error(g) : NULL;

	g_set_error(error, HH_ERROR, HH_ERROR_BUILD, "libguestfs: %s: %s",
		    what, msg ? msg : "failed");
}

guestfs_h *hh_guestfs_open(GError **error)
{
	guestfs_h *g = guestfs_create_flags(GUESTFS_CREATE_NO_ENVIRONMENT);
	char *tcg[] = { (char *)"force_tcg", NULL };

	if (!g) {
		g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
			    "libguestfs: cannot create a handle");
		return NULL;
	}
	guestfs_set_error_handler(g, NULL, NULL);
	if (guestfs_parse_environment(g) < 0) {
		gfs_error(error, g, "environment");
		guestfs_close(g);
		return NULL;
	}
	if (!g_getenv("LIBGUESTFS_BACKEND_SETTINGS"))
		guestfs_set_backend_settings(g, tcg);
	return g;
}

static gboolean payload_to_guest(guestfs_h *g, GPtrArray *payload,
				 GError **error)
{
	for (guint i = 0; i < payload->len; i++) {
		HhImageFile *f = payload->pdata[i];
		g_autofree char *parent = g_path_get_dirname(f->path);

		if (guestfs_mkdir_p(g, parent) < 0) {
			gfs_error(error, g, parent);
			return FALSE;
		}
		if (f->link) {
			if (guestfs_ln_sf(g, f->link, f->path) < 0) {
				gfs_error(error, g, f->path);
				return FALSE;
			}
		} else if (f->tree) {
			/* tar_in reads a file: a pipe fed by tar */
			int p[2];
			g_autofree char *fdpath = NULL;
			const char *argv[] = { "tar", "-C", f->tree,
					       "--numeric-owner", "--owner=0",
					       "--group=0", "-cf", "/dev/fd/3", ".",
					       NULL };
			g_autoptr(HhChild) tar = NULL;
			int status = 0, rc;

			if (guestfs_mkdir_p(g, f->path) < 0 || pipe(p) < 0) {
				gfs_error(error, g, f->path);
				return FALSE;
			}
			tar = hh_child_spawn_with_fd(argv, NULL, NULL, NULL, 0,
						     p[1], 3, error);
			if (!tar) {
				close(p[0]);
				return FALSE;
			}
			fdpath = g_strdup_printf("/dev/fd/%d", p[0]);
			rc = guestfs_tar_in(g, fdpath, f->path);
			close(p[0]);
			if (!hh_child_wait(tar, 60000, &status, NULL) ||
			    rc < 0) {
				gfs_error(error, g, f->path);
				return FALSE;
			}
		} else {
			if (guestfs_write(g, f->path, f->data, f->len) < 0 ||
			    guestfs_chmod(g, (int)f->mode, f->path) < 0) {
				gfs_error(error, g, f->path);
				return FALSE;
			}
		}
	}
	return TRUE;
}

static gint by_length(gconstpointer a, gconstpointer b)
{
	return (gint)strlen(*(char *const *)a) - (gint)strlen(*(char *const *)b);
}

/* Inspects the guest, mounts its file systems and injects the payload;
 * *root gets the root device as the guest sees it. */
static gboolean inject(guestfs_h *g, GPtrArray *payload, char **root,
		       char **fstype, GError **error)
{
	char **roots = guestfs_inspect_os(g);
	char **mps = NULL;
	g_autoptr(GPtrArray) points = g_ptr_array_new();
	gboolean ok = FALSE;
	char *t = NULL;

	if (!roots || !roots[0]) {
		if (roots)
			g_set_error(error, HH_ERROR, HH_ERROR_BUILD,
				    "libguestfs found no operating system in "
				    "the image");
		else
			gfs_error(error, g, "inspect_os");
		goto out;
	}
	mps = guestfs_inspect_get_mountpoints(g, roots[0]);
	if (!mps) {
		gfs_error(error, g, "inspect_get_mountpoints");
		goto out;
	}
	for (guint i = 0; mps[i] && mps[i + 1]; i += 2)
		g_ptr_array_add(points, &mps[i]);
	g_ptr_array_sort(points, by_length);	/* "/" before "/boot" */
	for (guint i = 0; i < points->len; i++) {
		char **mp = points->pdata[i];

		if (guestfs_mount(g, mp[1], mp[0]) < 0) {
			gfs_error(error, g, mp[1]);
			goto out;
		}
	}
	if (!payload_to_guest(g, payload, error))
		goto out;
	/* /dev/sda1 in the appliance is /dev/vda1 in a cell */
	*root = g_str_has_prefix(roots[0], "/dev/sd") ?
		g_strdup_printf("/dev/vd%s", roots[0] + 7) : g_strdup(roots[0]);
	t = guestfs_vfs_type(g, roots[0]);
	*fstype = g_strdup(t ? t : "unknown");
	ok = guestfs_umount_all(g) == 0;
	if (!ok)
		gfs_error(error, g, "umount_all");
out:
	free(t);
	for (guint i = 0; roots && roots[i]; i++)
		free(roots[i]);
	free(roots);
	for (guint i = 0; mps && mps[i]; i++)
		free(mps[i]);
	free(mps);
	return ok;
}

HhImage *hh_image_import(const char *file, const HhImageSpec *spec,
			 GError **error)
{
	g_autofree char *abs = g_canonicalize_filename(file, NULL);
	g_autofree char *file_sum = NULL, *key = NULL, *dir = NULL;
	g_autofree char *tmp = NULL, *qcow = NULL;
	g_autofree char *root = NULL, *fstype = NULL;
	g_autoptr(GPtrArray) payload = NULL;
	g_autoptr(HhImage) img = NULL;
	guestfs_h *g = NULL;
	gint64 t0 = hh_now_ms();
	int fd;

	if (!g_file_test(abs, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, HH_ERROR, HH_ERROR_NOT_FOUND,
			    "image '%s' does not exist", file);
		return NULL;
	}
	progress(spec, "hashing %s", abs);
	file_sum = hh_sha256_file(abs, error);
	if (!file_sum)
		return NULL;
	dir = image_dir(spec, HH_IMAGE_RECIPE " import", file_sum, FALSE,
			&payload, &key, error);
	if (!dir || !lock_or_cached(dir, &fd, &img, error))
		return NULL;
	if (img) {
		img->seconds = (hh_now_ms() - t0) / 1000.0;
		return g_steal_pointer(&img);
	}
	tmp = g_build_filename(dir, "image.qcow2.tmp", NULL);
	qcow = g_build_filename(dir, "image.qcow2", NULL);
	progress(spec, "copying %s to %s", abs, qcow);
	{
		/* qemu-img detects the user's format; the copy is ours */
		const char *conv[] = { "qemu-img", "convert", "-O", "qcow2",
				       abs, tmp, NULL };

		if (!hh_run(conv, NULL, NULL, NULL, HH_SPAWN_CAPTURE, NULL,
			    error))
			goto fail;
	}
	progress(spec, "injecting the agent, its unit and the selftests "
		 "(libguestfs appliance under TCG: 15-50 s)");
	g = hh_guestfs_open(error);
	if (!g)
		goto fail;
	if (guestfs_add_drive_opts(g, tmp, GUESTFS_ADD_DRIVE_OPTS_FORMAT,
				   "qcow2", -1) < 0 ||
	    guestfs_launch(g) < 0) {
		gfs_error(error, g, "launch");
		goto fail;
	}
	if (!inject(g, payload, &root, &fstype, error))
		goto fail;
	if (guestfs_shutdown(g) < 0) {
		gfs_error(error, g, "shutdown");
		goto fail;
	}
	guestfs_close(g);
	g = NULL;
	if (!g_str_equal(fstype, "ext4"))
		progress(spec, "warning: the root filesystem is %s; harness "
			 "kernels have only ext4 built in (add its option to "
			 "configs/kernel/distro.config)", fstype);
	g_clear_pointer(&img, hh_image_free);
	img = g_new0(HhImage, 1);
	img->key = g_strdup(key);
	img->dir = g_strdup(dir);
	img->path = g_strdup(qcow);
	img->root = g_steal_pointer(&root);
	img->fstype = g_steal_pointer(&fstype);
	if (!write_meta(img, abs, error))
		goto fail;
	if (rename(tmp, qcow) < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_BUILD, "rename %s: %s",
			    tmp, g_strerror(errno));
		goto fail;
	}
	close(fd);
	img->seconds = (hh_now_ms() - t0) / 1000.0;
	return g_steal_pointer(&img);
fail:
	if (g)
		guestfs_close(g);
	unlink(tmp);
	close(fd);
	return NULL;
}

/* systemd units that cost a second or two under TCG and matter to no
 * hotplug test. */
static const char *const masked[] = {
	"modprobe@.service", "e2scrub_reap.service",
	"systemd-update-utmp.service", "systemd-update-utmp-runlevel.service",
	"systemd-random-seed.service", "systemd-sysusers.service", NULL,
};

char *hh_image_cmdline(const HhImage *img)
{
	GString *s = g_string_new(NULL);

	/* (no_timer_check is on every guest's command line: cell.h) */
	g_string_append_printf(s, "root=%s rw rootfstype=%s",
			       img->root, img->fstype ? img->fstype : "ext4");
	for (guint i = 0; masked[i]; i++)
		g_string_append_printf(s, " systemd.mask=%s", masked[i]);
	return g_string_free(s, FALSE);
}
