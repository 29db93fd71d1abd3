/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt backend: one transient domain per guest, through libvirt's C
 * API.  Without a URI it embeds libvirt's QEMU driver in this process
 * (qemu:///embed?root=... under the harness cache: no daemon); with one it
 * talks to that daemon, local or remote, and ships kernel and initramfs
 * through a storage pool so no path of this machine reaches the domain.
 *
 * The console and the agent's virtio-serial ports are libvirt streams,
 * pumped on libvirt's event loop thread into a socket pair whose other end
 * the cell reads as a GIOStream; the console goes into console.log.  Hotplug
 * goes through libvirt's device and vCPU API; what libvirt cannot express
 * (a DIMM on a memoryless node, registers) goes through QMP passthrough
 * (virDomainQemuMonitorCommand).  Every domain is named hh-<run>-<cell>,
 * carries the harness's pid in its metadata and is destroyed at the cell's
 * end, on every exit path and on a signal; a later run removes what a
 * killed run left (reap_stale).
 */
#include "config.h"

#include "vm.h"
#include "hh-error.h"
#include "paths.h"
#include "spawn.h"
#include "util.h"
#include "hh-protocol.h"
#include "libvirt-abort.h"
#include "libvirt-save-image.h"
#include "libvirt-stream.h"
#include "qmp-cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HH_XMLNS "https://hotplug-harness.org/xmlns/domain/1"
#define EMBED_ROOTS 16
#define POOL_NAME "hotplug-harness"
#define POOL_PATH "/var/lib/libvirt/hotplug-harness"
#define STATE_HANDLE "hotplug-harness libvirt state\n"

typedef struct {
	HhVmBackend parent;
	virConnectPtr conn;
	char *root;		/* embedded driver root, or NULL */
	int root_lock;		/* fd holding root's flock */
	GMutex lock;		/* live, uploads */
	GMutex rpc_lock;	/* liveness calls on conn */
	GHashTable *live;	/* domain name -> virDomainPtr (ref) */
	GHashTable *uploads;	/* local path + sha -> remote path */
	GHashTable *vms;	/* domain name -> LvVm* of this process */
	GThreadPool *destroyer;	/* domains destroyed after their cell */
	int lifecycle_cb;
	int interrupt_timer;
	gboolean interrupted;	/* event loop thread only */
	gint lost;		/* atomic: the connection closed */
	gint aborted;		/* atomic: its sockets were cut */
	HhLvPeer *peer;		/* the daemon's address, or NULL */
	int close_reason;	/* VIR_CONNECT_CLOSE_REASON_* once lost */
	unsigned long lib_version, hv_version;
} Lv;

/* ---- the event loop and the process ---- */

static gpointer event_loop(gpointer data)
{
	for (;;)
		virEventRunDefaultImpl();
	return NULL;
}

static void quiet_error(void *data, virErrorPtr err)
{
	/* Errors are read with virGetLastError() where they happen. */
}

/* QEMU children libvirt daemonized become ours (a subreaper); reap those
 * that exited, never another child (GLib waits for its own by pid). */
static void reap_qemu_zombies(int timer, void *data)
{
	g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
	const char *name;
	pid_t self = getpid();

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = NULL, *stat = NULL;
		const char *close_paren;
		char state;
		int ppid;

		if (!g_ascii_isdigit(*name))
			continue;
		path = g_strdup_printf("/proc/%s/stat", name);
		if (!g_file_get_contents(path, &stat, NULL, NULL))
			continue;
		close_paren = strrchr(stat, ')');
		if (!close_paren || !strstr(stat, "(qemu-system-") ||
		    sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2)
			continue;
		if (state == 'Z' && ppid == self)
			waitpid(atoi(name), NULL, WNOHANG);
	}
}

