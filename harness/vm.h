/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_VM_H
#define HH_VM_H

#include <gio/gio.h>

#include "variant.h"

typedef enum {
	HH_ACCEL_AUTO,
	HH_ACCEL_TCG,
	HH_ACCEL_KVM,
} HhAccel;

gboolean hh_accel_parse(const char *text, HhAccel *out, GError **error);

/* Everything a backend needs to start one guest. */
typedef struct {
	const char *name;	/* what an operator sees (domain name); may be NULL */
	const char *kernel;
	const char *initrd;
	const char *cmdline;	/* full kernel command line */
	const HhVariant *variant;
	const char *run_dir;	/* private (0700) local directory */
	const char *console_log;
	gboolean console_append;	/* keep what console_log holds */
	const char *stderr_log;	/* the VM process's own output, if local */
	const char *transcript;	/* the backend's control transcript (file) */
	HhAccel accel;		/* resolved: TCG or KVM, never AUTO */
	const char *restore_from;	/* NULL, or a state saved by save_state */
	/* Guest RAM in files of this directory (a snapshot's), for backends
	 * with ram_files: written through while the guest boots to be saved
	 * (the saved state then holds no RAM), mapped copy-on-write when a
	 * guest restores (nothing to load, the snapshot never written).
	 * NULL: RAM of the process, saved with the state. */
	const char *ram_dir;
	/* A distro image (image.h): the base qcow2, never written (part of
	 * the machine's identity), and the VM's own throwaway overlay on it
	 * (per VM, like console_log), its virtio-blk root disk. */
	const char *image;
	const char *disk;
} HhVmConfig;

typedef struct _HhVm HhVm;
typedef struct _HhVmBackend HhVmBackend;

/*
 * A VM backend: a table of semantic operations, as libvirt's driver
 * tables are.  NULL means "not supported": the hh_vm_*() wrappers below
 * then fail with HH_ERROR_UNSUPPORTED naming the backend and the
 * operation.  Every operation takes flags (none defined yet).
 *
 * Timeouts are in milliseconds and bound the whole operation.
 */
typedef struct {
	const char *name;
	/* What the saved-state files and replay files of this backend are
	 * called in a cell directory. */
	const char *replay_file;	/* "qemu-cmdline.txt", "domain.xml" */
	const char *transcript_file;	/* "qmp.log", "libvirt.log" */
	gboolean ram_files;	/* honours HhVmConfig.ram_dir */

	/* Does a guest really boot under KVM here?  FALSE with *why. */
	gboolean (*kvm_works)(HhVmBackend *b, const char *kernel, char **why);
	/* Stale guests a dead harness left behind: removed, counted. */
	guint (*reap_stale)(HhVmBackend *b, GError **error);

	HhVm *(*start)(HhVmBackend *b, const HhVmConfig *cfg,
		       unsigned int flags, GError **error);
	/* A connected stream to the virtio-serial port of that name. */
	GIOStream *(*open_port)(HhVm *vm, const char *name, unsigned int flags,
				GError **error);
	/* Waits for the guest to end; kills it at the timeout. */
	gboolean (*wait)(HhVm *vm, guint timeout_ms, unsigned int flags,
			 GError **error);
	gboolean (*running)(HhVm *vm);
	void (*kill)(HhVm *vm, unsigned int flags);
	/* What would start this VM again by hand (for the replay file). */
	char *(*describe)(HhVm *vm, unsigned int flags);
	/* The VM process's own last words (QEMU's stderr), or NULL. */
	char *(*last_words)(HhVm *vm);
	/* Everything that makes a saved state fit: the configuration with
	 * the per-VM names and paths left out, and the emulator's version. */
	char *(*identity)(HhVmBackend *b, const HhVmConfig *cfg,
			  unsigned int flags);
	/* Saves the running VM's state to path (the VM stops); the path is
	 * what HhVmConfig.restore_from takes. */
	gboolean (*save_state)(HhVm *vm, const char *path, guint timeout_ms,
			       unsigned int flags, GError **error);
	/* A warm pool (vm-pool.h): a guest started ahead of its cell, with
	 * cfg's machine but its own private directory and outputs, waiting
	 * for a saved state; cfg->restore_from is ignored. */
	HhVm *(*prestart)(HhVmBackend *b, const HhVmConfig *cfg,
			  unsigned int flags, GError **error);
	/* Gives such a guest its cell: cfg's outputs (console, transcript,
	 * stderr) and its state (cfg->restore_from), loaded; returns once
	 * the guest runs. */
	gboolean (*adopt)(HhVm *vm, const HhVmConfig *cfg, guint timeout_ms,
			  unsigned int flags, GError **error);
	/* Hotplug: a DIMM of size bytes on node (node < 0: the default);
	 * a vCPU on node and socket (< 0: any); removal of a device added
	 * under id, waiting for the guest to let it go. */
	gboolean (*dimm_add)(HhVm *vm, const char *id, guint64 size, gint node,
			     guint timeout_ms, unsigned int flags,
			     GError **error);
	gboolean (*vcpu_add)(HhVm *vm, const char *id, gint node, gint socket,
			     guint timeout_ms, unsigned int flags,
			     GError **error);
	gboolean (*device_del)(HhVm *vm, const char *id, guint timeout_ms,
			       unsigned int flags, GError **error);
	/* Unplugs the vCPU added under id and waits for the guest's eject. */
	gboolean (*vcpu_del)(HhVm *vm, const char *id, guint timeout_ms,
			     unsigned int flags, GError **error);
	/* virtio-mem: a device of max_size bytes on node (< 0: default) with
	 * block_size (0: the device's default), nothing requested yet; its
	 * requested size; its plugged and requested size as the device
	 * reports them. */
	gboolean (*virtio_mem_add)(HhVm *vm, const char *id, guint64 max_size,
				   gint node, guint64 block_size,
				   guint timeout_ms, unsigned int flags,
				   GError **error);
	gboolean (*virtio_mem_resize)(HhVm *vm, const char *id,
				      guint64 requested, guint timeout_ms,
				      unsigned int flags, GError **error);
	gboolean (*virtio_mem_query)(HhVm *vm, const char *id,
				     guint64 *plugged, guint64 *requested,
				     guint timeout_ms, unsigned int flags,
				     GError **error);
	/* Every vCPU's registers, as text (on a timeout). */
	char *(*dump_registers)(HhVm *vm, guint timeout_ms, unsigned int flags,
				GError **error);
	/* The VM process's peak resident set in KiB (0 if unknown). */
	guint64 (*peak_rss_kb)(HhVm *vm);
	void (*free_vm)(HhVm *vm);
	void (*close)(HhVmBackend *b);

	/* For several hosts (hosts.h).  What the host can give guests:
	 * its CPUs and free memory. */
	gboolean (*capacity)(HhVmBackend *b, guint *cpus, guint64 *memory,
			     GError **error);
	/* Is the host still there?  FALSE once its connection is lost (a
	 * hung host: within the keepalive's 15 s). */
	gboolean (*alive)(HhVmBackend *b);
	/* Destroys every guest whose name starts with prefix (what a run
	 * left on a host it lost and got back); returns how many. */
	guint (*reap_prefix)(HhVmBackend *b, const char *prefix,
			     GError **error);
} HhVmBackendOps;

