/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QEMU backend: one qemu-system-x86_64 process per guest, started
 * through spawn.c (argv only, own process group, killed with the harness),
 * with its QMP monitor and the agent's virtio-serial ports on Unix sockets
 * in the cell's private run directory.
 */
#include "config.h"

#include "vm.h"
#include "hh-error.h"
#include "paths.h"
#include "qmp.h"
#include "qmp-cmd.h"
#include <json-glib/json-glib.h>
#include "spawn.h"
#include "util.h"
#include "hh-protocol.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000
#define QMP_TIMEOUT_MS 10000
#define LOAD_TIMEOUT_MS 20000	/* loading a saved state */

typedef struct {
	HhVm parent;
	HhChild *child;
	GPtrArray *argv;
	char *run_dir;
	char *stderr_log;
	HhQmp *qmp;
	GSocketConnection *qmp_conn;
	gboolean own_run_dir;	/* a warm pool's guest: its private dir */
	gboolean ram_files;	/* its RAM is in files (HhVmConfig.ram_dir) */
	char *stderr_copy_to;	/* its cell's stderr log, written at the end */
} QemuVm;

static void add(GPtrArray *argv, const char *s)
{
	g_ptr_array_add(argv, g_strdup(s));
}

static void addf(GPtrArray *argv, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void addf(GPtrArray *argv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(argv, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

static void add_socket(GPtrArray *argv, const char *dir, const char *id)
{
	add(argv, "-chardev");
	addf(argv, "socket,id=%s,path=%s/%s.sock,server=on,wait=off", id, dir,
	     id);
}

/* Which RAM backends a variant has: one per node with memory, else one
 * for the machine ("ram"). */
static gboolean numa_ram(const HhVariant *v)
{
	for (guint i = 0; i < v->nodes->len; i++) {
		if (((const HhNode *)v->nodes->pdata[i])->memory)
			return TRUE;
	}
	return FALSE;
}

/* A RAM backend: in the process, or in a file of cfg->ram_dir, shared
 * (written through) unless the guest restores (copy-on-write). */
static void add_ram_backend(GPtrArray *argv, const HhVmConfig *cfg,
			    gboolean restoring, const char *id, guint64 size)
{
	g_autofree char *sz = hh_format_size(size);

	add(argv, "-object");
	if (!cfg->ram_dir)
		addf(argv, "memory-backend-ram,id=%s,size=%s", id, sz);
	else
		addf(argv, "memory-backend-file,id=%s,size=%s,mem-path=%s/%s,"
		     "share=%s", id, sz, cfg->ram_dir, id,
		     restoring ? "off" : "on");
}

static void add_topology(GPtrArray *argv, const HhVmConfig *cfg,
			 gboolean restoring)
{
	const HhVariant *v = cfg->variant;
	g_autofree char *mem = hh_format_size(v->memory);

	add(argv, "-m");
	if (v->slots) {
		g_autofree char *max = hh_format_size(v->maxmem);

		addf(argv, "%s,slots=%u,maxmem=%s", mem, v->slots, max);
	} else if (v->maxmem > v->memory) {
		/* room for virtio-mem devices only, no DIMM slots */
		g_autofree char *max = hh_format_size(v->maxmem);

		addf(argv, "%s,maxmem=%s", mem, max);
	} else {
		add(argv, mem);
	}
	/* One socket per CPU by default, so each can be bound to any node. */
	add(argv, "-smp");
	addf(argv, "%u,maxcpus=%u,sockets=%u,cores=%u,threads=1", v->cpus,
	     v->maxcpus, v->maxcpus / v->cores, v->cores);
	for (guint i = 0; i < v->nodes->len; i++) {
		const HhNode *n = v->nodes->pdata[i];

		if (n->memory) {
			g_autofree char *id = g_strdup_printf("ram-node%u",
							      n->id);

			add_ram_backend(argv, cfg, restoring, id, n->memory);
			add(argv, "-numa");
			addf(argv, "node,nodeid=%u,memdev=ram-node%u", n->id,
			     n->id);
		} else {
			add(argv, "-numa");
			addf(argv, "node,nodeid=%u", n->id);
		}
	}
	for (guint i = 0; i < v->virtio_mems->len; i++) {
		const HhVirtioMem *m = v->virtio_mems->pdata[i];
		g_autofree char *size = hh_format_size(m->size);
		g_autoptr(GString) dev = g_string_new(NULL);

		add(argv, "-object");
		addf(argv, "memory-backend-ram,id=mem-%s,size=%s", m->id, size);
		g_string_printf(dev, "virtio-mem-pci,id=%s,memdev=mem-%s,"
				"requested-size=%" G_GUINT64_FORMAT, m->id,
				m->id, m->requested);
		if (m->node >= 0)
			g_string_append_printf(dev, ",node=%d", m->node);
		if (m->block)
			g_string_append_printf(dev, ",block-size=%"
					       G_GUINT64_FORMAT, m->block);
		add(argv, "-device");
		add(argv, dev->str);
	}
	for (guint i = 0; i < v->nodes->len; i++) {
		const HhNode *n = v->nodes->pdata[i];

		for (guint c = 0; c < n->cpus->len; c++) {
			add(argv, "-numa");
			addf(argv, "cpu,node-id=%u,socket-id=%u", n->id,
			     g_array_index(n->cpus, guint, c));
		}
	}
}

/* defer: the guest waits for a saved state to come over the monitor. */
static GPtrArray *build_argv(const HhVmConfig *cfg, gboolean defer)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	const char *dir = cfg->run_dir;
	gboolean restoring = defer;	/* a guest that loads a state */

	add(argv, hh_qemu_path());
	add(argv, "-machine");
	if (cfg->ram_dir && !numa_ram(cfg->variant))
		addf(argv, "%s,memory-backend=ram", cfg->variant->machine);
	else
		add(argv, cfg->variant->machine);
	/* One TCG thread for all vCPUs: a cell then keeps at most one host
	 * CPU busy, which is what the scheduler budgets for.  A variant may
	 * ask for one per vCPU: QEMU 7.2 aborts on a vCPU unplug under
	 * single-threaded TCG ("qemu_thread_join: Resource deadlock
	 * avoided"). */
	add(argv, "-accel");
	add(argv, cfg->accel == HH_ACCEL_KVM ? "kvm" :
		  cfg->variant->tcg_multi    ? "tcg,thread=multi" :
					       "tcg,thread=single");
	add(argv, "-nodefaults");
	add(argv, "-no-user-config");
	add(argv, "-display");
	add(argv, "none");
	add(argv, "-no-reboot");
	add_topology(argv, cfg, restoring);
	if (cfg->ram_dir) {
		if (!numa_ram(cfg->variant))
			add_ram_backend(argv, cfg, restoring, "ram",
					cfg->variant->memory);
	}
	add(argv, "-kernel");
	add(argv, cfg->kernel);
	if (cfg->initrd) {
		add(argv, "-initrd");
		add(argv, cfg->initrd);
	}
	if (cfg->image) {
		add(argv, "-drive");
		addf(argv, "file=%s,if=virtio,format=qcow2,discard=unmap",
		     cfg->disk);
	}
	add(argv, "-append");
	add(argv, cfg->cmdline);
	add(argv, "-chardev");
	addf(argv, "file,id=console,path=%s%s", cfg->console_log,
	     cfg->console_append ? ",append=on" : "");
	add(argv, "-serial");
	add(argv, "chardev:console");
	add(argv, "-device");
	add(argv, "virtio-serial-pci,id=vser0");
	add_socket(argv, dir, "control");
	add(argv, "-device");
	add(argv, "virtserialport,bus=vser0.0,chardev=control,name="
		  HHP_PORT_CONTROL);
	add_socket(argv, dir, "log");
	add(argv, "-device");
	add(argv, "virtserialport,bus=vser0.0,chardev=log,name=" HHP_PORT_LOG);
	add_socket(argv, dir, "qmp");
	add(argv, "-mon");
	add(argv, "chardev=qmp,mode=control");
	if (defer) {
		add(argv, "-incoming");
		add(argv, "defer");
	}
	g_ptr_array_add(argv, NULL);
	return argv;
}

static char *qemu_last_words(HhVm *vm)
{
	QemuVm *q = (QemuVm *)vm;
	g_autofree char *text = NULL, *how = NULL, *words = NULL;
	g_auto(GStrv) lines = NULL;
	int status;
	guint n;

	/* How it ended first: a signal says more than its stderr. */
	if (q->child && !g_subprocess_get_identifier(q->child->proc) &&
	    hh_child_wait(q->child, 0, &status, NULL))
		how = hh_wait_status_describe(status);
	if (g_file_get_contents(q->stderr_log, &text, NULL, NULL) && *text) {
		lines = g_strsplit(g_strstrip(text), "\n", -1);
		n = g_strv_length(lines);
		words = g_strjoinv("\n", lines + (n > 5 ? n - 5 : 0));
	}
	if (how && words)
		return g_strdup_printf("%s; its last words:\n%s", how, words);
	return how ? g_steal_pointer(&how) : g_steal_pointer(&words);
}

static gboolean qemu_running(HhVm *vm)
{
	QemuVm *q = (QemuVm *)vm;

	return q->child && g_subprocess_get_identifier(q->child->proc) != NULL;
}

static gboolean exited_error(QemuVm *q, const char *doing, GError **error)
{
	g_autofree char *words = qemu_last_words(&q->parent);

	if (hh_spawn_interrupted()) {
		g_set_error(error, HH_ERROR, HH_ERROR_CANCELLED, "interrupted");
		return FALSE;
	}
	g_set_error(error, HH_ERROR, HH_ERROR_QEMU,
		    "qemu exited while %s%s%s", doing, words ? ": " : "",
		    words ? words : "");
	return FALSE;
}

/* QEMU creates its sockets before the guest runs; retry until it has. */
static GSocketConnection *connect_socket(QemuVm *q, const char *id,
					 GError **error)
{
	g_autofree char *path = g_strdup_printf("%s/%s.sock", q->run_dir, id);
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
	gint64 deadline = hh_now_ms() + CONNECT_TIMEOUT_MS;

	while (TRUE) {
		g_autoptr(GError) err = NULL;
		GSocketConnection *c = g_socket_client_connect(
			client, G_SOCKET_CONNECTABLE(addr), NULL, &err);

		if (c)
			return c;
		if (!qemu_running(&q->parent)) {
			g_autofree char *doing = g_strdup_printf(
				"starting (no %s socket)", id);

			exited_error(q, doing, error);
			return NULL;
		}
		if (hh_now_ms() > deadline) {
			g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
				    "qemu did not open %s within %u ms: %s",
				    path, CONNECT_TIMEOUT_MS, err->message);
			return NULL;
		}
		g_usleep(10 * 1000);
	}
}

static void qemu_free(HhVm *vm)
{
	QemuVm *q = (QemuVm *)vm;

	g_clear_pointer(&q->qmp, hh_qmp_free);
	g_clear_object(&q->qmp_conn);
	g_clear_pointer(&q->child, hh_child_free);
	g_ptr_array_unref(q->argv);
	if (q->stderr_copy_to) {
		g_autofree char *text = NULL;
		gsize len = 0;

		if (g_file_get_contents(q->stderr_log, &text, &len, NULL))
			hh_write_file(q->stderr_copy_to, text, (gssize)len, NULL);
		g_free(q->stderr_copy_to);
	}
	if (q->own_run_dir)
		hh_rm_rf(q->run_dir, NULL);
	g_free(q->run_dir);
	g_free(q->stderr_log);
	g_free(q);
}

static HhQmp *qemu_monitor(QemuVm *q, const char *transcript,
			   GError **error);

/* A guest restoring with its RAM in files needs the snapshot's files,
 * whole: QEMU would make missing ones, empty. */
static gboolean ram_files_present(const HhVmConfig *cfg, GError **error)
{
	const HhVariant *v = cfg->variant;
	gboolean numa = numa_ram(v);
	guint n = numa ? v->nodes->len : 1;

	for (guint i = 0; cfg->ram_dir && i < n; i++) {
		const HhNode *node = numa ? v->nodes->pdata[i] : NULL;
		g_autofree char *path = NULL;
		guint64 size = node ? node->memory : v->memory;
		GStatBuf st;

		if (node && !node->memory)
			continue;
		path = node ? g_strdup_printf("%s/ram-node%u", cfg->ram_dir,
					      node->id) :
			      g_build_filename(cfg->ram_dir, "ram", NULL);
		if (g_stat(path, &st) < 0 || (guint64)st.st_size != size) {
			g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
				    "the snapshot's RAM file %s is missing or "
				    "not %" G_GUINT64_FORMAT " bytes", path,
				    size);
			return FALSE;
		}
	}
	return TRUE;
}

