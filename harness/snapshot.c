/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "snapshot.h"
#include "agent-client.h"
#include "hh-error.h"
#include "image.h"
#include "paths.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sys/file.h>
#include <unistd.h>

#define SNAPSHOT_RECIPE "hh-snapshot-1"
#define SETTLE_QUIET_MS 300	/* no new kernel message for this long */
#define SETTLE_MAX_MS 5000
#define SAVE_TIMEOUT_MS 60000

void hh_snapshot_free(HhSnapshot *s)
{
	if (!s)
		return;
	g_free(s->key);
	g_free(s->label);
	g_free(s->dir);
	g_free(s->state);
	g_free(s->boot_id);
	g_free(s->disk);
	if (s->records)
		g_ptr_array_unref(s->records);
	g_free(s);
}

/* A distro image lives in the cache under its content key, and is never
 * written: its path, size and time say which it is (hashing 200 MB for
 * every cell would not). */
static char *image_identity(const char *image, GError **error)
{
	GStatBuf st;

	if (g_stat(image, &st) < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED, "image %s: %s",
			    image, g_strerror(errno));
		return NULL;
	}
	return g_strdup_printf("image %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
			       image, (gint64)st.st_size, (gint64)st.st_mtime);
}

char *hh_snapshot_key(HhVmBackend *backend, const HhVmConfig *cfg,
		      GError **error)
{
	g_autofree char *identity = hh_vm_identity(backend, cfg, error);
	g_autofree char *kernel = identity ? hh_sha256_file(cfg->kernel, error) :
					     NULL;
	g_autofree char *initrd = !kernel ? NULL :
		cfg->image ? image_identity(cfg->image, error) :
			     hh_sha256_file(cfg->initrd, error);
	g_autofree char *all = NULL;

	if (!initrd)
		return NULL;
	all = g_strdup_printf(SNAPSHOT_RECIPE "\n%s\n%s\n%s\n", kernel, initrd,
			      identity);
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, all, -1);
}

static HhSnapshot *new_snapshot(const char *key)
{
	HhSnapshot *s = g_new0(HhSnapshot, 1);

	s->key = g_strdup(key);
	s->dir = g_strdup_printf("%s/snapshots/%.16s", hh_cache_dir(), key);
	s->state = g_build_filename(s->dir, "state", NULL);
	s->disk = g_build_filename(s->dir, "disk.qcow2", NULL);
	s->records = g_ptr_array_new_with_free_func(hh_kmsg_record_free);
	return s;
}

static gboolean write_meta(HhSnapshot *s, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *path = g_build_filename(s->dir, "meta.json", NULL);

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "key");
	json_builder_add_string_value(b, s->key);
	json_builder_set_member_name(b, "label");
	json_builder_add_string_value(b, s->label);
	json_builder_set_member_name(b, "boot_id");
	json_builder_add_string_value(b, s->boot_id);
	json_builder_set_member_name(b, "last_seq");
	json_builder_add_int_value(b, (gint64)s->last_seq);
	json_builder_set_member_name(b, "boot_ms");
	json_builder_add_int_value(b, s->boot_ms);
	json_builder_set_member_name(b, "save_ms");
	json_builder_add_int_value(b, s->save_ms);
	json_builder_set_member_name(b, "state_bytes");
	json_builder_add_int_value(b, (gint64)s->state_bytes);
	json_builder_set_member_name(b, "ram_files");
	json_builder_add_boolean_value(b, s->ram_files);
	json_builder_set_member_name(b, "log");
	json_builder_begin_array(b);
	for (guint i = 0; i < s->records->len; i++) {
		const HhKmsgRecord *r = s->records->pdata[i];

		json_builder_begin_array(b);
		json_builder_add_int_value(b, (gint64)r->seq);
		json_builder_add_int_value(b, (gint64)r->ts_usec);
		json_builder_add_int_value(b, r->level);
		json_builder_add_string_value(b, r->text);
		json_builder_end_array(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	return hh_write_json(path, b, FALSE, error);
}

/* The RAM files of a snapshot: ram, ram-node0, ... */
static gboolean is_ram_file(const char *name)
{
	return g_str_equal(name, "ram") || g_str_has_prefix(name, "ram-node");
}

/* Bytes the RAM files take on disk (they are sparse). */
static guint64 ram_usage(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint64 total = 0;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		GStatBuf st;

		if (is_ram_file(name) && g_stat(path, &st) == 0)
			total += (guint64)st.st_blocks * 512;
	}
	return total;
}