static void libvirt_once(gboolean embedded)
{
	static gsize done;

	if (!g_once_init_enter(&done))
		return;
	/* libvirt's own warnings go to a file, not between KTAP lines. */
	if (!g_getenv("LIBVIRT_LOG_OUTPUTS")) {
		g_autofree char *dir = g_build_filename(hh_cache_dir(), "libvirt",
							NULL);
		g_autofree char *out = g_strdup_printf("3:file:%s/libvirt.log",
						       dir);

		hh_mkdir_p(dir, 0700, NULL);
		g_setenv("LIBVIRT_LOG_OUTPUTS", out, TRUE);
	}
	virInitialize();
	virSetErrorFunc(NULL, quiet_error);
	virEventRegisterDefaultImpl();
	g_thread_unref(g_thread_new("hh-libvirt-events", event_loop, NULL));
	if (embedded &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
		virEventAddTimeout(100, reap_qemu_zombies, NULL, NULL);
	g_once_init_leave(&done, 1);
}

/* ---- errors and the transcript ---- */

static const char *last_error(void)
{
	virErrorPtr e = virGetLastError();

	return e && e->message ? e->message : "unknown libvirt error";
}

/* The failed call's libvirt error as a GError of code. */
static void set_virt_error(GError **error, int code, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void set_virt_error(GError **error, int code, const char *fmt, ...)
{
	virErrorPtr e = virGetLastError();
	g_autofree char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (e && e->code == VIR_ERR_OPERATION_TIMEOUT)
		code = HH_ERROR_TIMEOUT;
	if (hh_spawn_interrupted())
		code = HH_ERROR_CANCELLED;
	g_set_error(error, HH_ERROR, code, "%s: %s", what, last_error());
}

typedef struct {
	HhVm parent;
	Lv *lv;
	/* The guest's own connection to a daemon (the embedded driver's
	 * otherwise): libvirt 9.0's RPC client may crash when several
	 * threads wait on one connection and it closes under them (a
	 * stale socket watch of one thread fires in another's poll, see
	 * docs/hosts.md), so no two cells share one. */
	virConnectPtr conn;
	virDomainPtr dom;
	char *name;
	char *uuid;
	char *xml;
	char *restore_copy;	/* this VM's copy of a saved state */
	FILE *transcript;
	GMutex tlock;
	HhLvPump *console;
	HhLvPump *ports[2];	/* control, log */
	GIOStream *streams[2];
	const HhVariant *variant;	/* not owned */
	GHashTable *vcpus;	/* scenario id -> vcpu number */
	guint64 vcpus_on;	/* bit per vCPU enabled */
	guint next_slot;	/* for passthrough DIMMs, from the top */
	gboolean gone;
	gint powered_off;	/* the guest shut down (lifecycle event) */
} LvVm;

static void tlog(LvVm *v, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static virConnectPtr vm_conn(LvVm *v)
{
	return v->conn;
}

static void tlog(LvVm *v, const char *fmt, ...)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S.%f");
	va_list ap;

	if (!v->transcript)
		return;
	g_mutex_lock(&v->tlock);
	fprintf(v->transcript, "%.12s ", stamp);
	va_start(ap, fmt);
	vfprintf(v->transcript, fmt, ap);
	va_end(ap);
	fputc('\n', v->transcript);
	fflush(v->transcript);
	g_mutex_unlock(&v->tlock);
}

/* ---- domain XML ---- */

typedef struct {
	xmlTextWriterPtr w;
	xmlBufferPtr buf;
} Xml;

static void xml_begin(Xml *x)
{
	x->buf = xmlBufferCreate();
	x->w = xmlNewTextWriterMemory(x->buf, 0);
	xmlTextWriterSetIndent(x->w, 1);
	xmlTextWriterSetIndentString(x->w, BAD_CAST "  ");
}

static char *xml_end(Xml *x)
{
	char *out;

	xmlTextWriterEndDocument(x->w);
	xmlFreeTextWriter(x->w);
	out = g_strdup((const char *)xmlBufferContent(x->buf));
	xmlBufferFree(x->buf);
	return out;
}

static void el(Xml *x, const char *name)
{
	xmlTextWriterStartElement(x->w, BAD_CAST name);
}

static void end(Xml *x)
{
	xmlTextWriterEndElement(x->w);
}

static void attr(Xml *x, const char *name, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void attr(Xml *x, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xmlTextWriterWriteVFormatAttribute(x->w, BAD_CAST name, fmt, ap);
	va_end(ap);
}

static void text_el(Xml *x, const char *name, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void text_el(Xml *x, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xmlTextWriterWriteVFormatElement(x->w, BAD_CAST name, fmt, ap);
	va_end(ap);
}

/* "a-b,c" of the vCPUs of the sockets bound to node n. */
static char *node_vcpus(const HhVariant *v, const HhNode *n)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < n->cpus->len; i++) {
		guint sock = g_array_index(n->cpus, guint, i);

		g_string_append_printf(s, "%s%u", s->len ? "," : "",
				       sock * v->cores);
		if (v->cores > 1)
			g_string_append_printf(s, "-%u",
					       sock * v->cores + v->cores - 1);
	}
	return g_string_free(s, FALSE);
}

/*
 * libvirt 9.0 cannot describe a memoryless NUMA cell: it gives every cell a
 * memory backend of the cell's size, and QEMU refuses a zero-sized one.  A
 * memoryless node without CPUs is passed to QEMU as a -numa option instead
 * (libvirt then counts every vCPU in its own cells).  A memoryless node
 * with CPUs cannot be: libvirt assigns each vCPU left out of its cells to
 * cell 0, and QEMU refuses to move a CPU to another node afterwards.  Such
 * a variant is skipped, never booted differently.
 */
static gboolean check_layout(const HhVariant *v, GError **error)
{
	gboolean seen_memoryless = FALSE;

	if (v->virtio_mems->len) {
		g_set_error(error, HH_ERROR, HH_ERROR_UNSUPPORTED,
			    "the libvirt backend cannot boot variant %s with "
			    "a virtio-mem device (it hot-plugs them through "
			    "QMP only; see docs/libvirt.md)", v->name);
		return FALSE;
	}
	for (guint i = 0; i < v->nodes->len; i++) {
		const HhNode *n = v->nodes->pdata[i];

		if (!n->memory && n->cpus->len) {
			g_set_error(error, HH_ERROR, HH_ERROR_UNSUPPORTED,
				    "libvirt 9.0 cannot describe variant %s: "
				    "node %u has CPUs but no memory (libvirt "
				    "has no memoryless NUMA cell and moves its "
				    "CPUs to node 0; see docs/libvirt.md)",
				    v->name, n->id);
			return FALSE;
		}
		if (n->id != i || (n->memory && seen_memoryless)) {
			g_set_error(error, HH_ERROR, HH_ERROR_UNSUPPORTED,
				    "the libvirt backend cannot lay out variant "
				    "%s: NUMA nodes with memory must come first "
				    "and be numbered from 0", v->name);
			return FALSE;
		}
		seen_memoryless |= !n->memory;
	}
	return TRUE;
}

static gboolean has_memoryless(const HhVariant *v)
{
	for (guint i = 0; i < v->nodes->len; i++) {
		if (!((HhNode *)v->nodes->pdata[i])->memory)
			return TRUE;
	}
	return FALSE;
}

static void xml_cpu(Xml *x, const HhVariant *v)
{
	el(x, "cpu");
	attr(x, "mode", "custom");
	attr(x, "match", "exact");
	attr(x, "check", "none");
	el(x, "model");
	attr(x, "fallback", "forbid");
	xmlTextWriterWriteString(x->w, BAD_CAST "qemu64");
	end(x);
	el(x, "topology");
	attr(x, "sockets", "%u", v->maxcpus / v->cores);
	attr(x, "dies", "1");
	attr(x, "cores", "%u", v->cores);
	attr(x, "threads", "1");
	end(x);
	if (v->nodes->len || v->slots) {
		el(x, "numa");
		if (!v->nodes->len) {
			/* Memory hotplug wants NUMA: one node, as QEMU's own. */
			el(x, "cell");
			attr(x, "id", "0");
			attr(x, "cpus", "0-%u", v->maxcpus - 1);
			attr(x, "memory", "%" G_GUINT64_FORMAT, v->memory >> 10);
			attr(x, "unit", "KiB");
			end(x);
		}
		for (guint i = 0; i < v->nodes->len; i++) {
			const HhNode *n = v->nodes->pdata[i];
			g_autofree char *cpus = node_vcpus(v, n);

			if (!n->memory)
				continue;
			el(x, "cell");
			attr(x, "id", "%u", n->id);
			if (*cpus)
				attr(x, "cpus", "%s", cpus);
			attr(x, "memory", "%" G_GUINT64_FORMAT, n->memory >> 10);
			attr(x, "unit", "KiB");
			end(x);
		}
		end(x);
	}
	end(x);
}

/* dir: where the socket goes on a local host (NULL: libvirt chooses; its
 * path under an embedded root can pass the 108 bytes of a socket path). */
static void xml_channel(Xml *x, const char *name, const char *dir,
			const char *file)
{
	el(x, "channel");
	attr(x, "type", "unix");
	el(x, "source");
	attr(x, "mode", "bind");
	if (dir)
		attr(x, "path", "%s/%s", dir, file);
	end(x);
	el(x, "target");
	attr(x, "type", "virtio");
	attr(x, "name", "%s", name);
	end(x);
	end(x);
}

/* A distro image's throwaway overlay as the root disk (virtio-blk vda). */
static void xml_disk(Xml *x, const char *path)
{
	el(x, "disk");
	attr(x, "type", "file");
	attr(x, "device", "disk");
	el(x, "driver");
	attr(x, "name", "qemu");
	attr(x, "type", "qcow2");
	attr(x, "discard", "unmap");
	end(x);
	el(x, "source");
	attr(x, "file", "%s", path);
	end(x);
	el(x, "target");
	attr(x, "dev", "vda");
	attr(x, "bus", "virtio");
	end(x);
	end(x);
}

/* The domain of cfg; kernel and initrd as the host running it sees them. */
static char *domain_xml(const HhVmConfig *cfg, const char *name,
			const char *uuid, const char *kernel,
			const char *initrd, const char *sock_dir)
{
	const HhVariant *v = cfg->variant;
	Xml x;

	xml_begin(&x);
	el(&x, "domain");
	attr(&x, "type", "%s", cfg->accel == HH_ACCEL_KVM ? "kvm" : "qemu");
	xmlTextWriterWriteAttribute(x.w, BAD_CAST "xmlns:qemu",
		BAD_CAST "http://libvirt.org/schemas/domain/qemu/1.0");
	text_el(&x, "name", "%s", name);
	text_el(&x, "uuid", "%s", uuid);
	el(&x, "metadata");
	xmlTextWriterStartElementNS(x.w, BAD_CAST "hh", BAD_CAST "owner",
				    BAD_CAST HH_XMLNS);
	attr(&x, "host", "%s", g_get_host_name());
	attr(&x, "pid", "%d", (int)getpid());
	end(&x);
	end(&x);
	el(&x, "memory");
	attr(&x, "unit", "KiB");
	xmlTextWriterWriteFormatString(x.w, "%" G_GUINT64_FORMAT, v->memory >> 10);
	end(&x);
	if (v->slots) {
		el(&x, "maxMemory");
		attr(&x, "slots", "%u", v->slots);
		attr(&x, "unit", "KiB");
		xmlTextWriterWriteFormatString(x.w, "%" G_GUINT64_FORMAT,
					       v->maxmem >> 10);
		end(&x);
	}
	el(&x, "vcpu");
	attr(&x, "placement", "static");
	attr(&x, "current", "%u", v->cpus);
	xmlTextWriterWriteFormatString(x.w, "%u", v->maxcpus);
	end(&x);
	el(&x, "os");
	el(&x, "type");
	attr(&x, "arch", "x86_64");
	attr(&x, "machine", "%s", v->machine);
	xmlTextWriterWriteString(x.w, BAD_CAST "hvm");
	end(&x);
	text_el(&x, "kernel", "%s", kernel);
	if (initrd)
		text_el(&x, "initrd", "%s", initrd);
	text_el(&x, "cmdline", "%s", cfg->cmdline);
	end(&x);
	el(&x, "features");
	el(&x, "acpi");
	end(&x);
	el(&x, "apic");
	end(&x);
	end(&x);
	xml_cpu(&x, v);
	text_el(&x, "on_poweroff", "destroy");
	text_el(&x, "on_reboot", "destroy");
	text_el(&x, "on_crash", "destroy");
	el(&x, "devices");
	el(&x, "controller");
	attr(&x, "type", "usb");
	attr(&x, "model", "none");
	end(&x);
	el(&x, "memballoon");
	attr(&x, "model", "none");
	end(&x);
	el(&x, "serial");
	attr(&x, "type", "pty");
	el(&x, "target");
	attr(&x, "port", "0");
	end(&x);
	end(&x);
	el(&x, "controller");
	attr(&x, "type", "virtio-serial");
	attr(&x, "index", "0");
	end(&x);
	if (cfg->image)
		xml_disk(&x, cfg->disk ? cfg->disk : "@disk");
	xml_channel(&x, HHP_PORT_CONTROL, sock_dir, "control.sock");
	xml_channel(&x, HHP_PORT_LOG, sock_dir, "log.sock");
	end(&x);
	if (has_memoryless(v)) {
		xmlTextWriterStartElement(x.w, BAD_CAST "qemu:commandline");
		for (guint i = 0; i < v->nodes->len; i++) {
			const HhNode *n = v->nodes->pdata[i];

			if (n->memory)
				continue;
			xmlTextWriterStartElement(x.w, BAD_CAST "qemu:arg");
			attr(&x, "value", "-numa");
			end(&x);
			xmlTextWriterStartElement(x.w, BAD_CAST "qemu:arg");
			attr(&x, "value", "node,nodeid=%u", n->id);
			end(&x);
		}
		end(&x);
	}
	end(&x);
	return xml_end(&x);
}

/* ---- the connection ---- */

static void domain_unref(gpointer dom)
{
	virDomainFree(dom);
}

/* A root of the embedded driver no other process uses: roots/N, N the
 * first whose lock is free.  What a dead process left there is ours. */
static char *embed_root(int *lock_fd, GError **error)
{
	g_autofree char *base = g_build_filename(hh_cache_dir(), "libvirt",
						 NULL);

	if (!hh_mkdir_p(base, 0700, error))
		return NULL;
	for (guint i = 0; i < EMBED_ROOTS; i++) {
		g_autofree char *lock = g_strdup_printf("%s/%u.lock", base, i);
		int fd = open(lock, O_CREAT | O_RDWR | O_CLOEXEC, 0600);

		if (fd < 0) {
			g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
				    "cannot open '%s': %s", lock,
				    g_strerror(errno));
			return NULL;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*lock_fd = fd;
			return g_strdup_printf("%s/%u", base, i);
		}
		close(fd);
	}
	g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
		    "all %u libvirt roots under %s are in use by other "
		    "harness processes", EMBED_ROOTS, base);
	return NULL;
}