/* The saved state, for reading. */
static int open_state(const char *path, GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "cannot open the saved state '%s': %s", path,
			    g_strerror(errno));
	return fd;
}

/* "migrate" or "migrate-incoming" through fd (closed here), passed over
 * the monitor socket: no shell and no helper process in between. */
static gboolean migrate_over_fd(QemuVm *q, const char *command, int fd,
				GError **error)
{
	JsonObject *args;
	gboolean passed = hh_qmp_getfd_sync(q->qmp, "hh-state", fd,
					    QMP_TIMEOUT_MS, error);

	close(fd);
	if (!passed)
		return FALSE;
	args = json_object_new();
	json_object_set_string_member(args, "uri", "fd:hh-state");
	return hh_qmp_execute_sync(q->qmp, command, args, QMP_TIMEOUT_MS, NULL,
				   error);
}

static gboolean load_state(QemuVm *q, const char *path, guint timeout_ms,
			   GError **error);
static gboolean set_ignore_shared(QemuVm *q, GError **error);

static HhVm *qemu_start(HhVmBackend *b, const HhVmConfig *cfg,
			unsigned int flags, GError **error)
{
	QemuVm *q;

	if (cfg->restore_from && !ram_files_present(cfg, error))
		return NULL;
	q = g_new0(QemuVm, 1);
	q->parent.backend = b;
	q->run_dir = g_strdup(cfg->run_dir);
	q->stderr_log = g_strdup(cfg->stderr_log);
	q->ram_files = cfg->ram_dir != NULL;
	/* A restore waits for its state to come over the monitor, after
	 * the migration capabilities are set. */
	q->argv = build_argv(cfg, cfg->restore_from != NULL);
	q->child = hh_child_spawn((const char *const *)q->argv->pdata, NULL,
				  NULL, cfg->stderr_log, HH_SPAWN_NONE, error);
	if (!q->child || !qemu_monitor(q, cfg->transcript, error) ||
	    (cfg->restore_from &&
	     !load_state(q, cfg->restore_from, LOAD_TIMEOUT_MS, error))) {
		qemu_free(&q->parent);
		return NULL;
	}
	return &q->parent;
}

