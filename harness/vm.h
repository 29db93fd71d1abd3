/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_VM_H
#define HH_VM_H

#include <gio/gio.h>

#include "variant.h"

typedef struct _HhQmp HhQmp;

typedef enum {
	HH_ACCEL_AUTO,
	HH_ACCEL_TCG,
	HH_ACCEL_KVM,
} HhAccel;

gboolean hh_accel_parse(const char *text, HhAccel *out, GError **error);

/* Everything a backend needs to start one guest. */
typedef struct {
	const char *kernel;
	const char *initrd;
	const char *cmdline;	/* full kernel command line */
	const HhVariant *variant;
	const char *run_dir;	/* private (0700) directory for sockets */
	const char *console_log;
	gboolean console_append;	/* keep what console_log holds */
	const char *stderr_log;	/* the VM process's own output */
	HhAccel accel;		/* resolved: TCG or KVM, never AUTO */
	int incoming_fd;	/* -1, or a saved VM state to start from
				 * (the backend takes it over) */
} HhVmConfig;

typedef struct _HhVm HhVm;

/*
 * A VM backend: a table of operations, NULL meaning "not supported".  Every
 * operation takes flags (none defined yet) so backends can grow without
 * new entry points.  The QEMU backend is the only one today; a libvirt one
 * (local and remote hosts) slots in beside it.
 */
typedef struct {
	const char *name;
	HhVm *(*start)(const HhVmConfig *cfg, unsigned int flags,
		       GError **error);
	/* A connected stream to the virtio-serial port of that name. */
	GIOStream *(*open_port)(HhVm *vm, const char *name,
				unsigned int flags, GError **error);
	/* The monitor, connected and past its handshake; not owned. */
	HhQmp *(*monitor)(HhVm *vm, unsigned int flags, GError **error);
	/* Waits for the guest to end; kills it at the timeout. */
	gboolean (*wait)(HhVm *vm, guint timeout_ms, unsigned int flags,
			 GError **error);
	gboolean (*running)(HhVm *vm);
	void (*kill)(HhVm *vm, unsigned int flags);
	/* What would start this VM again by hand (for replay files). */
	char *(*describe)(HhVm *vm, unsigned int flags);
	/* The VM process's own error output (QEMU's stderr), last lines. */
	char *(*last_words)(HhVm *vm);
	/* Everything that makes a saved state fit: the command line with the
	 * per-VM paths left out, and the emulator's version. */
	char *(*identity)(const HhVmConfig *cfg, unsigned int flags);
	/* Saves the running VM's state to fd (the VM stops). */
	gboolean (*save_state)(HhVm *vm, int fd, guint timeout_ms,
			       unsigned int flags, GError **error);
	/* The VM process's peak resident set in KiB (0 if unknown). */
	guint64 (*peak_rss_kb)(HhVm *vm);
	void (*free)(HhVm *vm);
} HhVmBackend;

extern const HhVmBackend hh_vm_backend_qemu;

/* The backend every VM handle starts with. */
struct _HhVm {
	const HhVmBackend *backend;
};

HhVm *hh_vm_start(const HhVmBackend *backend, const HhVmConfig *cfg,
		  GError **error);
void hh_vm_free(HhVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhVm, hh_vm_free)

/*
 * Resolves --accel auto: KVM only if /dev/kvm is usable and a guest
 * really boots under it within 10 s (on some hosts KVM guests abort or
 * hang in firmware); otherwise TCG.  Decided once per process; says so
 * on stderr once when it falls back.
 */
HhAccel hh_accel_resolve(HhAccel requested, const char *kernel);

#endif