/* An opened backend: its operations and, for libvirt, a connection. */
struct _HhVmBackend {
	const HhVmBackendOps *ops;
	char *uri;		/* NULL for the QEMU backend */
};

/* Every VM handle starts with this. */
struct _HhVm {
	HhVmBackend *backend;
};

/* The backends by name: "qemu" (children of the harness) and "libvirt"
 * (uri NULL: the embedded driver under the harness cache). */
HhVmBackend *hh_vm_backend_open(const char *name, const char *uri,
				GError **error);
void hh_vm_backend_close(HhVmBackend *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhVmBackend, hh_vm_backend_close)
/* "qemu, libvirt" */
const char *hh_vm_backend_names(void);
gboolean hh_vm_backend_known(const char *name);

HhVm *hh_vm_start(HhVmBackend *b, const HhVmConfig *cfg, GError **error);
GIOStream *hh_vm_open_port(HhVm *vm, const char *name, GError **error);
gboolean hh_vm_wait(HhVm *vm, guint timeout_ms, GError **error);
gboolean hh_vm_running(HhVm *vm);
void hh_vm_kill(HhVm *vm);
char *hh_vm_describe(HhVm *vm);
char *hh_vm_last_words(HhVm *vm);
char *hh_vm_identity(HhVmBackend *b, const HhVmConfig *cfg, GError **error);
gboolean hh_vm_save_state(HhVm *vm, const char *path, guint timeout_ms,
			  GError **error);
HhVm *hh_vm_prestart(HhVmBackend *b, const HhVmConfig *cfg, GError **error);
gboolean hh_vm_adopt(HhVm *vm, const HhVmConfig *cfg, guint timeout_ms,
		     GError **error);
gboolean hh_vm_dimm_add(HhVm *vm, const char *id, guint64 size, gint node,
			guint timeout_ms, GError **error);
gboolean hh_vm_vcpu_add(HhVm *vm, const char *id, gint node, gint socket,
			guint timeout_ms, GError **error);
gboolean hh_vm_device_del(HhVm *vm, const char *id, guint timeout_ms,
			  GError **error);
gboolean hh_vm_vcpu_del(HhVm *vm, const char *id, guint timeout_ms,
			GError **error);
gboolean hh_vm_virtio_mem_add(HhVm *vm, const char *id, guint64 max_size,
			      gint node, guint64 block_size, guint timeout_ms,
			      GError **error);
gboolean hh_vm_virtio_mem_resize(HhVm *vm, const char *id, guint64 requested,
				 guint timeout_ms, GError **error);
gboolean hh_vm_virtio_mem_query(HhVm *vm, const char *id, guint64 *plugged,
				guint64 *requested, guint timeout_ms,
				GError **error);
char *hh_vm_dump_registers(HhVm *vm, guint timeout_ms, GError **error);
guint64 hh_vm_peak_rss_kb(HhVm *vm);
gboolean hh_vm_backend_capacity(HhVmBackend *b, guint *cpus,
				guint64 *memory, GError **error);
gboolean hh_vm_backend_alive(HhVmBackend *b);
guint hh_vm_backend_reap_prefix(HhVmBackend *b, const char *prefix,
				GError **error);
void hh_vm_free(HhVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhVm, hh_vm_free)

extern const HhVmBackendOps hh_vm_backend_qemu;
#ifdef HAVE_LIBVIRT
extern const HhVmBackendOps hh_vm_backend_libvirt;
/* The libvirt backend's connection (uri NULL: the embedded driver). */
HhVmBackend *hh_vm_backend_libvirt_open(const char *uri, GError **error);
#endif

/*
 * Resolves --accel auto: KVM only if the backend says a guest really
 * boots under it (on some hosts KVM guests abort or hang in firmware);
 * otherwise TCG.  Decided once per process and backend host; says so on
 * stderr once when it falls back.
 */
HhAccel hh_accel_resolve(HhVmBackend *b, HhAccel requested,
			 const char *kernel);

#endif
