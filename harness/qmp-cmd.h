/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_QMP_CMD_H
#define HH_QMP_CMD_H

/*
 * QMP commands: one short function per command over hh_qmp_execute_sync().
 * timeout_ms bounds the whole call, however many commands it sends (0: no
 * timeout).  Errors are those of qmp.h; HH_ERROR_PROTOCOL also when a reply
 * has an unexpected shape.
 *
 * Naming: the memory backend of DIMM "ID" is the object "mem-ID".
 */

#include "qmp.h"

typedef enum {
	HH_QMP_DEL_NONE = 0,
	/* after DEVICE_DELETED, object-del the DIMM's backend "mem-<id>" */
	HH_QMP_DEL_BACKEND = 1 << 0,
	/* a vCPU: also done once query-hotpluggable-cpus shows no CPU at
	 * /machine/peripheral/<id> any more.  QEMU 7.2 under TCG frees the
	 * slot after the guest's eject but sends DEVICE_DELETED only for the
	 * CPU's lapic child, never for the CPU itself (measured). */
	HH_QMP_DEL_CPU_SLOT = 1 << 1,
} HhQmpDelFlags;

/*
 * object-add memory-backend-ram "mem-<id>" of size_bytes, then device_add
 * pc-dimm id on NUMA node (node < 0: omitted, QEMU's default is node 0).  If QEMU
 * refuses the device_add, the backend is deleted again so a retry can reuse
 * the id; after a timeout it is left alone (the device may still appear).
 */
gboolean hh_qmp_dimm_add(HhQmp *qmp, const char *id, guint64 size_bytes,
			 gint node, guint timeout_ms, GError **error);

/* query-hotpluggable-cpus; *out: transfer full. */
gboolean hh_qmp_query_hotpluggable_cpus(HhQmp *qmp, guint timeout_ms,
					JsonArray **out, GError **error);

/*
 * Plugs a vCPU into a free slot (an entry of query-hotpluggable-cpus without
 * "qom-path") whose props match node-id (node >= 0) and socket-id
 * (socket >= 0): device_add driver=<entry type>, id, and every prop copied.
 * Of several free slots the lowest (socket, die, cluster, core, thread) is
 * taken; QEMU lists them highest first.  No free slot: HH_ERROR_CONFIG.
 *
 * QEMU reports node-id in props only when -numa cpu,... maps the CPUs to
 * nodes, so node >= 0 finds nothing without such a mapping.  Note too that
 * since QEMU 6.2, -smp N,maxcpus=M without sockets= adds cores to socket 0,
 * not sockets.
 */
gboolean hh_qmp_vcpu_add(HhQmp *qmp, const char *id, gint node, gint socket,
			 guint timeout_ms, GError **error);

/* device_del: only asks; the guest may take its time or refuse. */
gboolean hh_qmp_device_del(HhQmp *qmp, const char *id, guint timeout_ms,
			   GError **error);

/*
 * device_del, then waits for DEVICE_DELETED with data.device == id (other
 * events stay queued); with HH_QMP_DEL_BACKEND, then object-del "mem-<id>".
 * A guest that answers the ACPI eject request with a failing _OST (QEMU's
 * ACPI_DEVICE_OST event for id, source 3, a status other than 0 or 0x84
 * "eject in progress") ends the wait at once with HH_ERROR_REFUSED naming the
 * status; QEMU refusing device_del itself is HH_ERROR_QMP as always.
 */
gboolean hh_qmp_device_del_wait(HhQmp *qmp, const char *id,
				HhQmpDelFlags flags, guint timeout_ms,
				GError **error);

/*
 * virtio-mem: object-add memory-backend-ram "mem-<id>" of max_bytes, then
 * device_add virtio-mem-pci id (memdev, node if >= 0, block-size if not 0,
 * requested-size 0).  QEMU 7.2 accepts it hot-plugged on the pc machine
 * (the guest sees it through ACPI PCI hotplug) and refuses device_del of
 * it ("virtio based memory devices cannot be unplugged").
 */
gboolean hh_qmp_virtio_mem_add(HhQmp *qmp, const char *id, guint64 max_bytes,
			       gint node, guint64 block_bytes,
			       guint timeout_ms, GError **error);

/* qom-set /machine/peripheral/<id> requested-size. */
gboolean hh_qmp_virtio_mem_resize(HhQmp *qmp, const char *id,
				  guint64 requested_bytes, guint timeout_ms,
				  GError **error);

/*
 * The virtio-mem device id's plugged size ("size") and requested size from
 * query-memory-devices.  No such device: HH_ERROR_CONFIG.
 */
gboolean hh_qmp_virtio_mem_query(HhQmp *qmp, const char *id,
				 guint64 *plugged, guint64 *requested,
				 guint timeout_ms, GError **error);

/* The same, in the return value of a query-memory-devices already made. */
gboolean hh_qmp_virtio_mem_find(JsonArray *devices, const char *id,
				guint64 *plugged, guint64 *requested,
				GError **error);

/* object-del id. */
gboolean hh_qmp_object_del(HhQmp *qmp, const char *id, guint timeout_ms,
			   GError **error);

/* query-memory-devices; *out: transfer full. */
gboolean hh_qmp_query_memory_devices(HhQmp *qmp, guint timeout_ms,
				     JsonArray **out, GError **error);

/*
 * human-monitor-command; *out (transfer full) is the output with QEMU's
 * "\r\n" turned into "\n".
 */
gboolean hh_qmp_hmp(HhQmp *qmp, const char *command_line, guint timeout_ms,
		    char **out, GError **error);

/*
 * quit.  QEMU closes the connection right after its reply, so a closed
 * connection (HH_ERROR_QEMU) counts as success too.
 */
/* chardev-change: the chardev id writes to the file at path from now on
 * (appending, or truncating it first). */
gboolean hh_qmp_chardev_file(HhQmp *qmp, const char *id, const char *path,
			     gboolean append, guint timeout_ms, GError **error);

gboolean hh_qmp_quit(HhQmp *qmp, guint timeout_ms, GError **error);

#endif