/* qemu.conf of an embedded root: QEMU runs as us and leaves files alone
 * (kernels shared by several roots at once), and logs to files. */
static gboolean embed_prepare(const char *root, GError **error)
{
	static const char conf[] =
		"# written by hotplug-harness\n"
		"stdio_handler = \"file\"\n"
		"user = \"root\"\n"
		"group = \"root\"\n"
		"dynamic_ownership = 0\n"
		"remember_owner = 0\n"
		"security_driver = \"none\"\n"
		"namespaces = [ ]\n";
	g_autofree char *etc = g_build_filename(root, "etc", NULL);
	g_autofree char *path = g_build_filename(etc, "qemu.conf", NULL);
	g_autofree char *caps = g_build_filename(root, "cache", "qemu",
						 "capabilities", NULL);
	g_autofree char *parent = g_path_get_dirname(root);

	if (!hh_mkdir_p(etc, 0700, error) ||
	    !hh_write_file(path, conf, -1, error) ||
	    !hh_mkdir_p(caps, 0700, error))
		return FALSE;
	/* QEMU's capabilities, probed once (9 s), copied to new roots. */
	for (guint i = 0; i < EMBED_ROOTS; i++) {
		g_autofree char *other = g_strdup_printf(
			"%s/%u/cache/qemu/capabilities", parent, i);
		g_autoptr(GDir) d = NULL;
		const char *name;
		gboolean copied = FALSE;

		if (g_str_equal(other, caps) || !(d = g_dir_open(other, 0, NULL)))
			continue;
		while ((name = g_dir_read_name(d))) {
			g_autofree char *from = g_build_filename(other, name, NULL);
			g_autofree char *to = g_build_filename(caps, name, NULL);
			g_autofree char *text = NULL;
			gsize len;

			if (g_file_test(to, G_FILE_TEST_EXISTS) ||
			    !g_file_get_contents(from, &text, &len, NULL))
				continue;
			copied |= hh_write_file(to, text, (gssize)len, NULL);
		}
		if (copied)
			break;
	}
	return TRUE;
}

static gpointer destroy_all(gpointer data)
{
	GPtrArray *doms = data;

	for (guint i = 0; i < doms->len; i++)
		virDomainDestroy(doms->pdata[i]);
	g_ptr_array_unref(doms);
	return NULL;
}

/*
 * A signal: every guest goes at once, whatever the cells do.  Runs on
 * libvirt's event loop thread, which must not block in a libvirt call (the
 * destroys need that loop), so another thread destroys them.
 */
static void on_interrupt_check(int timer, void *data)
{
	Lv *lv = data;
	GPtrArray *doms;
	GHashTableIter it;
	gpointer dom;

	if (!hh_spawn_interrupted() || lv->interrupted)
		return;
	lv->interrupted = TRUE;
	doms = g_ptr_array_new_with_free_func((GDestroyNotify)domain_unref);
	g_mutex_lock(&lv->lock);
	g_hash_table_iter_init(&it, lv->live);
	while (g_hash_table_iter_next(&it, NULL, &dom)) {
		virDomainRef(dom);
		g_ptr_array_add(doms, dom);
	}
	g_mutex_unlock(&lv->lock);
	g_thread_unref(g_thread_new("hh-libvirt-destroy", destroy_all, doms));
}

static void on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
			 int detail, void *opaque)
{
	Lv *lv = opaque;
	LvVm *v;

	if (event != VIR_DOMAIN_EVENT_SHUTDOWN &&
	    event != VIR_DOMAIN_EVENT_STOPPED)
		return;
	g_mutex_lock(&lv->lock);
	v = g_hash_table_lookup(lv->vms, virDomainGetName(dom));
	if (v)
		g_atomic_int_set(&v->powered_off, 1);
	g_mutex_unlock(&lv->lock);
}

/* A finished cell's domain: libvirt tears a stopped QEMU down in about
 * 200 ms (it polls the process it signalled), which the next cell need not
 * wait for.  It stays in the live table, for signals, until it is gone. */
static void destroy_job(gpointer data, gpointer user)
{
	virDomainPtr dom = data;
	Lv *lv = user;
	g_autofree char *name = g_strdup(virDomainGetName(dom));

	if (virDomainIsActive(dom) == 1)
		virDomainDestroy(dom);
	virDomainFree(dom);
	g_mutex_lock(&lv->lock);
	g_hash_table_remove(lv->live, name);
	g_mutex_unlock(&lv->lock);
}

/* Every guest of a lost host: its agent and log channels end now (their
 * streams may never say so).  On the event loop, once. */
static void cut_guests(int timer, void *opaque)
{
	Lv *lv = opaque;
	GHashTableIter it;
	gpointer vm;

	virEventRemoveTimeout(timer);
	g_mutex_lock(&lv->lock);
	g_hash_table_iter_init(&it, lv->vms);
	while (g_hash_table_iter_next(&it, NULL, &vm)) {
		LvVm *v = vm;

		for (guint i = 0; i < 2; i++)
			hh_lv_pump_cut(v->ports[i]);
	}
	g_mutex_unlock(&lv->lock);
}

/* The daemon died, the network went, or keepalive gave up on a hung host
 * (5 s interval, 2 misses: within 15 s). */
static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	Lv *lv = opaque;

	/* A cell's own connection, closed by the harness. */
	if (reason == VIR_CONNECT_CLOSE_REASON_CLIENT)
		return;

	lv->close_reason = reason;
	g_atomic_int_set(&lv->lost, 1);
	/* Calls waiting on the other connections to that host would wait
	 * for ever (libvirt-abort.h): their sockets are cut, once. */
	if (g_atomic_int_compare_and_exchange(&lv->aborted, 0, 1)) {
		hh_lv_peer_abort(lv->peer);
		/* Not here: the closing thread may hold lv->lock. */
		virEventAddTimeout(0, cut_guests, lv, NULL);
	}
}

static void lv_close(HhVmBackend *b)
{
	Lv *lv = (Lv *)b;

	if (lv->destroyer)
		g_thread_pool_free(lv->destroyer, FALSE, TRUE);
	if (lv->lifecycle_cb >= 0)
		virConnectDomainEventDeregisterAny(lv->conn, lv->lifecycle_cb);
	if (lv->interrupt_timer >= 0)
		virEventRemoveTimeout(lv->interrupt_timer);
	if (lv->conn) {
		virConnectUnregisterCloseCallback(lv->conn, on_close);
		virConnectClose(lv->conn);
	}
	if (lv->live)
		g_hash_table_unref(lv->live);
	if (lv->uploads)
		g_hash_table_unref(lv->uploads);
	if (lv->vms)
		g_hash_table_unref(lv->vms);
	if (lv->root_lock >= 0)
		close(lv->root_lock);
	g_mutex_clear(&lv->lock);
	g_mutex_clear(&lv->rpc_lock);
	hh_lv_peer_free(lv->peer);
	g_free(lv->root);
	g_free(b->uri);
	g_free(lv);
}

HhVmBackend *hh_vm_backend_libvirt_open(const char *uri, GError **error)
{
	Lv *lv = g_new0(Lv, 1);
	g_autofree char *open_uri = NULL;

	lv->parent.ops = &hh_vm_backend_libvirt;
	lv->root_lock = -1;
	lv->interrupt_timer = -1;
	lv->lifecycle_cb = -1;
	lv->vms = g_hash_table_new(g_str_hash, g_str_equal);
	g_mutex_init(&lv->lock);
	g_mutex_init(&lv->rpc_lock);
	lv->live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 domain_unref);
	lv->uploads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    g_free);
	libvirt_once(uri == NULL);
	if (!uri) {
		lv->root = embed_root(&lv->root_lock, error);
		if (!lv->root || !embed_prepare(lv->root, error))
			goto fail;
		open_uri = g_strdup_printf("qemu:///embed?root=%s", lv->root);
	} else {
		open_uri = g_strdup(uri);
		lv->parent.uri = g_strdup(uri);
		lv->peer = hh_lv_peer_new(uri);
	}
	lv->conn = virConnectOpen(open_uri);
	if (!lv->conn) {
		set_virt_error(error, HH_ERROR_FAILED,
			       "cannot connect to libvirt at '%s'%s", open_uri,
			       uri ? "" : " (embedded QEMU driver: is "
			       "libvirt-daemon-driver-qemu installed?)");
		goto fail;
	}
	/* A dead host is noticed within 15 s (5 s interval, 2 misses). */
	virConnectSetKeepAlive(lv->conn, 5, 2);
	virConnectRegisterCloseCallback(lv->conn, on_close, lv, NULL);
	virConnectGetLibVersion(lv->conn, &lv->lib_version);
	virConnectGetVersion(lv->conn, &lv->hv_version);
	lv->interrupt_timer = virEventAddTimeout(50, on_interrupt_check, lv,
						 NULL);
	lv->lifecycle_cb = virConnectDomainEventRegisterAny(
		lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), lv, NULL);
	lv->destroyer = g_thread_pool_new(destroy_job, lv, 2, FALSE, NULL);
	return &lv->parent;
fail:
	lv_close(&lv->parent);
	return NULL;
}

/* A guest's own connection (see LvVm.conn): a new one to a daemon, with
 * the keepalive and close callback of the backend's; the embedded
 * driver's connection (no RPC) is shared. */