static void remove_ram_files(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (is_ram_file(name))
			g_unlink(path);
	}
}

static HhSnapshot *load(const char *key)
{
	g_autoptr(HhSnapshot) s = new_snapshot(key);
	g_autofree char *path = g_build_filename(s->dir, "meta.json", NULL);
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *o;
	JsonArray *log;
	GStatBuf st;

	if (g_stat(s->state, &st) < 0 ||
	    !json_parser_load_from_file(parser, path, NULL))
		return NULL;
	o = json_node_get_object(json_parser_get_root(parser));
	if (!o || !json_object_has_member(o, "log"))
		return NULL;
	s->boot_id = g_strdup(json_object_get_string_member_with_default(
		o, "boot_id", ""));
	s->last_seq = json_object_get_int_member_with_default(o, "last_seq", 0);
	s->boot_ms = json_object_get_int_member_with_default(o, "boot_ms", 0);
	s->save_ms = json_object_get_int_member_with_default(o, "save_ms", 0);
	s->state_bytes = st.st_size;
	s->ram_files = json_object_get_boolean_member_with_default(
		o, "ram_files", FALSE);
	s->ram_bytes = s->ram_files ? ram_usage(s->dir) : 0;
	log = json_object_get_array_member(o, "log");
	for (guint i = 0; log && i < json_array_get_length(log); i++) {
		JsonArray *a = json_array_get_array_element(log, i);
		HhKmsgRecord *r;

		if (!a || json_array_get_length(a) != 4)
			return NULL;
		r = g_new0(HhKmsgRecord, 1);
		r->seq = json_array_get_int_element(a, 0);
		r->ts_usec = json_array_get_int_element(a, 1);
		r->level = json_array_get_int_element(a, 2);
		r->text = g_strdup(json_array_get_string_element(a, 3));
		g_ptr_array_add(s->records, r);
	}
	return g_steal_pointer(&s);
}

/* Waits until no kernel message arrived for SETTLE_QUIET_MS. */
static void settle(HhAgent *agent)
{
	gint64 end = hh_now_ms() + SETTLE_MAX_MS;
	gint64 quiet_since = hh_now_ms();
	guint seen = hh_agent_log_len(agent);

	while (hh_now_ms() < end && !hh_agent_get_error(agent)) {
		hh_iterate_once(50);
		if (hh_agent_log_len(agent) != seen) {
			seen = hh_agent_log_len(agent);
			quiet_since = hh_now_ms();
		} else if (hh_now_ms() - quiet_since >= SETTLE_QUIET_MS) {
			return;
		}
	}
}