static GIOStream *qemu_open_port(HhVm *vm, const char *name,
				 unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;
	const char *id = g_str_equal(name, HHP_PORT_CONTROL) ? "control" :
			 g_str_equal(name, HHP_PORT_LOG)     ? "log" :
							       NULL;

	if (!id) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "no virtio-serial port named '%s'", name);
		return NULL;
	}
	return G_IO_STREAM(connect_socket(q, id, error));
}

/* Connects the monitor and passes its handshake. */
static HhQmp *qemu_monitor(QemuVm *q, const char *transcript, GError **error)
{
	g_autoptr(GMainContext) ctx = NULL;

	if (q->qmp)
		return q->qmp;
	q->qmp_conn = connect_socket(q, "qmp", error);
	if (!q->qmp_conn)
		return NULL;
	ctx = g_main_context_ref_thread_default();
	q->qmp = hh_qmp_new(G_IO_STREAM(q->qmp_conn), ctx);
	if (transcript) {
		g_autoptr(GFile) f = g_file_new_for_path(transcript);
		g_autoptr(GFileOutputStream) out = g_file_replace(
			f, NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL);

		if (out)
			hh_qmp_set_transcript(q->qmp, G_OUTPUT_STREAM(out));
	}
	if (!hh_qmp_handshake_sync(q->qmp, QMP_TIMEOUT_MS, error)) {
		if (!qemu_running(&q->parent)) {
			g_clear_error(error);
			exited_error(q, "opening its monitor", error);
		}
		g_clear_pointer(&q->qmp, hh_qmp_free);
		return NULL;
	}
	return q->qmp;
}