static virConnectPtr cell_connect(Lv *lv, GError **error)
{
	virConnectPtr conn;

	if (lv->root) {
		virConnectRef(lv->conn);
		return lv->conn;
	}
	conn = virConnectOpen(lv->parent.uri);
	if (!conn) {
		set_virt_error(error, HH_ERROR_FAILED,
			       "cannot connect to libvirt at '%s'",
			       lv->parent.uri);
		return NULL;
	}
	virConnectSetKeepAlive(conn, 5, 2);
	virConnectRegisterCloseCallback(conn, on_close, lv, NULL);
	return conn;
}

/* Is the pid in a domain's metadata a live process of this machine? */
static gboolean owner_alive(virDomainPtr dom)
{
	g_autofree char *meta = virDomainGetMetadata(
		dom, VIR_DOMAIN_METADATA_ELEMENT, HH_XMLNS,
		VIR_DOMAIN_AFFECT_LIVE);
	const char *p;
	g_autofree char *host = NULL;

	if (!meta || !(p = strstr(meta, "pid=\"")))
		return FALSE;
	host = g_strdup_printf("host=\"%s\"", g_get_host_name());
	if (!strstr(meta, host))
		return TRUE;	/* another machine's: not ours to judge */
	return kill(atoi(p + 5), 0) == 0 || errno == EPERM;
}

/* QEMU processes of an embedded root nobody holds: a killed harness's.
 * They are known by their pid files and their "-name guest=hh-..." */
static guint reap_free_root(const char *root)
{
	g_autofree char *dir = g_build_filename(root, "run", "qemu", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint removed = 0;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *pidfile = NULL, *pid = NULL, *cmd = NULL;
		g_autofree char *proc = NULL;
		gsize len = 0;
		int p;

		if (!g_str_has_suffix(name, ".pid"))
			continue;
		pidfile = g_build_filename(dir, name, NULL);
		if (!g_file_get_contents(pidfile, &pid, NULL, NULL) ||
		    (p = atoi(pid)) <= 1)
			continue;
		proc = g_strdup_printf("/proc/%d/cmdline", p);
		if (!g_file_get_contents(proc, &cmd, &len, NULL) ||
		    !memmem(cmd, len, "guest=hh-", 9))
			continue;
		if (kill(p, SIGKILL) == 0) {
			fprintf(stderr, "libvirt: killed %.*s (pid %d), left "
				"running by a harness that was killed\n",
				(int)(strlen(name) - 4), name, p);
			removed++;
		}
	}
	return removed;
}

/* Destroys the running domains pick() chooses; returns how many. */
static guint destroy_picked(Lv *lv, const char *prefix,
			    gboolean (*pick)(Lv *lv, virDomainPtr dom),
			    GError **error)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(lv->conn, &doms,
					 VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	guint removed = 0;

	if (n < 0) {
		set_virt_error(error, HH_ERROR_FAILED, "listing domains");
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);

		if (name && g_str_has_prefix(name, prefix) &&
		    (!pick || pick(lv, doms[i])) &&
		    virDomainDestroy(doms[i]) == 0)
			removed++;
		virDomainFree(doms[i]);
	}
	free(doms);
	return removed;
}

/* In our own embedded root every hh- domain is a dead run's; on a
 * daemon, only those whose owner is gone. */
static gboolean stale(Lv *lv, virDomainPtr dom)
{
	if (!lv->root && owner_alive(dom))
		return FALSE;
	fprintf(stderr, "libvirt: removed domain %s, left running by a "
		"harness that was killed\n", virDomainGetName(dom));
	return TRUE;
}

static guint lv_reap_stale(HhVmBackend *b, GError **error)
{
	Lv *lv = (Lv *)b;
	guint removed = destroy_picked(lv, "hh-", stale, error);

	if (error && *error)
		return 0;
	/* The other embedded roots: those whose owner died. */
	for (guint i = 0; lv->root && i < EMBED_ROOTS; i++) {
		g_autofree char *parent = g_path_get_dirname(lv->root);
		g_autofree char *root = g_strdup_printf("%s/%u", parent, i);
		g_autofree char *lock = g_strdup_printf("%s.lock", root);
		int fd;

		if (g_str_equal(root, lv->root) ||
		    (fd = open(lock, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			removed += reap_free_root(root);
		close(fd);
	}
	return removed;
}

/* ---- the host as a whole (several hosts: hosts.c) ---- */

static gboolean lv_capacity(HhVmBackend *b, guint *cpus, guint64 *memory,
			    GError **error)
{
	Lv *lv = (Lv *)b;
	virNodeInfo info;
	unsigned long long free_mem;

	if (virNodeGetInfo(lv->conn, &info) < 0) {
		set_virt_error(error, HH_ERROR_FAILED, "asking %s for its CPUs",
			       b->uri ? b->uri : "libvirt");
		return FALSE;
	}
	free_mem = virNodeGetFreeMemory(lv->conn);
	*cpus = info.cpus;
	/* 0 is also the error return: then what the host has in all. */
	*memory = free_mem ? free_mem : (guint64)info.memory << 10;
	return TRUE;
}

/* A call that needs the daemon: fails at once on a closed connection, and
 * within the keepalive's bound on a hung one. */
static gboolean lv_alive(HhVmBackend *b)
{
	Lv *lv = (Lv *)b;
	unsigned long ver;

	gboolean ok;

	if (g_atomic_int_get(&lv->lost) || virConnectIsAlive(lv->conn) != 1)
		return FALSE;
	/* One thread at a time in an RPC on the shared connection. */
	g_mutex_lock(&lv->rpc_lock);
	ok = virConnectGetVersion(lv->conn, &ver) == 0;
	g_mutex_unlock(&lv->rpc_lock);
	return ok && !g_atomic_int_get(&lv->lost);
}

static guint lv_reap_prefix(HhVmBackend *b, const char *prefix,
			    GError **error)
{
	/* Transient domains: destroyed is gone. */
	return destroy_picked((Lv *)b, prefix, NULL, error);
}

/* ---- files on the host that runs the guest ---- */

static virStoragePoolPtr harness_pool(virConnectPtr conn, GError **error)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName(conn, POOL_NAME);
	static const char xml[] =
		"<pool type='dir'><name>" POOL_NAME "</name><target><path>"
		POOL_PATH "</path></target></pool>";

	if (pool) {
		if (!virStoragePoolIsActive(pool))
			virStoragePoolCreate(pool, 0);
		return pool;
	}
	pool = virStoragePoolCreateXML(conn, xml,
				       VIR_STORAGE_POOL_CREATE_WITH_BUILD);
	if (!pool)
		set_virt_error(error, HH_ERROR_FAILED,
			       "creating storage pool %s", POOL_NAME);
	return pool;
}

static int send_file(virStreamPtr st, char *buf, size_t n, void *opaque)
{
	return (int)read(*(int *)opaque, buf, n);
}

static gboolean upload(virConnectPtr conn, virStorageVolPtr vol,
		       const char *local, long long size, GError **error)
{
	virStreamPtr st = virStreamNew(conn, 0);
	int fd = open(local, O_RDONLY | O_CLOEXEC);
	gboolean ok = st && fd >= 0 &&
		      virStorageVolUpload(vol, st, 0, (unsigned long long)size,
					  0) == 0 &&
		      virStreamSendAll(st, send_file, &fd) == 0 &&
		      virStreamFinish(st) == 0;

	if (!ok) {
		set_virt_error(error, HH_ERROR_FAILED, "uploading %s to pool %s",
			       local, POOL_NAME);
		if (st)
			virStreamAbort(st);
	}
	if (st)
		virStreamFree(st);
	if (fd >= 0)
		close(fd);
	return ok;
}

static char *vol_xml(const char *name, long long size)
{
	return g_strdup_printf("<volume><name>%s</name><capacity unit='bytes'>"
			       "%lld</capacity><target><format type='raw'/>"
			       "</target></volume>", name, size);
}

/*
 * The path of a copy of a local file on the libvirt host, uploaded once
 * and kept under its content hash (a second run uploads nothing).  The
 * upload goes to NAME.part, copied to NAME when whole, so a killed upload
 * never passes for a finished one.
 */
static char *remote_copy(Lv *lv, const char *local, GError **error)
{
	g_autofree char *sum = hh_sha256_file(local, error);
	g_autofree char *base = g_path_get_basename(local);
	g_autofree char *vname = NULL, *part = NULL, *xml = NULL, *pxml = NULL;
	virStoragePoolPtr pool = NULL;
	virStorageVolPtr vol = NULL, pv = NULL;
	char *path = NULL;
	GStatBuf st;
	gint64 t0;

	if (!sum)
		return NULL;
	vname = g_strdup_printf("hh-%.16s-%s", sum, base);
	part = g_strdup_printf("%s.part", vname);
	g_mutex_lock(&lv->lock);
	path = g_strdup(g_hash_table_lookup(lv->uploads, vname));
	if (path)
		goto out;
	pool = harness_pool(lv->conn, error);
	if (!pool)
		goto out;
	virStoragePoolRefresh(pool, 0);
	vol = virStorageVolLookupByName(pool, vname);
	if (!vol) {
		if (g_stat(local, &st) < 0) {
			g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
				    "cannot read '%s': %s", local,
				    g_strerror(errno));
			goto out;
		}
		pv = virStorageVolLookupByName(pool, part);
		if (pv) {
			virStorageVolDelete(pv, 0);
			virStorageVolFree(pv);
		}
		pxml = vol_xml(part, (long long)st.st_size);
		xml = vol_xml(vname, (long long)st.st_size);
		pv = virStorageVolCreateXML(pool, pxml, 0);
		if (!pv) {
			set_virt_error(error, HH_ERROR_FAILED,
				       "creating volume %s", part);
			goto out;
		}
		t0 = hh_now_ms();
		if (!upload(lv->conn, pv, local, (long long)st.st_size, error))
			goto out;
		vol = virStorageVolCreateXMLFrom(pool, xml, pv, 0);
		if (!vol) {
			set_virt_error(error, HH_ERROR_FAILED,
				       "creating volume %s", vname);
			goto out;
		}
		fprintf(stderr, "libvirt: uploaded %s to %s (pool %s), %.1f MB "
			"in %" G_GINT64_FORMAT " ms\n", local, lv->parent.uri,
			POOL_NAME, st.st_size / 1e6, hh_now_ms() - t0);
	}
	path = virStorageVolGetPath(vol);
	if (!path)
		set_virt_error(error, HH_ERROR_FAILED, "path of volume %s",
			       vname);
	else
		g_hash_table_insert(lv->uploads, g_strdup(vname),
				    g_strdup(path));
out:
	g_mutex_unlock(&lv->lock);
	if (pv) {
		virStorageVolDelete(pv, 0);
		virStorageVolFree(pv);
	}
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	return path;
}

/* ---- saved states: one image, many guests ---- */

/* Each restored guest gets its own copy of the image, renamed
 * (libvirt-save-image.h says why): here a local copy, in the cell's run
 * directory. */
static char *local_restore_copy(LvVm *v, const char *image,
				const char *run_dir, GError **error)
{
	g_autofree char *copy = g_build_filename(run_dir, "state", NULL);
	g_autofree guint8 *head = NULL, *fresh = NULL;
	gsize region;
	int in = -1, out = -1;
	gboolean ok = FALSE;
	struct stat st;
	off_t off;

	in = open(image, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0)
		goto sys_fail;
	head = g_malloc(HH_SAVE_IMAGE_HEADER);
	if (pread(in, head, HH_SAVE_IMAGE_HEADER, 0) != HH_SAVE_IMAGE_HEADER ||
	    !(region = hh_save_image_header_size(head, HH_SAVE_IMAGE_HEADER)) ||
	    (off_t)region > st.st_size) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "'%s' is not a libvirt save image", image);
		goto out;
	}
	head = g_realloc(head, region);
	if (pread(in, head, region, 0) != (ssize_t)region)
		goto sys_fail;
	fresh = hh_save_image_rename(head, region, v->name, v->uuid, error);
	if (!fresh)
		goto out;
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0 || write(out, fresh, region) != (ssize_t)region)
		goto sys_fail;
	off = (off_t)region;
	while (off < st.st_size) {
		ssize_t n = copy_file_range(in, &off, out, NULL,
					    (size_t)(st.st_size - off), 0);

		if (n <= 0)
			goto sys_fail;
	}
	ok = TRUE;
	goto out;
