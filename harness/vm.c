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

#define UNSUPPORTED(b, what)                                                   \
	g_set_error(error, HH_ERROR, HH_ERROR_UNSUPPORTED,                     \
		    "the %s backend cannot %s", (b)->ops->name, what)

static const struct {
	const char *name;
	const HhVmBackendOps *ops;
} backends[] = {
	{ "qemu", &hh_vm_backend_qemu },
	{ "libvirt",
#ifdef HAVE_LIBVIRT
	  &hh_vm_backend_libvirt
#else
	  NULL
#endif
	},
};

const char *hh_vm_backend_names(void)
{
	return "qemu, libvirt";
}

gboolean hh_vm_backend_known(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(backends); i++) {
		if (g_str_equal(name, backends[i].name))
			return TRUE;
	}
	return FALSE;
}

HhVmBackend *hh_vm_backend_open(const char *name, const char *uri,
				GError **error)
{
	HhVmBackend *b;

	for (gsize i = 0; i < G_N_ELEMENTS(backends); i++) {
		if (!g_str_equal(name, backends[i].name))
			continue;
		if (!backends[i].ops) {
			g_set_error(error, HH_ERROR, HH_ERROR_UNSUPPORTED,
				    "backend '%s' was not built in (install "
				    "libvirt-dev and run ./configure again)",
				    name);
			return NULL;
		}
#ifdef HAVE_LIBVIRT
		if (backends[i].ops == &hh_vm_backend_libvirt)
			return hh_vm_backend_libvirt_open(uri, error);
#endif
		if (uri) {
			g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
				    "--connect '%s': the %s backend takes no "
				    "URI", uri, name);
			return NULL;
		}
		b = g_new0(HhVmBackend, 1);
		b->ops = backends[i].ops;
		return b;
	}
	g_set_error(error, HH_ERROR, HH_ERROR_USAGE,
		    "backend '%s': expected one of %s", name,
		    hh_vm_backend_names());
	return NULL;
}

void hh_vm_backend_close(HhVmBackend *b)
{
	if (!b)
		return;
	if (b->ops->close) {
		b->ops->close(b);
		return;
	}
	g_free(b->uri);
	g_free(b);
}

HhVm *hh_vm_start(HhVmBackend *b, const HhVmConfig *cfg, GError **error)
{
	HhVm *vm = b->ops->start(b, cfg, 0, error);

	if (vm)
		vm->backend = b;
	return vm;
}

GIOStream *hh_vm_open_port(HhVm *vm, const char *name, GError **error)
{
	if (!vm->backend->ops->open_port) {
		UNSUPPORTED(vm->backend, "open a virtio-serial port");
		return NULL;
	}
	return vm->backend->ops->open_port(vm, name, 0, error);
}

gboolean hh_vm_wait(HhVm *vm, guint timeout_ms, GError **error)
{
	return vm->backend->ops->wait(vm, timeout_ms, 0, error);
}

gboolean hh_vm_running(HhVm *vm)
{
	return vm->backend->ops->running(vm);
}

void hh_vm_kill(HhVm *vm)
{
	vm->backend->ops->kill(vm, 0);
}

char *hh_vm_describe(HhVm *vm)
{
	return vm->backend->ops->describe ? vm->backend->ops->describe(vm, 0) :
					    NULL;
}

char *hh_vm_last_words(HhVm *vm)
{
	return vm->backend->ops->last_words ? vm->backend->ops->last_words(vm) :
					      NULL;
}

char *hh_vm_identity(HhVmBackend *b, const HhVmConfig *cfg, GError **error)
{
	if (!b->ops->identity || !b->ops->save_state) {
		UNSUPPORTED(b, "save a boot state");
		return NULL;
	}
	return b->ops->identity(b, cfg, 0);
}

gboolean hh_vm_save_state(HhVm *vm, const char *path, guint timeout_ms,
			  GError **error)
{
	if (!vm->backend->ops->save_state) {
		UNSUPPORTED(vm->backend, "save a boot state");
		return FALSE;
	}
	return vm->backend->ops->save_state(vm, path, timeout_ms, 0, error);
}

HhVm *hh_vm_prestart(HhVmBackend *b, const HhVmConfig *cfg, GError **error)
{
	if (!b->ops->prestart || !b->ops->adopt) {
		UNSUPPORTED(b, "start a guest ahead of its cell");
		return NULL;
	}
	return b->ops->prestart(b, cfg, 0, error);
}

gboolean hh_vm_adopt(HhVm *vm, const HhVmConfig *cfg, guint timeout_ms,
		     GError **error)
{
	if (!vm->backend->ops->adopt) {
		UNSUPPORTED(vm->backend, "start a guest ahead of its cell");
		return FALSE;
	}
	return vm->backend->ops->adopt(vm, cfg, timeout_ms, 0, error);
}

gboolean hh_vm_dimm_add(HhVm *vm, const char *id, guint64 size, gint node,
			guint timeout_ms, GError **error)
{
	if (!vm->backend->ops->dimm_add) {
		UNSUPPORTED(vm->backend, "hot-add a DIMM");
		return FALSE;
	}
	return vm->backend->ops->dimm_add(vm, id, size, node, timeout_ms, 0,
					  error);
}