static gboolean qemu_wait(HhVm *vm, guint timeout_ms, unsigned int flags,
			  GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_child_wait(q->child, timeout_ms, NULL, error);
}

static void qemu_kill(HhVm *vm, unsigned int flags)
{
	QemuVm *q = (QemuVm *)vm;

	hh_child_kill(q->child);
	hh_child_wait(q->child, 0, NULL, NULL);
}

static char *qemu_describe(HhVm *vm, unsigned int flags)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_argv_to_string((const char *const *)q->argv->pdata);
}

static char *qemu_version(void)
{
	static GMutex lock;
	static char *version;
	char *copy;

	g_mutex_lock(&lock);
	if (!version) {
		const char *argv[] = { hh_qemu_path(), "--version", NULL };

		if (!hh_run(argv, NULL, NULL, NULL, HH_SPAWN_CAPTURE, &version,
			    NULL))
			version = g_strdup("unknown");
		g_strstrip(version);
	}
	copy = g_strdup(version);
	g_mutex_unlock(&lock);
	return copy;
}

static char *qemu_identity(HhVmBackend *b, const HhVmConfig *cfg,
			   unsigned int flags)
{
	HhVmConfig plain = *cfg;
	g_autoptr(GPtrArray) argv = NULL;
	g_autofree char *line = NULL, *version = qemu_version();

	/* Paths that differ between VMs but not between their states. */
	plain.run_dir = "@run";
	plain.console_log = "@console";
	plain.console_append = FALSE;
	plain.restore_from = NULL;
	plain.transcript = NULL;
	plain.stderr_log = NULL;
	plain.name = NULL;
	plain.ram_dir = "@ram";	/* snapshots keep their RAM in files */
	plain.disk = "@disk";
	argv = build_argv(&plain, FALSE);
	line = hh_argv_to_string((const char *const *)argv->pdata);
	return g_strdup_printf("%s\n%s", version, line);
}