sys_fail:
	g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
		    "copying the saved state '%s': %s", image,
		    g_strerror(errno));
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (!ok) {
		g_unlink(copy);
		return NULL;
	}
	return g_steal_pointer(&copy);
}

static int recv_into(virStreamPtr st, const char *buf, size_t n, void *opaque)
{
	g_byte_array_append(opaque, (const guint8 *)buf, (guint)n);
	return (int)n;
}

static int send_bytes(virStreamPtr st, char *buf, size_t n, void *opaque)
{
	GByteArray *a = opaque;
	size_t k = MIN(n, a->len);

	memcpy(buf, a->data, k);
	g_byte_array_remove_range(a, 0, (guint)k);
	return (int)k;
}

/* The same on a daemon's host, through its storage pool: the image is
 * cloned there (libvirt copies it), and only the header region travels. */
static char *pool_restore_copy(LvVm *v, const char *image, GError **error)
{
	g_autofree char *base = g_path_get_basename(image);
	g_autofree char *cname = g_strdup_printf("restore-%s", v->uuid);
	g_autofree char *cxml = NULL;
	g_autoptr(GByteArray) head = g_byte_array_new();
	g_autofree guint8 *fresh = NULL;
	virStoragePoolPtr pool = harness_pool(vm_conn(v), error);
	virStorageVolPtr src = NULL, dst = NULL;
	virStreamPtr st = NULL;
	virStorageVolInfo info;
	char *path = NULL;
	gsize region;

	if (!pool)
		return NULL;
	virStoragePoolRefresh(pool, 0);
	src = virStorageVolLookupByName(pool, base);
	if (!src || virStorageVolGetInfo(src, &info) < 0) {
		set_virt_error(error, HH_ERROR_FAILED, "saved state %s", image);
		goto out;
	}
	st = virStreamNew(vm_conn(v), 0);
	if (!st || virStorageVolDownload(src, st, 0, HH_SAVE_IMAGE_HEADER, 0) < 0 ||
	    virStreamRecvAll(st, recv_into, head) < 0 ||
	    virStreamFinish(st) < 0 ||
	    !(region = hh_save_image_header_size(head->data, head->len))) {
		set_virt_error(error, HH_ERROR_FAILED,
			       "reading the header of %s", image);
		goto out;
	}
	virStreamFree(st);
	g_byte_array_set_size(head, 0);
	st = virStreamNew(vm_conn(v), 0);
	if (!st || virStorageVolDownload(src, st, 0, region, 0) < 0 ||
	    virStreamRecvAll(st, recv_into, head) < 0 ||
	    virStreamFinish(st) < 0 || head->len != region) {
		set_virt_error(error, HH_ERROR_FAILED,
			       "reading the header of %s", image);
		goto out;
	}
	virStreamFree(st);
	st = NULL;
	fresh = hh_save_image_rename(head->data, region, v->name, v->uuid, error);
	if (!fresh)
		goto out;
	cxml = vol_xml(cname, (long long)info.capacity);
	dst = virStorageVolCreateXMLFrom(pool, cxml, src, 0);
	if (!dst) {
		set_virt_error(error, HH_ERROR_FAILED, "copying %s", image);
		goto out;
	}
	g_byte_array_set_size(head, 0);
	g_byte_array_append(head, fresh, (guint)region);
	st = virStreamNew(vm_conn(v), 0);
	if (!st || virStorageVolUpload(dst, st, 0, region, 0) < 0 ||
	    virStreamSendAll(st, send_bytes, head) < 0 ||
	    virStreamFinish(st) < 0) {
		set_virt_error(error, HH_ERROR_FAILED,
			       "writing the header of the copy of %s", image);
		virStorageVolDelete(dst, 0);
		goto out;
	}
	path = virStorageVolGetPath(dst);
out:
	if (st)
		virStreamFree(st);
	if (src)
		virStorageVolFree(src);
	if (dst)
		virStorageVolFree(dst);
	virStoragePoolFree(pool);
	return path;
}

static void drop_restore_copy(LvVm *v)
{
	virStorageVolPtr vol;

	if (v->lv->root) {
		g_unlink(v->restore_copy);
		return;
	}
	vol = virStorageVolLookupByPath(vm_conn(v), v->restore_copy);
	if (vol) {
		virStorageVolDelete(vol, 0);
		virStorageVolFree(vol);
	}
}

/* ---- one guest ---- */

static void lv_free_vm(HhVm *vm)
{
	LvVm *v = (LvVm *)vm;

	g_mutex_lock(&v->lv->lock);
	if (v->name && g_hash_table_lookup(v->lv->vms, v->name) == v)
		g_hash_table_remove(v->lv->vms, v->name);
	g_mutex_unlock(&v->lv->lock);
	for (guint i = 0; i < 2; i++) {
		g_clear_object(&v->streams[i]);
		hh_lv_pump_close(&v->ports[i]);
	}
	hh_lv_pump_close(&v->console);
	if (v->dom) {
		if (v->lv->destroyer)
			g_thread_pool_push(v->lv->destroyer, v->dom, NULL);
		else
			destroy_job(v->dom, v->lv);
	}
	if (v->transcript)
		fclose(v->transcript);
	g_mutex_clear(&v->tlock);
	if (v->vcpus)
		g_hash_table_unref(v->vcpus);
	if (v->restore_copy)
		drop_restore_copy(v);
	if (v->conn) {
		/* The destroyer's domain keeps the connection as long as it
		 * needs it. */
		if (v->conn != v->lv->conn) {
			virConnectUnregisterCloseCallback(v->conn, on_close);
			virConnectClose(v->conn);
		} else {
			virConnectClose(v->conn);
		}
	}
	g_free(v->name);
	g_free(v->uuid);
	g_free(v->xml);
	g_free(v->restore_copy);
	g_free(v);
}

