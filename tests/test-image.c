/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Distro images without booting: the mirror from apt's sources, what the
 * payload puts in, the command line and the QEMU arguments of an image
 * cell, the opt-in kernel fragment, rootfs= in variants. */
#include "hh-error.h"
#include "image.h"
#include "kbuild.h"
#include "paths.h"
#include "util.h"
#include "variant.h"
#include "vm.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static void test_mirror_from_sources(void)
{
	g_autofree char *deb822 = hh_image_mirror_from_sources(
		"Types: deb\n"
		"# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
		"URIs: http://deb.debian.org/debian\n"
		"Suites: bookworm bookworm-updates\n\n"
		"Types: deb\nURIs: http://deb.debian.org/debian-security\n");
	g_autofree char *security_first = hh_image_mirror_from_sources(
		"URIs: http://deb.debian.org/debian-security\n"
		"URIs: https://mirror.example/debian\n");
	g_autofree char *list = hh_image_mirror_from_sources(
		"# deb http://old.example/debian bookworm main\n"
		"deb-src http://src.example/debian bookworm main\n"
		"deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian "
		"bookworm main\n");
	g_autofree char *none = hh_image_mirror_from_sources(
		"deb cdrom:[Debian]/ bookworm main\n");

	g_assert_cmpstr(deb822, ==, "http://deb.debian.org/debian");
	g_assert_cmpstr(security_first, ==, "https://mirror.example/debian");
	g_assert_cmpstr(list, ==, "http://m.example/debian");
	g_assert_null(none);
	g_assert_null(hh_image_mirror_from_sources(NULL));
}

static HhImageFile *find(GPtrArray *payload, const char *path)
{
	for (guint i = 0; i < payload->len; i++) {
		HhImageFile *f = payload->pdata[i];

		if (g_str_equal(f->path, path))
			return f;
	}
	return NULL;
}

static void test_payload(void)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = g_dir_make_tmp("hh-test-image-XXXXXX", NULL);
	g_autofree char *agent = g_build_filename(dir, "agent", NULL);
	g_autoptr(GPtrArray) p = NULL, q = NULL;
	HhImageFile *f;
	const char *unit_sec, *svc_sec;

	g_assert_true(g_file_set_contents(agent, "\177ELF...", -1, NULL));
	p = hh_image_payload(agent, "/some/selftests", TRUE, &err);
	g_assert_no_error(err);
	f = find(p, HH_IMAGE_AGENT);
	g_assert_nonnull(f);
	g_assert_cmpuint(f->mode, ==, 0755);
	g_assert_cmpuint(f->len, ==, 7);
	/* systemd ignores SuccessAction= in [Service]: the guest would
	 * never power off. */
	f = find(p, "/etc/systemd/system/hh-agent.service");
	g_assert_nonnull(f);
	unit_sec = strstr(f->data, "[Unit]");
	svc_sec = strstr(f->data, "[Service]");
	g_assert_true(unit_sec && svc_sec);
	g_assert_true(strstr(f->data, "SuccessAction=poweroff-force") < svc_sec);
	g_assert_true(strstr(f->data, "FailureAction=poweroff-force") < svc_sec);
	g_assert_nonnull(strstr(f->data, "ExecStart=" HH_IMAGE_AGENT " --system"));
	f = find(p, "/etc/systemd/system/multi-user.target.wants/hh-agent.service");
	g_assert_cmpstr(f->link, ==, "../hh-agent.service");
	f = find(p, "/etc/systemd/system/getty.target");
	g_assert_cmpstr(f->link, ==, "/dev/null");
	f = find(p, "/etc/udev/rules.d/80-hh-memory-online.rules");
	g_assert_nonnull(strstr(f->data, "SUBSYSTEM==\"memory\", ACTION==\"add\""));
	g_assert_nonnull(strstr(f->data, "ATTR{state}=\"online\""));
	f = find(p, "/etc/systemd/journald.conf.d/hh.conf");
	g_assert_nonnull(strstr(f->data, "SyncIntervalSec=1s"));
	f = find(p, HH_IMAGE_SELFTESTS);
	g_assert_cmpstr(f->tree, ==, "/some/selftests");
	g_assert_nonnull(strstr(find(p, "/etc/fstab")->data, "/dev/vda / ext4"));
	/* imported images keep their own fstab */
	q = hh_image_payload(agent, NULL, FALSE, &err);
	g_assert_no_error(err);
	g_assert_null(find(q, "/etc/fstab"));
	g_assert_null(find(q, HH_IMAGE_SELFTESTS));
	g_clear_pointer(&q, g_ptr_array_unref);
	q = hh_image_payload("/nonexistent/agent", NULL, FALSE, &err);
	g_assert_null(q);
	g_assert_nonnull(strstr(err->message, "the agent: "));
	hh_rm_rf(dir, NULL);
}