static gboolean migrate_done(HhQmp *qmp, gboolean *done, GError **error)
{
	g_autoptr(JsonNode) ret = NULL;
	JsonObject *o;
	const char *status;

	if (!hh_qmp_execute_sync(qmp, "query-migrate", NULL, QMP_TIMEOUT_MS,
				 &ret, error))
		return FALSE;
	o = json_node_get_object(ret);
	status = o ? json_object_get_string_member_with_default(o, "status",
								 "none") :
		     "none";
	if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled")) {
		g_set_error(error, HH_ERROR, HH_ERROR_QEMU,
			    "saving the VM state %s: %s", status,
			    json_object_get_string_member_with_default(
				    o, "error-desc", "no reason given"));
		return FALSE;
	}
	*done = g_str_equal(status, "completed");
	return TRUE;
}

static gboolean qemu_save_state(HhVm *vm, const char *path, guint timeout_ms,
				unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;
	gint64 deadline = hh_now_ms() + timeout_ms;
	gboolean done = FALSE;
	int fd;

	if (!qemu_monitor(q, NULL, error) || !set_ignore_shared(q, error))
		return FALSE;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		g_set_error(error, HH_ERROR, HH_ERROR_FAILED,
			    "cannot create '%s': %s", path, g_strerror(errno));
		return FALSE;
	}
	if (!migrate_over_fd(q, "migrate", fd, error))
		return FALSE;
	while (!done) {
		if (!migrate_done(q->qmp, &done, error))
			return FALSE;
		if (!done && hh_now_ms() > deadline) {
			g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
				    "saving the VM state took over %u ms",
				    timeout_ms);
			return FALSE;
		}
		if (!done)
			hh_iterate_once(20);
	}
	return TRUE;
}