static gboolean open_streams(LvVm *v, const char *console_log,
			     gboolean append, GError **error)
{
	static const char *const names[2] = { HHP_PORT_CONTROL, HHP_PORT_LOG };
	virStreamPtr st;
	int fd;

	fd = open(console_log, O_WRONLY | O_CREAT | O_CLOEXEC |
			       (append ? O_APPEND : O_TRUNC), 0644);
	if (fd < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "cannot open '%s': %s", console_log,
			    g_strerror(errno));
		return FALSE;
	}
	st = virStreamNew(vm_conn(v), VIR_STREAM_NONBLOCK);
	if (!st || virDomainOpenConsole(v->dom, NULL, st,
					VIR_DOMAIN_CONSOLE_FORCE) < 0) {
		set_virt_error(error, HH_ERROR_QEMU, "opening the console of %s",
			       v->name);
		close(fd);
		if (st)
			virStreamFree(st);
		return FALSE;
	}
	v->console = hh_lv_pump_to_file(st, fd, error);
	if (!v->console)
		return FALSE;
	for (guint i = 0; i < 2; i++) {
		st = virStreamNew(vm_conn(v), VIR_STREAM_NONBLOCK);
		if (!st || virDomainOpenChannel(v->dom, names[i], st, 0) < 0) {
			set_virt_error(error, HH_ERROR_QEMU,
				       "opening channel %s of %s", names[i],
				       v->name);
			if (st)
				virStreamFree(st);
			return FALSE;
		}
		v->streams[i] = hh_lv_pump_to_stream(st, &v->ports[i], error);
		if (!v->streams[i])
			return FALSE;
	}
	tlog(v, "opened console and channels %s, %s", names[0], names[1]);
	return TRUE;
}

/* A state saved on a daemon's host is known here by a small handle file
 * naming the path there. */
static char *state_path(Lv *lv, const char *local, GError **error)
{
	g_autofree char *text = NULL;

	if (lv->root)
		return g_strdup(local);
	if (!g_file_get_contents(local, &text, NULL, error))
		return NULL;
	if (!g_str_has_prefix(text, STATE_HANDLE)) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "'%s' is not a libvirt state handle", local);
		return NULL;
	}
	return g_strdup(g_strstrip(text + strlen(STATE_HANDLE)));
}

static HhVm *lv_start(HhVmBackend *b, const HhVmConfig *cfg,
		      unsigned int flags, GError **error)
{
	Lv *lv = (Lv *)b;
	LvVm *v = g_new0(LvVm, 1);
	g_autofree char *kernel = NULL, *initrd = NULL, *state = NULL;
	gint64 t0 = hh_now_ms();

	v->parent.backend = b;
	v->lv = lv;
	v->variant = cfg->variant;
	g_mutex_init(&v->tlock);
	v->vcpus = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < cfg->variant->cpus && i < 64; i++)
		v->vcpus_on |= G_GUINT64_CONSTANT(1) << i;
	v->next_slot = cfg->variant->slots;
	v->name = cfg->name ? g_strdup(cfg->name) :
			      g_strdup_printf("hh-%d-%u", (int)getpid(),
					      g_random_int());
	if (cfg->transcript)
		v->transcript = fopen(cfg->transcript, "we");
	if (!check_layout(cfg->variant, error))
		goto fail;
	v->conn = cell_connect(lv, error);
	if (!v->conn)
		goto fail;
	if (lv->root) {
		kernel = g_strdup(cfg->kernel);
		initrd = g_strdup(cfg->initrd);
	} else if (cfg->image) {
		g_set_error(error, HH_ERROR, HH_ERROR_UNSUPPORTED,
			    "libvirt at %s: distro images need a local libvirt "
			    "(the image is a file on this machine)", b->uri);
		goto fail;
	} else {
		kernel = remote_copy(lv, cfg->kernel, error);
		initrd = kernel ? remote_copy(lv, cfg->initrd, error) : NULL;
		if (!initrd)
			goto fail;
	}
	v->uuid = g_uuid_string_random();
	v->xml = domain_xml(cfg, v->name, v->uuid, kernel, initrd,
			    lv->root ? cfg->run_dir : NULL);
	if (cfg->restore_from) {
		state = state_path(lv, cfg->restore_from, error);
		if (!state)
			goto fail;
		v->restore_copy = lv->root ?
			local_restore_copy(v, state, cfg->run_dir, error) :
			pool_restore_copy(v, state, error);
		if (!v->restore_copy)
			goto fail;
		tlog(v, "renamed copy of the state made in %" G_GINT64_FORMAT
		     " ms", hh_now_ms() - t0);
		tlog(v, "virDomainRestoreFlags %s (paused), a copy of %s "
		     "renamed", v->restore_copy, state);
		if (virDomainRestoreFlags(v->conn, v->restore_copy, v->xml,
					  VIR_DOMAIN_SAVE_PAUSED) < 0) {
			set_virt_error(error, HH_ERROR_QEMU,
				       "restoring %s from %s", v->name, state);
			goto fail;
		}
		v->dom = virDomainLookupByName(v->conn, v->name);
		tlog(v, "restored after %" G_GINT64_FORMAT " ms", hh_now_ms() - t0);
		/* QEMU has read the whole state by now. */
		drop_restore_copy(v);
		g_clear_pointer(&v->restore_copy, g_free);
	} else {
		tlog(v, "virDomainCreateXML (paused)\n%s", v->xml);
		v->dom = virDomainCreateXML(v->conn, v->xml,
					    VIR_DOMAIN_START_PAUSED);
	}
	if (!v->dom) {
		set_virt_error(error, HH_ERROR_QEMU, "starting domain %s",
			       v->name);
		goto fail;
	}
	g_mutex_lock(&lv->lock);
	g_hash_table_replace(lv->live, g_strdup(v->name), v->dom);
	virDomainRef(v->dom);
	g_hash_table_replace(lv->vms, v->name, v);
	g_mutex_unlock(&lv->lock);
	if (hh_spawn_interrupted()) {
		g_set_error(error, HH_ERROR, HH_ERROR_CANCELLED, "interrupted");
		goto fail;
	}
	if (!open_streams(v, cfg->console_log, cfg->console_append, error))
		goto fail;
	if (virDomainResume(v->dom) < 0) {
		set_virt_error(error, HH_ERROR_QEMU, "resuming %s", v->name);
		goto fail;
	}
	tlog(v, "running after %" G_GINT64_FORMAT " ms", hh_now_ms() - t0);
	return &v->parent;
fail:
	if (v->transcript && error && *error)
		tlog(v, "failed: %s", (*error)->message);
	/* Gone before returning, not later in the background: the caller
	 * may start a guest of the same name at once (a cold boot after a
	 * failed restore). */
	if (v->dom && virDomainIsActive(v->dom) == 1)
		virDomainDestroy(v->dom);
	lv_free_vm(&v->parent);
	return NULL;
}

static GIOStream *lv_open_port(HhVm *vm, const char *name,
			       unsigned int flags, GError **error)
{
	LvVm *v = (LvVm *)vm;
	int i = g_str_equal(name, HHP_PORT_CONTROL) ? 0 :
		g_str_equal(name, HHP_PORT_LOG)     ? 1 : -1;

	if (i < 0 || !v->streams[i]) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "no virtio-serial port named '%s' (or opened twice)",
			    name);
		return NULL;
	}
	return g_steal_pointer(&v->streams[i]);
}

static gboolean lv_running(HhVm *vm)
{
	LvVm *v = (LvVm *)vm;

	return v->dom && !v->gone && virDomainIsActive(v->dom) == 1;
}

static gboolean lv_wait(HhVm *vm, guint timeout_ms, unsigned int flags,
			GError **error)
{
	LvVm *v = (LvVm *)vm;
	gint64 deadline = hh_now_ms() + timeout_ms, next_poll = 0;

	/* The guest's shutdown (libvirt's lifecycle event) is the end; the
	 * domain's teardown goes on without the cell.  Asking whether the
	 * domain still runs is the fallback: every 5 ms in process (the
	 * embedded driver), every 100 ms over a connection, where 200 calls a
	 * second per cell queue up in the daemon and delay the event. */
	while (!g_atomic_int_get(&v->powered_off)) {
		if (hh_now_ms() >= next_poll) {
			if (!lv_running(vm) && !g_atomic_int_get(&v->lv->lost))
				break;
			next_poll = hh_now_ms() + (v->lv->root ? 5 : 100);
		}
		if (hh_spawn_interrupted()) {
			g_set_error(error, HH_ERROR, HH_ERROR_CANCELLED,
				    "interrupted");
			return FALSE;
		}
		if (g_atomic_int_get(&v->lv->lost)) {
			g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
				    "the connection to %s was lost",
				    v->lv->parent.uri ? v->lv->parent.uri :
				    "libvirt");
			return FALSE;
		}
		if (timeout_ms && hh_now_ms() > deadline) {
			virDomainDestroy(v->dom);
			g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
				    "domain %s still running after %u ms",
				    v->name, timeout_ms);
			return FALSE;
		}
		g_usleep(5 * 1000);
	}
	tlog(v, "the guest powered off");
	for (guint i = 0; i < 2; i++)
		hh_lv_pump_drain(v->ports[i], hh_now_ms() + 500);
	return TRUE;
}

static void lv_kill(HhVm *vm, unsigned int flags)
{
	LvVm *v = (LvVm *)vm;

	/* A guest that powered off is destroyed when the VM is freed, out of
	 * the cell's way; any other is destroyed now. */
	if (v->dom && !g_atomic_int_get(&v->powered_off) &&
	    virDomainIsActive(v->dom) == 1) {
		tlog(v, "virDomainDestroy");
		virDomainDestroy(v->dom);
	}
	v->gone = TRUE;
}

static char *lv_describe(HhVm *vm, unsigned int flags)
{
	LvVm *v = (LvVm *)vm;

	return g_strdup_printf("<!-- hotplug-harness: virsh -c '%s' create "
			       "domain.xml -->\n%s",
			       v->lv->root ? "qemu:///embed?root=..." :
					     v->lv->parent.uri, v->xml);
}