static void test_open_and_cmdline(void)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = g_dir_make_tmp("hh-test-image-XXXXXX", NULL);
	g_autofree char *qcow = g_build_filename(dir, "image.qcow2", NULL);
	g_autofree char *meta = g_build_filename(dir, "image.json", NULL);
	g_autofree char *cmdline = NULL;
	g_autoptr(HhImage) img = hh_image_open(qcow, &err);

	g_assert_null(img);
	g_assert_error(err, HH_ERROR, HH_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(err->message, "image build"));
	g_clear_error(&err);
	g_assert_true(g_file_set_contents(qcow, "QFI\373", -1, NULL));
	img = hh_image_open(qcow, &err);
	g_assert_null(img);
	g_assert_nonnull(strstr(err->message, "image.json"));
	g_clear_error(&err);
	g_assert_true(g_file_set_contents(meta,
		"{\"key\": \"k\", \"root\": \"/dev/vda1\", \"fstype\": \"ext4\"}",
		-1, NULL));
	img = hh_image_open(qcow, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(img->root, ==, "/dev/vda1");
	cmdline = hh_image_cmdline(img);
	g_assert_true(g_str_has_prefix(cmdline,
				       "root=/dev/vda1 rw rootfstype=ext4 "));
	g_assert_nonnull(strstr(cmdline, "systemd.mask=modprobe@.service"));
	hh_rm_rf(dir, NULL);
}

/* An image cell's QEMU: no -initrd, the VM's overlay as virtio-blk, the
 * overlay's path left out of the identity (a snapshot's key). */
static void test_qemu_arguments(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhVmBackend) q = hh_vm_backend_open("qemu", NULL, &err);
	g_autoptr(HhVariant) v = hh_variant_parse(
		"[variant]\nmemory=1G\nrootfs=debian\n", "v.variant", &err);
	HhVmConfig cfg = { .kernel = "/k/bzImage", .image = "/c/image.qcow2",
			   .disk = "/run/x/disk.qcow2", .cmdline = "root=/dev/vda",
			   .variant = v, .accel = HH_ACCEL_TCG,
			   .console_log = "/run/x/console.log", .run_dir = "/run/x" };
	g_autofree char *id = NULL, *id2 = NULL;

	g_assert_no_error(err);
	g_assert_cmpstr(v->rootfs, ==, "debian");
	id = hh_vm_identity(q, &cfg, &err);
	g_assert_no_error(err);
	g_assert_null(strstr(id, "-initrd"));
	g_assert_nonnull(strstr(id, "file=@disk,if=virtio,format=qcow2"));
	cfg.disk = "/run/y/disk.qcow2";
	id2 = hh_vm_identity(q, &cfg, &err);
	g_assert_cmpstr(id, ==, id2);
}

static void test_variant_rootfs(void)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(HhVariant) a = hh_variant_parse("[variant]\nmemory=1G\n",
						  "a.variant", &err);
	g_autoptr(HhVariant) b = hh_variant_parse(
		"[variant]\nmemory=1G\nrootfs=images/cloud.qcow2\n", "b.variant",
		&err);
	g_autoptr(HhVariant) c = hh_variant_parse(
		"[variant]\nmemory=1G\nrootfs=ubuntu\n", "c.variant", &err);

	g_assert_null(a->rootfs);
	g_assert_cmpstr(b->rootfs, ==, "images/cloud.qcow2");
	g_assert_null(c);
	g_assert_cmpstr(err->message, ==,
			"c.variant: rootfs is 'ubuntu', expected debian or the "
			"path of an image made by 'hotplug-harness image build' "
			"or 'image import' (with a /)");
}

/* distro.config is merged only for kernels that boot images. */
static void test_distro_fragment_opt_in(void)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "..", "configs",
						     "kernel", NULL);
	g_autoptr(GPtrArray) f = hh_kernel_fragments(dir, NULL, 0, &err);
	g_autofree char *distro = g_build_filename(dir, HH_DISTRO_FRAGMENT,
						   NULL);

	g_assert_no_error(err);
	g_assert_true(g_file_test(distro, G_FILE_TEST_IS_REGULAR));
	for (guint i = 0; i < f->len; i++)
		g_assert_false(g_str_has_suffix(f->pdata[i], "/" HH_DISTRO_FRAGMENT));
	g_assert_cmpuint(f->len, >=, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	hh_paths_init();
	g_test_add_func("/image/mirror-from-apt-sources", test_mirror_from_sources);
	g_test_add_func("/image/payload", test_payload);
	g_test_add_func("/image/open-and-cmdline", test_open_and_cmdline);
	g_test_add_func("/image/qemu-arguments", test_qemu_arguments);
	g_test_add_func("/image/variant-rootfs", test_variant_rootfs);
	g_test_add_func("/image/distro-fragment-opt-in", test_distro_fragment_opt_in);
	return g_test_run();
}
