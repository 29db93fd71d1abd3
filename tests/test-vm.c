/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VM backend table: backends by name, "unsupported" for what a
 * backend lacks; result.json written and read back in one place. */
#include "hh-error.h"
#include "result.h"
#include "vm.h"
#include "vm-pool.h"
#include "logcheck.h"
#include "libvirt-save-image.h"
#include "kbuild.h"
#include "spawn.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct {
	HhVm parent;
	gboolean killed;
	char *machine;		/* the cfg's command line it was started with */
} FakeVm;

static HhVm *fake_start(HhVmBackend *b, const HhVmConfig *cfg,
			unsigned int flags, GError **error)
{
	return (HhVm *)g_new0(FakeVm, 1);
}

static gboolean fake_running(HhVm *vm)
{
	return !((FakeVm *)vm)->killed;
}

static gboolean fake_wait(HhVm *vm, guint t, unsigned int flags, GError **e)
{
	return TRUE;
}

static void fake_kill(HhVm *vm, unsigned int flags)
{
	((FakeVm *)vm)->killed = TRUE;
}

static void fake_free(HhVm *vm)
{
	g_free(((FakeVm *)vm)->machine);
	g_free(vm);
}

/* A backend that can only start, run and stop a guest. */
static const HhVmBackendOps fake_ops = {
	.name = "fake",
	.replay_file = "fake.txt",
	.transcript_file = "fake.log",
	.start = fake_start,
	.wait = fake_wait,
	.running = fake_running,
	.kill = fake_kill,
	.free_vm = fake_free,
};

static HhVm *fake_prestart(HhVmBackend *b, const HhVmConfig *cfg,
			    unsigned int flags, GError **error)
{
	FakeVm *vm = g_new0(FakeVm, 1);

	vm->parent.backend = b;
	vm->machine = g_strdup(cfg->cmdline);
	return &vm->parent;
}

static gboolean fake_adopt(HhVm *vm, const HhVmConfig *cfg, guint t,
			   unsigned int flags, GError **error)
{
	return TRUE;
}

static const HhVmBackendOps pool_ops = {
	.name = "fake-pool",
	.replay_file = "fake.txt",
	.transcript_file = "fake.log",
	.start = fake_start,
	.prestart = fake_prestart,
	.adopt = fake_adopt,
	.wait = fake_wait,
	.running = fake_running,
	.kill = fake_kill,
	.free_vm = fake_free,
};

/* The pool starts its guests on a thread of its own: wait for it. */
static void wait_started(HhVmPool *p, guint want)
{
	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	guint started, taken, wasted;

	do {
		hh_vm_pool_counts(p, &started, &taken, &wasted);
		if (started >= want)
			break;
		g_usleep(1000);
	} while (g_get_monotonic_time() < end);
	g_usleep(20000);	/* and nothing more than want */
	hh_vm_pool_counts(p, &started, &taken, &wasted);
	g_assert_cmpuint(started, ==, want);
}

static void take_expect(HhVmPool *p, const char *key, const char *machine)
{
	HhVm *vm = hh_vm_pool_take(p, key);

	if (!machine) {
		g_assert_null(vm);
		return;
	}
	g_assert_nonnull(vm);
	g_assert_cmpstr(((FakeVm *)vm)->machine, ==, machine);
	hh_vm_free(vm);
}

/* Guests for the next `depth` cells, in the order the cells come; none
 * for a group that is done; idle ones killed at the end. */
