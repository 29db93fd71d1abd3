/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "vm.h"
#include "hh-error.h"
#include "paths.h"
#include "spawn.h"
#include "util.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

gboolean hh_accel_parse(const char *text, HhAccel *out, GError **error)
{
	if (g_str_equal(text, "auto"))
		*out = HH_ACCEL_AUTO;
	else if (g_str_equal(text, "tcg"))
		*out = HH_ACCEL_TCG;
	else if (g_str_equal(text, "kvm"))
		*out = HH_ACCEL_KVM;
	else {
		g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
			    "--accel '%s': expected kvm, tcg or auto", text);
		return FALSE;
	}
	return TRUE;
}

HhVm *hh_vm_start(const HhVmBackend *backend, const HhVmConfig *cfg,
		  GError **error)
{
	HhVm *vm = backend->start(cfg, 0, error);

	if (vm)
		vm->backend = backend;
	return vm;
}

void hh_vm_free(HhVm *vm)
{
	if (vm)
		vm->backend->free(vm);
}

/* Boots the kernel under KVM and waits for its first console line. */
static gboolean kvm_boots(const char *kernel, char **why)
{
	g_autofree char *dir = g_dir_make_tmp("hh-kvm-XXXXXX", NULL);
	g_autofree char *log = NULL, *serial = NULL, *text = NULL;
	g_autoptr(HhChild) child = NULL;
	gint64 deadline = hh_now_ms() + 10000;
	gboolean ok = FALSE;

	if (!dir) {
		*why = g_strdup("cannot create a temporary directory");
		return FALSE;
	}
	log = g_build_filename(dir, "qemu.log", NULL);
	serial = g_strdup_printf("file:%s/serial.log", dir);
	{
		const char *argv[] = {
			hh_qemu_path(), "-accel", "kvm", "-machine", "pc",
			"-m", "256M", "-nodefaults", "-display", "none",
			"-no-reboot", "-kernel", kernel, "-append",
			"console=ttyS0 panic=-1", "-serial", serial, NULL,
		};
		child = hh_child_spawn(argv, NULL, NULL, log, HH_SPAWN_NONE,
				       NULL);
	}
	while (child && hh_now_ms() < deadline) {
		g_autofree char *path = g_build_filename(dir, "serial.log",
							 NULL);

		g_clear_pointer(&text, g_free);
		if (g_file_get_contents(path, &text, NULL, NULL) &&
		    strstr(text, "Linux version")) {
			ok = TRUE;
			break;
		}
		if (!g_subprocess_get_identifier(child->proc))
			break;
		g_usleep(100 * 1000);
	}
	if (!ok) {
		g_autofree char *err = NULL;

		g_file_get_contents(log, &err, NULL, NULL);
		*why = err && *err ?
			g_strdup_printf("no kernel output within 10 s; qemu "
					"said: %s",
					g_strstrip(g_strdelimit(err, "\n", ' '))) :
			g_strdup("no kernel output within 10 s");
	}
	g_clear_pointer(&child, hh_child_free);
	hh_rm_rf(dir, NULL);
	return ok;
}

/* The probe's verdict is kept until the host reboots (or QEMU changes). */
static char *verdict_path(void)
{
	g_autofree char *boot_id = NULL;
	g_autofree char *qemu = g_find_program_in_path(hh_qemu_path());
	GStatBuf st = { 0 };
	g_autofree char *key = NULL, *sum = NULL;

	if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot_id,
				 NULL, NULL))
		return NULL;
	if (qemu)
		g_stat(qemu, &st);
	key = g_strdup_printf("%s:%s:%lld", g_strstrip(boot_id),
			      qemu ? qemu : "", (long long)st.st_mtime);
	sum = g_compute_checksum_for_string(G_CHECKSUM_SHA1, key, -1);
	return g_strdup_printf("%s/accel-%.16s", hh_cache_dir(), sum);
}

HhAccel hh_accel_resolve(HhAccel requested, const char *kernel)
{
	static GMutex lock;
	static int decided = -1;
	g_autofree char *why = NULL, *memo = NULL, *saved = NULL;

	if (requested != HH_ACCEL_AUTO)
		return requested;
	g_mutex_lock(&lock);
	memo = verdict_path();
	if (decided < 0 && memo &&
	    g_file_get_contents(memo, &saved, NULL, NULL)) {
		decided = g_str_has_prefix(saved, "kvm") ? HH_ACCEL_KVM :
							   HH_ACCEL_TCG;
		why = g_strdup(saved + 4);
	}
	if (decided < 0) {
		if (access("/dev/kvm", R_OK | W_OK) < 0) {
			decided = HH_ACCEL_TCG;
			why = g_strdup("no usable /dev/kvm");
		} else if (kvm_boots(kernel, &why)) {
			decided = HH_ACCEL_KVM;
		} else {
			decided = HH_ACCEL_TCG;
		}
		if (memo) {
			g_autofree char *text = g_strdup_printf(
				"%s %s", decided == HH_ACCEL_KVM ? "kvm" : "tcg",
				why ? why : "");
			g_autofree char *dir = g_path_get_dirname(memo);

			if (hh_mkdir_p(dir, 0755, NULL))
				hh_write_file(memo, text, -1, NULL);
		}
	}
	if (decided == HH_ACCEL_TCG && why && access("/dev/kvm", F_OK) == 0)
		fprintf(stderr,
			"accel: /dev/kvm is present but a KVM guest does not "
			"boot here (%s); using TCG\n",
			why);
	g_mutex_unlock(&lock);
	return decided;
}