/* Saved states leave RAM that is in files out (both ends must agree). */
static gboolean set_ignore_shared(QemuVm *q, GError **error)
{
	JsonObject *args, *cap;
	JsonArray *caps;

	if (!q->ram_files)
		return TRUE;
	args = json_object_new();
	cap = json_object_new();
	caps = json_array_new();
	json_object_set_string_member(cap, "capability", "x-ignore-shared");
	json_object_set_boolean_member(cap, "state", TRUE);
	json_array_add_object_element(caps, cap);
	json_object_set_array_member(args, "capabilities", caps);
	return hh_qmp_execute_sync(q->qmp, "migrate-set-capabilities", args,
				   QMP_TIMEOUT_MS, NULL, error);
}

/* Loads the state at path into a guest started with -incoming defer;
 * returns once the guest runs, so what the agent is sent reaches it
 * (before, QEMU drops it). */
static gboolean load_state(QemuVm *q, const char *path, guint timeout_ms,
			   GError **error)
{
	int fd;

	if (set_ignore_shared(q, error) &&
	    (fd = open_state(path, error)) >= 0 &&
	    migrate_over_fd(q, "migrate-incoming", fd, error) &&
	    hh_qmp_wait_event_sync(q->qmp, "RESUME", timeout_ms, NULL, error))
		return TRUE;
	/* A state QEMU cannot load makes it exit ("load of migration
	 * failed"): its own words say more than the monitor closing. */
	for (gint64 end = hh_now_ms() + 1000;
	     qemu_running(&q->parent) && hh_now_ms() < end &&
	     !g_error_matches(*error, HH_ERROR, HH_ERROR_TIMEOUT);)
		hh_iterate_once(20);
	if (!qemu_running(&q->parent)) {
		g_clear_error(error);
		return exited_error(q, "loading its state", error);
	}
	return FALSE;
}

/* A warm pool's guest: QEMU up with "-incoming defer" in a directory of
 * its own, its console and stderr there until a cell adopts it. */
static HhVm *qemu_prestart(HhVmBackend *b, const HhVmConfig *cfg,
			   unsigned int flags, GError **error)
{
	QemuVm *q;
	g_autofree char *console = NULL;
	HhVmConfig own = *cfg;

	if (!ram_files_present(cfg, error))
		return NULL;
	q = g_new0(QemuVm, 1);
	q->parent.backend = b;
	q->run_dir = g_dir_make_tmp("hh-pool-XXXXXX", error);
	if (!q->run_dir) {
		g_free(q);
		return NULL;
	}
	q->own_run_dir = TRUE;
	q->ram_files = cfg->ram_dir != NULL;
	console = g_build_filename(q->run_dir, "console.log", NULL);
	q->stderr_log = g_build_filename(q->run_dir, "qemu.log", NULL);
	own.run_dir = q->run_dir;
	own.console_log = console;
	own.console_append = FALSE;
	own.stderr_log = q->stderr_log;
	own.restore_from = NULL;
	own.transcript = NULL;
	q->argv = build_argv(&own, TRUE);
	q->child = hh_child_spawn((const char *const *)q->argv->pdata, NULL,
				  NULL, q->stderr_log, HH_SPAWN_NONE, error);
	if (!q->child) {
		qemu_free(&q->parent);
		return NULL;
	}
	return &q->parent;
}

static gboolean qemu_adopt(HhVm *vm, const HhVmConfig *cfg, guint timeout_ms,
			   unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	if (!qemu_monitor(q, cfg->transcript, error))
		return FALSE;
	/* The cell's console from now on (the pool's file had nothing: the
	 * guest has not run yet). */
	if (!hh_qmp_chardev_file(q->qmp, "console", cfg->console_log,
				 cfg->console_append, QMP_TIMEOUT_MS, error))
		return FALSE;
	q->stderr_copy_to = g_strdup(cfg->stderr_log);
	return load_state(q, cfg->restore_from, timeout_ms, error);
}