gboolean hh_vm_vcpu_add(HhVm *vm, const char *id, gint node, gint socket,
			guint timeout_ms, GError **error)
{
	if (!vm->backend->ops->vcpu_add) {
		UNSUPPORTED(vm->backend, "hot-add a vCPU");
		return FALSE;
	}
	return vm->backend->ops->vcpu_add(vm, id, node, socket, timeout_ms, 0,
					  error);
}

gboolean hh_vm_device_del(HhVm *vm, const char *id, guint timeout_ms,
			  GError **error)
{
	if (!vm->backend->ops->device_del) {
		UNSUPPORTED(vm->backend, "remove a device");
		return FALSE;
	}
	return vm->backend->ops->device_del(vm, id, timeout_ms, 0, error);
}

gboolean hh_vm_vcpu_del(HhVm *vm, const char *id, guint timeout_ms,
			GError **error)
{
	if (!vm->backend->ops->vcpu_del) {
		UNSUPPORTED(vm->backend, "hot-remove a vCPU");
		return FALSE;
	}
	return vm->backend->ops->vcpu_del(vm, id, timeout_ms, 0, error);
}

gboolean hh_vm_virtio_mem_add(HhVm *vm, const char *id, guint64 max_size,
			      gint node, guint64 block_size, guint timeout_ms,
			      GError **error)
{
	if (!vm->backend->ops->virtio_mem_add) {
		UNSUPPORTED(vm->backend, "hot-add a virtio-mem device");
		return FALSE;
	}
	return vm->backend->ops->virtio_mem_add(vm, id, max_size, node,
						block_size, timeout_ms, 0,
						error);
}

gboolean hh_vm_virtio_mem_resize(HhVm *vm, const char *id, guint64 requested,
				 guint timeout_ms, GError **error)
{
	if (!vm->backend->ops->virtio_mem_resize) {
		UNSUPPORTED(vm->backend, "resize a virtio-mem device");
		return FALSE;
	}
	return vm->backend->ops->virtio_mem_resize(vm, id, requested,
						   timeout_ms, 0, error);
}

gboolean hh_vm_virtio_mem_query(HhVm *vm, const char *id, guint64 *plugged,
				guint64 *requested, guint timeout_ms,
				GError **error)
{
	if (!vm->backend->ops->virtio_mem_query) {
		UNSUPPORTED(vm->backend, "query a virtio-mem device");
		return FALSE;
	}
	return vm->backend->ops->virtio_mem_query(vm, id, plugged, requested,
						  timeout_ms, 0, error);
}

char *hh_vm_dump_registers(HhVm *vm, guint timeout_ms, GError **error)
{
	if (!vm->backend->ops->dump_registers) {
		UNSUPPORTED(vm->backend, "dump registers");
		return NULL;
	}
	return vm->backend->ops->dump_registers(vm, timeout_ms, 0, error);
}

guint64 hh_vm_peak_rss_kb(HhVm *vm)
{
	return vm->backend->ops->peak_rss_kb ?
		vm->backend->ops->peak_rss_kb(vm) : 0;
}

gboolean hh_vm_backend_capacity(HhVmBackend *b, guint *cpus,
				guint64 *memory, GError **error)
{
	if (!b->ops->capacity) {
		UNSUPPORTED(b, "say what a host can take");
		return FALSE;
	}
	return b->ops->capacity(b, cpus, memory, error);
}

/* A backend that cannot lose its host (QEMU children) always has it. */
gboolean hh_vm_backend_alive(HhVmBackend *b)
{
	return !b->ops->alive || b->ops->alive(b);
}

guint hh_vm_backend_reap_prefix(HhVmBackend *b, const char *prefix,
				GError **error)
{
	if (!b->ops->reap_prefix) {
		UNSUPPORTED(b, "remove guests by name");
		return 0;
	}
	return b->ops->reap_prefix(b, prefix, error);
}

void hh_vm_free(HhVm *vm)
{
	if (vm)
		vm->backend->ops->free_vm(vm);
}

/* The probe's verdict is kept until the host reboots (or QEMU changes). */
static char *verdict_path(HhVmBackend *b)
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
	key = g_strdup_printf("%s:%s:%lld:%s:%s", g_strstrip(boot_id),
			      qemu ? qemu : "", (long long)st.st_mtime,
			      b->ops->name, b->uri ? b->uri : "");
	sum = g_compute_checksum_for_string(G_CHECKSUM_SHA1, key, -1);
	return g_strdup_printf("%s/accel-%.16s", hh_cache_dir(), sum);
}

HhAccel hh_accel_resolve(HhVmBackend *b, HhAccel requested,
			 const char *kernel)
{
	static GMutex lock;
	static int decided = -1;
	g_autofree char *why = NULL, *memo = NULL, *saved = NULL;

	if (requested != HH_ACCEL_AUTO)
		return requested;
	g_mutex_lock(&lock);
	memo = verdict_path(b);
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
		} else if (!b->ops->kvm_works) {
			decided = HH_ACCEL_TCG;
			why = g_strdup_printf("the %s backend cannot check "
					      "KVM", b->ops->name);
		} else if (b->ops->kvm_works(b, kernel, &why)) {
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