static void test_warm_pool_order(void)
{
	HhVmBackend b = { .ops = &pool_ops };
	HhVmConfig a = { .cmdline = "A" }, c = { .cmdline = "B" };
	HhVmPool *p = hh_vm_pool_new(&b, 2);
	guint started, taken, wasted;

	g_assert_nonnull(p);
	hh_vm_pool_expect(p, "a", &a, 3);
	hh_vm_pool_expect(p, "b", &c, 2);
	hh_vm_pool_fill(p);
	wait_started(p, 2);		/* for the next two: a, a */
	take_expect(p, "a", "A");	/* next two: a, a (one more a) */
	wait_started(p, 3);
	take_expect(p, "a", "A");	/* next two: a, b (a b) */
	wait_started(p, 4);
	take_expect(p, "a", "A");	/* next two: b, b (another b) */
	wait_started(p, 5);
	take_expect(p, "b", "B");
	take_expect(p, "b", "B");
	take_expect(p, "b", NULL);	/* none was expected */
	hh_vm_pool_counts(p, &started, &taken, &wasted);
	g_assert_cmpuint(taken, ==, 5);
	g_assert_cmpuint(wasted, ==, 0);
	hh_vm_pool_free(p);

	/* A cell of a group the pool was not told of gets nothing; the
	 * idle guest is killed with the pool. */
	p = hh_vm_pool_new(&b, 1);
	hh_vm_pool_expect(p, "a", &a, 2);
	hh_vm_pool_fill(p);
	wait_started(p, 1);
	take_expect(p, "b", NULL);	/* another group: nothing for it */
	hh_vm_pool_free(p);		/* the idle a is killed */

	/* A backend without prestart has no pool. */
	{
		HhVmBackend plain = { .ops = &fake_ops };

		g_assert_null(hh_vm_pool_new(&plain, 2));
	}
}