static gboolean qemu_dimm_add(HhVm *vm, const char *id, guint64 size,
			      gint node, guint timeout_ms, unsigned int flags,
			      GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_qmp_dimm_add(q->qmp, id, size, node, timeout_ms, error);
}

static gboolean qemu_vcpu_add(HhVm *vm, const char *id, gint node,
			      gint socket, guint timeout_ms,
			      unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_qmp_vcpu_add(q->qmp, id, node, socket, timeout_ms, error);
}

static gboolean qemu_device_del(HhVm *vm, const char *id, guint timeout_ms,
				unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_qmp_device_del_wait(q->qmp, id, HH_QMP_DEL_BACKEND,
				      timeout_ms, error);
}

static gboolean qemu_vcpu_del(HhVm *vm, const char *id, guint timeout_ms,
			      unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_qmp_device_del_wait(q->qmp, id, HH_QMP_DEL_CPU_SLOT,
				      timeout_ms, error);
}

static gboolean qemu_virtio_mem_add(HhVm *vm, const char *id,
				    guint64 max_size, gint node,
				    guint64 block_size, guint timeout_ms,
				    unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_qmp_virtio_mem_add(q->qmp, id, max_size, node, block_size,
				     timeout_ms, error);
}

static gboolean qemu_virtio_mem_resize(HhVm *vm, const char *id,
				       guint64 requested, guint timeout_ms,
				       unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_qmp_virtio_mem_resize(q->qmp, id, requested, timeout_ms,
					error);
}

static gboolean qemu_virtio_mem_query(HhVm *vm, const char *id,
				      guint64 *plugged, guint64 *requested,
				      guint timeout_ms, unsigned int flags,
				      GError **error)
{
	QemuVm *q = (QemuVm *)vm;

	return hh_qmp_virtio_mem_query(q->qmp, id, plugged, requested,
				       timeout_ms, error);
}

static char *qemu_dump_registers(HhVm *vm, guint timeout_ms,
				 unsigned int flags, GError **error)
{
	QemuVm *q = (QemuVm *)vm;
	char *regs = NULL;

	if (!hh_qmp_hmp(q->qmp, "info registers -a", timeout_ms, &regs, error))
		return NULL;
	return regs;
}

static guint64 qemu_peak_rss_kb(HhVm *vm)
{
	QemuVm *q = (QemuVm *)vm;
	g_autofree char *path = NULL, *text = NULL;
	const char *p;

	if (!q->child || q->child->pid <= 0)
		return 0;
	path = g_strdup_printf("/proc/%d/status", q->child->pid);
	if (!g_file_get_contents(path, &text, NULL, NULL) ||
	    !(p = strstr(text, "VmHWM:")))
		return 0;
	return g_ascii_strtoull(p + strlen("VmHWM:"), NULL, 10);
}

/* Boots the kernel under KVM and waits for its first console line. */
static gboolean qemu_kvm_works(HhVmBackend *b, const char *kernel,
			       char **why)
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

const HhVmBackendOps hh_vm_backend_qemu = {
	.name = "qemu",
	.replay_file = "qemu-cmdline.txt",
	.transcript_file = "qmp.log",
	.ram_files = TRUE,
	.kvm_works = qemu_kvm_works,
	.start = qemu_start,
	.open_port = qemu_open_port,
	.wait = qemu_wait,
	.running = qemu_running,
	.kill = qemu_kill,
	.describe = qemu_describe,
	.last_words = qemu_last_words,
	.identity = qemu_identity,
	.save_state = qemu_save_state,
	.prestart = qemu_prestart,
	.adopt = qemu_adopt,
	.dimm_add = qemu_dimm_add,
	.vcpu_add = qemu_vcpu_add,
	.device_del = qemu_device_del,
	.vcpu_del = qemu_vcpu_del,
	.virtio_mem_add = qemu_virtio_mem_add,
	.virtio_mem_resize = qemu_virtio_mem_resize,
	.virtio_mem_query = qemu_virtio_mem_query,
	.dump_registers = qemu_dump_registers,
	.peak_rss_kb = qemu_peak_rss_kb,
	.free_vm = qemu_free,
};