static char *lv_last_words(HhVm *vm)
{
	LvVm *v = (LvVm *)vm;
	g_autofree char *path = NULL, *text = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *keep;
	guint n;

	if (!v->lv->root)
		return NULL;
	path = g_strdup_printf("%s/log/qemu/%s.log", v->lv->root, v->name);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	/* QEMU's own lines, not libvirt's start-up banner. */
	lines = g_strsplit(g_strstrip(text), "\n", -1);
	keep = g_ptr_array_new();
	for (guint i = 0; lines[i]; i++) {
		const char *p = strstr(lines[i], "qemu-system-");

		/* "...Z qemu-system-x86_64: message", not the command line */
		if (p && p[strcspn(p, " :")] == ':')
			g_ptr_array_add(keep, lines[i]);
	}
	n = keep->len;
	g_ptr_array_add(keep, NULL);
	{
		char *out = n ? g_strjoinv("\n", (char **)keep->pdata +
					   (n > 5 ? n - 5 : 0)) : NULL;

		g_ptr_array_free(keep, TRUE);
		return out;
	}
}

static char *lv_identity(HhVmBackend *b, const HhVmConfig *cfg,
			 unsigned int flags)
{
	Lv *lv = (Lv *)b;
	g_autofree char *xml = domain_xml(cfg, "@name", "@uuid", "@kernel",
					  "@initrd", lv->root ? "@run" : NULL);
	g_autoptr(GRegex) pid = g_regex_new("pid=\"[0-9]+\"", 0, 0, NULL);
	g_autofree char *same = NULL;

	/* The owner's pid differs between runs, not between states (all of
	 * it: a pid of another length is the same state). */
	same = g_regex_replace_literal(pid, xml, -1, 0, "pid=\"0\"", 0, NULL);
	return g_strdup_printf("libvirt %lu qemu %lu at %s\n%s",
			       lv->lib_version, lv->hv_version,
			       b->uri ? b->uri : "embed", same ? same : xml);
}

static gboolean lv_save_state(HhVm *vm, const char *path, guint timeout_ms,
			      unsigned int flags, GError **error)
{
	LvVm *v = (LvVm *)vm;
	g_autofree char *there = NULL;
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *key = g_path_get_basename(dir);

	there = v->lv->root ? g_strdup(path) :
		g_strdup_printf("%s/state-%s", POOL_PATH, key);
	tlog(v, "virDomainSaveFlags %s", there);
	if (!v->lv->root) {
		virStoragePoolPtr pool = harness_pool(vm_conn(v), error);

		if (!pool)
			return FALSE;
		virStoragePoolFree(pool);
	}
	if (virDomainSaveFlags(v->dom, there, NULL, 0) < 0) {
		set_virt_error(error, HH_ERROR_QEMU, "saving %s to %s", v->name,
			       there);
		return FALSE;
	}
	v->gone = TRUE;
	if (!v->lv->root) {
		g_autofree char *handle = g_strdup_printf(STATE_HANDLE "%s\n",
							  there);

		return hh_write_file(path, handle, -1, error);
	}
	return TRUE;
}

/* QMP through libvirt; *reply (transfer full) may be NULL. */
static gboolean qmp_pass(LvVm *v, const char *cmd, char **reply,
			 GError **error)
{
	char *out = NULL;

	tlog(v, "virDomainQemuMonitorCommand %s", cmd);
	if (virDomainQemuMonitorCommand(v->dom, cmd, &out, 0) < 0) {
		set_virt_error(error, HH_ERROR_QMP, "QMP passthrough");
		return FALSE;
	}
	tlog(v, "  -> %s", out);
	if (strstr(out, "\"error\"")) {
		g_set_error(error, HH_ERROR, HH_ERROR_QMP, "QEMU refused %s: %s",
			    cmd, out);
		free(out);
		return FALSE;
	}
	if (reply)
		*reply = g_strdup(out);
	free(out);
	return TRUE;
}

static gboolean node_is_memoryless(const HhVariant *var, gint node)
{
	for (guint i = 0; i < var->nodes->len; i++) {
		const HhNode *n = var->nodes->pdata[i];

		if ((gint)n->id == node)
			return n->memory == 0;
	}
	return FALSE;
}

static gboolean valid_id(const char *id, GError **error)
{
	for (const char *p = id; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "device id '%s': the libvirt backend takes "
				    "letters, digits, '-' and '_'", id);
			return FALSE;
		}
	}
	return TRUE;
}

/* object-add memory-backend-ram "mem-<id>" of size, then the device_add
 * command dev; the backend goes again if QEMU refuses the device. */
static gboolean qmp_pass_memory_device(LvVm *v, const char *id, guint64 size,
				       const char *dev, GError **error)
{
	g_autofree char *obj = g_strdup_printf(
		"{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":"
		"\"memory-backend-ram\",\"id\":\"mem-%s\",\"size\":%"
		G_GUINT64_FORMAT "}}", id, size);
	g_autofree char *del = NULL;

	if (!qmp_pass(v, obj, NULL, error))
		return FALSE;
	if (qmp_pass(v, dev, NULL, error))
		return TRUE;
	del = g_strdup_printf("{\"execute\":\"object-del\",\"arguments\":"
			      "{\"id\":\"mem-%s\"}}", id);
	qmp_pass(v, del, NULL, NULL);
	return FALSE;
}

static gboolean lv_dimm_add(HhVm *vm, const char *id, guint64 size,
			    gint node, guint timeout_ms, unsigned int flags,
			    GError **error)
{
	LvVm *v = (LvVm *)vm;
	g_autofree char *xml = NULL;

	if (!valid_id(id, error))
		return FALSE;
	if (node >= 0 && node_is_memoryless(v->variant, node)) {
		/* libvirt knows no memoryless cell, so no DIMM for one:
		 * QEMU's own commands, in a slot libvirt fills last. */
		g_autofree char *dev = NULL;

		if (!v->next_slot) {
			g_set_error(error, HH_ERROR, HH_ERROR_QMP,
				    "no DIMM slot left for %s", id);
			return FALSE;
		}
		dev = g_strdup_printf(
			"{\"execute\":\"device_add\",\"arguments\":{\"driver\":"
			"\"pc-dimm\",\"id\":\"%s\",\"memdev\":\"mem-%s\","
			"\"node\":%d,\"slot\":%u}}", id, id, node,
			v->next_slot - 1);
		if (!qmp_pass_memory_device(v, id, size, dev, error))
			return FALSE;
		v->next_slot--;
		return TRUE;
	}
	xml = g_strdup_printf("<memory model='dimm'><target><size unit='KiB'>%"
			      G_GUINT64_FORMAT "</size><node>%d</node></target>"
			      "<alias name='ua-%s'/></memory>", size >> 10,
			      MAX(node, 0), id);
	tlog(v, "virDomainAttachDeviceFlags %s", xml);
	if (virDomainAttachDeviceFlags(v->dom, xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		set_virt_error(error, HH_ERROR_QMP, "hot-adding DIMM %s", id);
		return FALSE;
	}
	return TRUE;
}

/* The node of vCPU n, from the variant's sockets; -1 if none. */
static gint vcpu_node(const HhVariant *var, guint n)
{
	for (guint i = 0; i < var->nodes->len; i++) {
		const HhNode *node = var->nodes->pdata[i];

		for (guint c = 0; c < node->cpus->len; c++) {
			if (g_array_index(node->cpus, guint, c) == n / var->cores)
				return (gint)node->id;
		}
	}
	return -1;
}

static gboolean lv_vcpu_add(HhVm *vm, const char *id, gint node, gint socket,
			    guint timeout_ms, unsigned int flags,
			    GError **error)
{
	LvVm *v = (LvVm *)vm;
	const HhVariant *var = v->variant;
	g_autofree char *which = NULL;

	for (guint n = 0; n < var->maxcpus && n < 64; n++) {
		if ((v->vcpus_on >> n) & 1)
			continue;
		if (socket >= 0 && n / var->cores != (guint)socket)
			continue;
		if (node >= 0 && vcpu_node(var, n) != node)
			continue;
		which = g_strdup_printf("%u", n);
		tlog(v, "virDomainSetVcpu %s on", which);
		if (virDomainSetVcpu(v->dom, which, 1, VIR_DOMAIN_AFFECT_LIVE) < 0) {
			set_virt_error(error, HH_ERROR_QMP,
				       "hot-adding vCPU %s (%s)", which, id);
			return FALSE;
		}
		v->vcpus_on |= G_GUINT64_CONSTANT(1) << n;
		g_hash_table_replace(v->vcpus, g_strdup(id), GUINT_TO_POINTER(n));
		return TRUE;
	}
	g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
		    "no free vCPU for %s (node %d, socket %d; -1: any)", id,
		    node, socket);
	return FALSE;
}

static gboolean alias_present(LvVm *v, const char *alias)
{
	g_autofree char *xml = virDomainGetXMLDesc(v->dom, 0);
	g_autofree char *want = g_strdup_printf("<alias name='%s'/>", alias);

	return xml && strstr(xml, want);
}

static gboolean qmp_device_present(LvVm *v, const char *id)
{
	g_autofree char *out = NULL;
	g_autofree char *want = g_strdup_printf("\"id\": \"%s\"", id);
	g_autofree char *want2 = g_strdup_printf("\"id\":\"%s\"", id);

	if (!qmp_pass(v, "{\"execute\":\"query-memory-devices\"}", &out, NULL))
		return TRUE;
	return strstr(out, want) || strstr(out, want2);
}