static gboolean create(HhSnapshot *s, HhVmBackend *backend,
		       const HhVmConfig *tmpl, guint boot_timeout_ms,
		       GError **error)
{
	g_autofree char *run_dir = g_dir_make_tmp("hh-snap-XXXXXX", error);
	g_autofree char *console = g_build_filename(s->dir, "console.log", NULL);
	g_autofree char *qlog = g_build_filename(s->dir, "qemu.log", NULL);
	g_autofree char *alog = g_build_filename(s->dir, "agent.log", NULL);
	g_autofree char *klog = g_build_filename(s->dir, "kmsg.log", NULL);
	g_autofree char *tmp = g_strdup_printf("%s.tmp", s->state);
	g_autoptr(HhVm) vm = NULL;
	g_autoptr(HhAgent) agent = NULL;
	g_autoptr(HhAgentReply) id = NULL;
	GIOStream *ctl = NULL, *log = NULL;
	g_autofree char *transcript = g_build_filename(
		s->dir, backend->ops->transcript_file, NULL);
	g_autofree char *name = g_strdup_printf("hh-snap-%.12s", s->key);
	HhVmConfig cfg = *tmpl;
	gint64 t0 = hh_now_ms();
	gboolean ok = FALSE;
	GStatBuf st;

	if (!run_dir)
		return FALSE;
	if (cfg.image) {
		g_unlink(s->disk);
		if (!hh_image_overlay(cfg.image, s->disk, error))
			goto out;
		cfg.disk = s->disk;
	}
	cfg.run_dir = run_dir;
	cfg.console_log = console;
	cfg.stderr_log = qlog;
	cfg.transcript = transcript;
	cfg.name = name;
	cfg.restore_from = NULL;
	/* RAM in fresh files of the snapshot (never an old attempt's). */
	remove_ram_files(s->dir);
	s->ram_files = backend->ops->ram_files;
	cfg.ram_dir = s->ram_files ? s->dir : NULL;
	vm = hh_vm_start(backend, &cfg, error);
	if (!vm)
		goto out;
	ctl = hh_vm_open_port(vm, HHP_PORT_CONTROL, error);
	log = ctl ? hh_vm_open_port(vm, HHP_PORT_LOG, error) : NULL;
	if (!log)
		goto out;
	agent = hh_agent_new(ctl, log, alog, klog);
	if (!hh_agent_sync(agent, boot_timeout_ms, error))
		goto out;
	s->boot_ms = (guint)(hh_now_ms() - t0);
	settle(agent);
	id = hh_agent_read(agent, "/proc/sys/kernel/random/boot_id", 10000,
			   error);
	if (!id)
		goto out;
	s->boot_id = g_strstrip(g_strndup(g_bytes_get_data(id->data, NULL),
					  g_bytes_get_size(id->data)));
	for (guint i = 0; i < hh_agent_log_len(agent); i++) {
		HhKmsgRecord *r = hh_kmsg_record_copy(hh_agent_log_get(agent, i));

		s->last_seq = MAX(s->last_seq, r->seq);
		g_ptr_array_add(s->records, r);
	}
	t0 = hh_now_ms();
	ok = hh_vm_save_state(vm, tmp, SAVE_TIMEOUT_MS, error);
	s->save_ms = (guint)(hh_now_ms() - t0);
	if (ok && (g_stat(tmp, &st) < 0 || st.st_size == 0)) {
		g_set_error(error, HH_ERROR, HH_ERROR_QEMU,
			    "saving the VM state left an empty file");
		ok = FALSE;
	}
	if (ok) {
		s->state_bytes = st.st_size;
		s->ram_bytes = s->ram_files ? ram_usage(s->dir) : 0;
		ok = write_meta(s, error) && g_rename(tmp, s->state) == 0;
	}
out:
	g_clear_object(&ctl);
	g_clear_object(&log);
	g_clear_pointer(&agent, hh_agent_free);
	if (vm)
		hh_vm_kill(vm);
	g_unlink(tmp);
	if (!ok) {
		remove_ram_files(s->dir);
		g_unlink(s->disk);
	}
	hh_rm_rf(run_dir, NULL);
	if (!ok && error && *error)
		g_prefix_error(error, "snapshot boot: ");
	return ok;
}

HhSnapshot *hh_snapshot_get(HhVmBackend *backend, const HhVmConfig *cfg,
			    const char *key, const char *label,
			    guint boot_timeout_ms, GError **error)
{
	g_autoptr(HhSnapshot) s = load(key);
	g_autoptr(GMainContext) ctx = NULL;
	g_autofree char *lock = NULL;
	gboolean ok;
	int fd;

	if (s)
		return g_steal_pointer(&s);
	s = new_snapshot(key);
	if (!hh_mkdir_p(s->dir, 0755, error))
		return NULL;
	/* One process makes it; another waiting for the lock then loads it. */
	lock = g_build_filename(s->dir, "lock", NULL);
	fd = hh_lock_file(lock, error);
	if (fd < 0)
		return NULL;
	hh_snapshot_free(g_steal_pointer(&s));
	s = load(key);
	if (s) {
		close(fd);
		return g_steal_pointer(&s);
	}
	s = new_snapshot(key);
	s->label = g_strdup(label);
	ctx = g_main_context_new();
	g_main_context_push_thread_default(ctx);
	ok = create(s, backend, cfg, boot_timeout_ms, error);
	g_main_context_pop_thread_default(ctx);
	close(fd);
	if (!ok)
		return NULL;
	s->created = TRUE;
	return g_steal_pointer(&s);
}

void hh_snapshot_discard(HhSnapshot *s)
{
	g_autofree char *meta = g_build_filename(s->dir, "meta.json", NULL);

	g_unlink(meta);
	g_unlink(s->state);
	remove_ram_files(s->dir);
}