static void test_unsupported_operations(void)
{
	HhVmBackend b = { .ops = &fake_ops };
	HhVmConfig cfg = { 0 };
	g_autoptr(GError) err = NULL;
	HhVm *vm = hh_vm_start(&b, &cfg, &err);

	g_assert_no_error(err);
	g_assert_true(vm->backend == &b);
	g_assert_false(hh_vm_dimm_add(vm, "d1", 128 << 20, 1, 1000, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_assert_cmpstr(err->message, ==, "the fake backend cannot hot-add a DIMM");
	g_clear_error(&err);
	g_assert_false(hh_vm_vcpu_add(vm, "c1", 1, -1, 1000, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_clear_error(&err);
	g_assert_false(hh_vm_device_del(vm, "d1", 1000, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_clear_error(&err);
	g_assert_false(hh_vm_vcpu_del(vm, "c1", 1000, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_assert_cmpstr(err->message, ==, "the fake backend cannot hot-remove a vCPU");
	g_clear_error(&err);
	g_assert_false(hh_vm_virtio_mem_add(vm, "v1", 512 << 20, 1, 0, 1000,
					    &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_assert_cmpstr(err->message, ==,
			"the fake backend cannot hot-add a virtio-mem device");
	g_clear_error(&err);
	g_assert_false(hh_vm_virtio_mem_resize(vm, "v1", 128 << 20, 1000, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_clear_error(&err);
	{
		guint64 plugged, requested;

		g_assert_false(hh_vm_virtio_mem_query(vm, "v1", &plugged,
						      &requested, 1000, &err));
		g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
		g_clear_error(&err);
	}
	g_assert_null(hh_vm_dump_registers(vm, 1000, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_clear_error(&err);
	g_assert_false(hh_vm_save_state(vm, "/nonexistent", 1000, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_clear_error(&err);
	g_assert_null(hh_vm_identity(&b, &cfg, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_clear_error(&err);
	g_assert_null(hh_vm_open_port(vm, "x", &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_UNSUPPORTED);
	g_clear_error(&err);
	/* Optional reports are simply absent. */
	g_assert_null(hh_vm_describe(vm));
	g_assert_null(hh_vm_last_words(vm));
	g_assert_cmpuint(hh_vm_peak_rss_kb(vm), ==, 0);
	g_assert_true(hh_vm_running(vm));
	hh_vm_kill(vm);
	g_assert_false(hh_vm_running(vm));
	hh_vm_free(vm);
}

static void test_backends_by_name(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhVmBackend) q = hh_vm_backend_open("qemu", NULL, &err);

	g_assert_no_error(err);
	g_assert_cmpstr(q->ops->name, ==, "qemu");
	g_assert_true(hh_vm_backend_known("libvirt"));
	g_assert_false(hh_vm_backend_known("xen"));
	g_assert_null(hh_vm_backend_open("xen", NULL, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_USAGE);
	g_assert_nonnull(strstr(err->message, "qemu, libvirt"));
	g_clear_error(&err);
	g_assert_null(hh_vm_backend_open("qemu", "qemu:///system", &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_USAGE);
	g_clear_error(&err);
	/* A libvirt URI nothing listens on fails at once, naming it. */
	g_assert_null(hh_vm_backend_open("libvirt",
					 "qemu+unix:///system?socket=/nonexistent/sock",
					 &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_FAILED);
	g_assert_nonnull(strstr(err->message, "/nonexistent/sock"));
}

static void test_repeat_names(void)
{
	g_autofree char *one = hh_repeat_name("k/v/s", 1, 1);
	g_autofree char *two = hh_repeat_name("k/v/s", 2, 3);
	g_autofree char *b1 = hh_repeat_base("k/v/s~2");
	g_autofree char *b2 = hh_repeat_base("k/v/s~x");
	g_autofree char *b3 = hh_repeat_base("k/v/s~");

	g_assert_cmpstr(one, ==, "k/v/s");
	g_assert_cmpstr(two, ==, "k/v/s~2");
	g_assert_cmpstr(b1, ==, "k/v/s");
	g_assert_cmpstr(b2, ==, "k/v/s~x");
	g_assert_cmpstr(b3, ==, "k/v/s~");
}

static void test_result_round_trip(void)
{
	g_autofree char *dir = g_dir_make_tmp("hh-test-vm-XXXXXX", NULL);
	g_autofree char *cell = g_build_filename(dir, "k", "v", "s~2", NULL);
	g_autofree char *other = g_build_filename(dir, "k", "v", "s2", NULL);
	g_autoptr(HhCellResult) r = hh_cell_result_new();
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonParser) p = NULL;
	g_autoptr(GPtrArray) all = NULL;
	HhStepResult *st = g_new0(HhStepResult, 1);
	HhCrash *k = g_new0(HhCrash, 1);
	HhResultHeader h = {
		.cell = "k/v/s~2", .kernel = "k", .kernel_release = "6.1",
		.variant = "v", .scenario = "s", .accel = "tcg",
		.backend = "libvirt", .connect = "qemu:///system",
		.rerun = "hotplug-harness run --only 'k/v/s'",
	};
	JsonObject *o;

	g_assert_true(g_mkdir_with_parents(cell, 0755) == 0);
	g_assert_true(g_mkdir_with_parents(other, 0755) == 0);
	r->verdict = HH_V_CRASH;
	r->reason = g_strdup("kernel: WARNING in foo");
	st->line = 3;
	st->text = g_strdup("dimm-add d 128M");
	st->verdict = HH_V_PASS;
	g_ptr_array_add(r->steps, st);
	k->title = g_strdup("WARNING in foo");
	k->excerpt = g_strdup("...");
	k->count = 1;
	r->reports = g_ptr_array_new_with_free_func(hh_crash_free);
	g_ptr_array_add(r->reports, k);
	g_assert_true(hh_result_write(cell, &h, r, &err));
	g_assert_no_error(err);
	p = hh_result_load(cell, &o, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "crash");
	g_assert_cmpstr(json_object_get_string_member(o, "backend"), ==, "libvirt");
	g_assert_cmpstr(json_object_get_string_member(o, "connect"), ==,
			"qemu:///system");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
				 o, "crashes")), ==, 1);
	/* s~2 is a repeat of s; s2 is another cell. */
	all = hh_result_load_repeats(dir, "k/v/s");
	g_assert_cmpuint(all->len, ==, 1);
	g_assert_null(hh_result_load(other, NULL, &err));
	g_assert_nonnull(err);
	{
		g_autofree char *json = g_build_filename(cell, "result.json", NULL);

		g_remove(json);
	}
	g_rmdir(cell);
	g_rmdir(other);
}

static void put32(guint8 *at, guint32 v)
{
	v = GUINT32_TO_LE(v);
	memcpy(at, &v, 4);
}

/* A save image header as libvirt writes it: XML, cookie, zero padding. */
static guint8 *fake_image(gsize *len)
{
	static const char xml[] = "<domain><name>hh-snap-0123</name><uuid>"
		"11111111-2222-3333-4444-555555555555</uuid></domain>";
	static const char cookie[] = "<qemu-migration><name>hh-snap-0123"
		"</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
		"</qemu-migration>";
	gsize data_len = sizeof(xml) + sizeof(cookie) + 4096;
	guint8 *b = g_malloc0(HH_SAVE_IMAGE_HEADER + data_len);

	memcpy(b, "LibvirtQemudSave", 16);
	put32(b + 16, 2);
	put32(b + 20, (guint32)data_len);
	put32(b + 32, sizeof(xml));
	memcpy(b + HH_SAVE_IMAGE_HEADER, xml, sizeof(xml));
	memcpy(b + HH_SAVE_IMAGE_HEADER + sizeof(xml), cookie, sizeof(cookie));
	*len = HH_SAVE_IMAGE_HEADER + data_len;
	return b;
}

static void test_save_image_rename(void)
{
	gsize len;
	g_autofree guint8 *img = fake_image(&len);
	g_autofree guint8 *out = NULL;
	g_autoptr(GError) err = NULL;
	const char *name = "hh-20261130-101010-abcd-stock-numa2-node1-512m-boot";
	const char *uuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
	const char *xml, *cookie;
	guint32 off;

	g_assert_cmpuint(hh_save_image_header_size(img, len), ==, len);
	out = hh_save_image_rename(img, len, name, uuid, &err);
	g_assert_no_error(err);
	xml = (const char *)out + HH_SAVE_IMAGE_HEADER;
	g_assert_nonnull(strstr(xml, name));
	g_assert_nonnull(strstr(xml, uuid));
	g_assert_null(strstr(xml, "hh-snap-0123"));
	g_assert_null(strstr(xml, "11111111-"));
	memcpy(&off, out + 32, 4);
	off = GUINT32_FROM_LE(off);
	g_assert_cmpuint(off, ==, strlen(xml) + 1);
	cookie = xml + off;
	g_assert_true(g_str_has_prefix(cookie, "<qemu-migration>"));
	g_assert_nonnull(strstr(cookie, name));
	g_assert_nonnull(strstr(cookie, uuid));
	/* Header words other than the cookie offset are kept. */
	g_assert_cmpmem(out, 32, img, 32);
	/* Not an image; an image whose data_len runs past the end. */
	memcpy(img, "NotLibvirtSave!!", 16);
	g_assert_cmpuint(hh_save_image_header_size(img, len), ==, 0);
	g_assert_null(hh_save_image_rename(img, len, name, uuid, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_FAILED);
	g_clear_error(&err);
	memcpy(img, "LibvirtQemudSave", 16);
	g_assert_null(hh_save_image_rename(img, len - 1, name, uuid, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_FAILED);
}

/* How a dead QEMU is named in a verdict (fault catalogue item 1). */
static void test_wait_status_described(void)
{
	g_autofree char *killed = hh_wait_status_describe(9);	/* SIGKILL */
	g_autofree char *exited = hh_wait_status_describe(3 << 8);

	g_assert_cmpstr(killed, ==, "killed by signal 9 (SIGKILL)");
	g_assert_cmpstr(exited, ==, "exited with status 3");
}

/* A bzImage shorter than its boot header says is damaged (item 10). */
static void test_bzimage_damage(void)
{
	g_autofree char *dir = g_dir_make_tmp("hh-test-bz-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "bzImage", NULL);
	g_autofree guint8 *img = g_malloc0(8192);
	g_autofree char *whole = NULL, *cut = NULL, *junk = NULL;

	img[0x1f1] = 3;				/* setup_sects: 4 * 512 */
	img[0x1f4] = 0x40;			/* syssize: 64 * 16 */
	memcpy(img + 0x202, "HdrS", 4);
	g_assert_true(g_file_set_contents(path, (char *)img, 4 * 512 + 1024, NULL));
	whole = hh_bzimage_damage(path);
	g_assert_null(whole);
	g_assert_true(g_file_set_contents(path, (char *)img, 3000, NULL));
	cut = hh_bzimage_damage(path);
	g_assert_cmpstr(cut, ==, "truncated: 3000 of 3072 bytes");
	memset(img + 0x202, 0, 4);
	g_assert_true(g_file_set_contents(path, (char *)img, 4096, NULL));
	junk = hh_bzimage_damage(path);
	g_assert_nonnull(strstr(junk, "no x86 boot header"));
	g_unlink(path);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vm/unsupported-operations-say-so", test_unsupported_operations);
	g_test_add_func("/vm/backends-by-name", test_backends_by_name);
	g_test_add_func("/vm/warm-pool-order", test_warm_pool_order);
	g_test_add_func("/result/repeat-names", test_repeat_names);
	g_test_add_func("/libvirt/save-image-renamed", test_save_image_rename);
	g_test_add_func("/result/written-and-read-in-one-place", test_result_round_trip);
	g_test_add_func("/spawn/wait-status-described", test_wait_status_described);
	g_test_add_func("/kbuild/bzimage-damage", test_bzimage_damage);
	return g_test_run();
}