static gboolean lv_device_del(HhVm *vm, const char *id, guint timeout_ms,
			      unsigned int flags, GError **error)
{
	LvVm *v = (LvVm *)vm;
	g_autofree char *alias = g_strdup_printf("ua-%s", id);
	gint64 deadline = hh_now_ms() + timeout_ms;
	gpointer vcpu;
	gboolean passthrough;

	if (g_hash_table_lookup_extended(v->vcpus, id, NULL, &vcpu)) {
		g_autofree char *which = g_strdup_printf(
			"%u", GPOINTER_TO_UINT(vcpu));

		tlog(v, "virDomainSetVcpu %s off", which);
		if (virDomainSetVcpu(v->dom, which, 0, VIR_DOMAIN_AFFECT_LIVE) < 0) {
			set_virt_error(error, HH_ERROR_QMP,
				       "removing vCPU %s (%s)", which, id);
			return FALSE;
		}
		v->vcpus_on &= ~(G_GUINT64_CONSTANT(1) << GPOINTER_TO_UINT(vcpu));
		g_hash_table_remove(v->vcpus, id);
		return TRUE;
	}
	passthrough = !alias_present(v, alias);
	if (passthrough) {
		g_autofree char *cmd = g_strdup_printf(
			"{\"execute\":\"device_del\",\"arguments\":{\"id\":"
			"\"%s\"}}", id);

		if (!qmp_pass(v, cmd, NULL, error))
			return FALSE;
	} else {
		tlog(v, "virDomainDetachDeviceAlias %s", alias);
		if (virDomainDetachDeviceAlias(v->dom, alias,
					       VIR_DOMAIN_AFFECT_LIVE) < 0) {
			set_virt_error(error, HH_ERROR_QMP, "removing %s", id);
			return FALSE;
		}
	}
	while (passthrough ? qmp_device_present(v, id) : alias_present(v, alias)) {
		if (hh_now_ms() > deadline) {
			g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
				    "the guest did not release %s within %u ms",
				    id, timeout_ms);
			return FALSE;
		}
		g_usleep(20 * 1000);
	}
	if (passthrough) {
		g_autofree char *del = g_strdup_printf(
			"{\"execute\":\"object-del\",\"arguments\":{\"id\":"
			"\"mem-%s\"}}", id);

		return qmp_pass(v, del, NULL, error);
	}
	return TRUE;
}

/* vCPUs added under an id go through virDomainSetVcpu, as in
 * lv_device_del. */
static gboolean lv_vcpu_del(HhVm *vm, const char *id, guint timeout_ms,
			    unsigned int flags, GError **error)
{
	LvVm *v = (LvVm *)vm;

	if (!g_hash_table_contains(v->vcpus, id)) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "no vCPU was added under the id '%s'", id);
		return FALSE;
	}
	return lv_device_del(vm, id, timeout_ms, flags, error);
}

/*
 * virtio-mem through QMP passthrough, as DIMMs on memoryless nodes: the
 * device stays out of libvirt's domain XML (libvirt could describe it, as
 * <memory model='virtio-mem'>, but only on a NUMA cell with memory).
 * device_del of it goes the passthrough way too, where QEMU 7.2 refuses.
 */
static gboolean lv_virtio_mem_add(HhVm *vm, const char *id, guint64 max_size,
				  gint node, guint64 block_size,
				  guint timeout_ms, unsigned int flags,
				  GError **error)
{
	LvVm *v = (LvVm *)vm;
	g_autofree char *dev = NULL, *node_arg = NULL;
	g_autofree char *block_arg = NULL;

	if (!valid_id(id, error))
		return FALSE;
	node_arg = node >= 0 ? g_strdup_printf(",\"node\":%d", node) :
			       g_strdup("");
	block_arg = block_size ? g_strdup_printf(",\"block-size\":%"
						 G_GUINT64_FORMAT, block_size) :
				 g_strdup("");
	dev = g_strdup_printf("{\"execute\":\"device_add\",\"arguments\":{"
			      "\"driver\":\"virtio-mem-pci\",\"id\":\"%s\","
			      "\"memdev\":\"mem-%s\",\"requested-size\":0%s%s}}",
			      id, id, node_arg, block_arg);
	return qmp_pass_memory_device(v, id, max_size, dev, error);
}

static gboolean lv_virtio_mem_resize(HhVm *vm, const char *id,
				     guint64 requested, guint timeout_ms,
				     unsigned int flags, GError **error)
{
	LvVm *v = (LvVm *)vm;
	g_autofree char *cmd = NULL;

	if (!valid_id(id, error))
		return FALSE;
	cmd = g_strdup_printf("{\"execute\":\"qom-set\",\"arguments\":{"
			      "\"path\":\"/machine/peripheral/%s\",\"property\":"
			      "\"requested-size\",\"value\":%" G_GUINT64_FORMAT
			      "}}", id, requested);
	return qmp_pass(v, cmd, NULL, error);
}

static gboolean lv_virtio_mem_query(HhVm *vm, const char *id,
				    guint64 *plugged, guint64 *requested,
				    guint timeout_ms, unsigned int flags,
				    GError **error)
{
	LvVm *v = (LvVm *)vm;
	g_autofree char *out = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonNode *ret;
	GError *err = NULL;

	if (!qmp_pass(v, "{\"execute\":\"query-memory-devices\"}", &out,
		      error))
		return FALSE;
	root = json_from_string(out, &err);
	ret = root && JSON_NODE_HOLDS_OBJECT(root) ?
		json_object_get_member(json_node_get_object(root), "return") :
		NULL;
	if (!ret || !JSON_NODE_HOLDS_ARRAY(ret)) {
		g_set_error(error, HH_ERROR, HH_ERROR_PROTOCOL,
			    "query-memory-devices through libvirt: no array in "
			    "%s%s%s", out, err ? ": " : "",
			    err ? err->message : "");
		g_clear_error(&err);
		return FALSE;
	}
	return hh_qmp_virtio_mem_find(json_node_get_array(ret), id, plugged,
				      requested, error);
}

static char *lv_dump_registers(HhVm *vm, guint timeout_ms,
			       unsigned int flags, GError **error)
{
	LvVm *v = (LvVm *)vm;
	char *out = NULL, *copy;

	if (virDomainQemuMonitorCommand(v->dom, "info registers -a", &out,
					VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0) {
		set_virt_error(error, HH_ERROR_QMP, "info registers");
		return NULL;
	}
	copy = g_strdup(out);
	free(out);
	return copy;
}

static guint64 lv_peak_rss_kb(HhVm *vm)
{
	LvVm *v = (LvVm *)vm;
	g_autofree char *pidfile = NULL, *pid = NULL, *status = NULL;
	g_autofree char *path = NULL;
	const char *p;

	if (v->lv->root) {
		pidfile = g_strdup_printf("%s/run/qemu/%s.pid", v->lv->root,
					  v->name);
		if (g_file_get_contents(pidfile, &pid, NULL, NULL)) {
			path = g_strdup_printf("/proc/%d/status", atoi(pid));
			if (g_file_get_contents(path, &status, NULL, NULL) &&
			    (p = strstr(status, "VmHWM:")))
				return g_ascii_strtoull(p + 6, NULL, 10);
		}
		return 0;
	}
	{
		virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
		int n = virDomainMemoryStats(v->dom, stats,
					     VIR_DOMAIN_MEMORY_STAT_NR, 0);

		for (int i = 0; i < n; i++) {
			if (stats[i].tag == VIR_DOMAIN_MEMORY_STAT_RSS)
				return stats[i].val;
		}
	}
	return 0;
}

/* On this machine the QEMU backend's probe answers for libvirt's QEMU too;
 * a remote host is not probed (--accel kvm says to use it). */
static gboolean lv_kvm_works(HhVmBackend *b, const char *kernel, char **why)
{
	Lv *lv = (Lv *)b;
	g_autofree char *host = NULL;

	if (!lv->root) {
		host = virConnectGetHostname(lv->conn);
		if (!host || !g_str_equal(host, g_get_host_name())) {
			*why = g_strdup_printf("KVM on libvirt host %s is not "
					       "probed; pass --accel kvm to use it",
					       host ? host : b->uri);
			return FALSE;
		}
	}
	return hh_vm_backend_qemu.kvm_works(b, kernel, why);
}

const HhVmBackendOps hh_vm_backend_libvirt = {
	.name = "libvirt",
	.kvm_works = lv_kvm_works,
	.replay_file = "domain.xml",
	.transcript_file = "libvirt.log",
	.reap_stale = lv_reap_stale,
	.start = lv_start,
	.open_port = lv_open_port,
	.wait = lv_wait,
	.running = lv_running,
	.kill = lv_kill,
	.describe = lv_describe,
	.last_words = lv_last_words,
	.identity = lv_identity,
	.save_state = lv_save_state,
	.dimm_add = lv_dimm_add,
	.vcpu_add = lv_vcpu_add,
	.device_del = lv_device_del,
	.vcpu_del = lv_vcpu_del,
	.virtio_mem_add = lv_virtio_mem_add,
	.virtio_mem_resize = lv_virtio_mem_resize,
	.virtio_mem_query = lv_virtio_mem_query,
	.dump_registers = lv_dump_registers,
	.peak_rss_kb = lv_peak_rss_kb,
	.free_vm = lv_free_vm,
	.close = lv_close,
	.capacity = lv_capacity,
	.alive = lv_alive,
	.reap_prefix = lv_reap_prefix,
};
