// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QMP client tests against a fake QEMU that replays a script over a
 * socketpair, from its own thread, with blocking I/O.
 *
 * Script lines (the files in tests/data/qmp are real exchanges recorded from QEMU):
 *   <- TEXT   the fake sends TEXT + "\r\n".  If TEXT is a JSON object whose
 *             "id" was recorded on an earlier "->" line, the id the client
 *             really used is put in its place.
 *   -> JSON   the fake reads one line; it must be a JSON object with a
 *             string "id" and equal JSON except for the value of "id".
 *   !close    the fake closes the connection (QEMU exiting).
 *   !cancel   the fake cancels the client's GCancellable (another thread).
 *   !big N    the fake sends N bytes of 'x' and no newline.
 *   # ...     a comment; empty lines are ignored too.
 * After the last line the fake expects end-of-file: anything the client
 * sends beyond the script fails the test, and so does a script not run to
 * its end.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "hh-error.h"
#include "qmp.h"
#include "qmp-cmd.h"

/* Safety net for the fake's blocking I/O: reaching it fails the test. */
#define FAKE_IO_TIMEOUT_MS	30000
/* For calls that must succeed (or fail for another reason than time). */
#define CALL_MS			10000
#define MIB			(1024 * 1024)

typedef struct {
	int fd;
	GPtrArray *script;
	guint pos;
	GString *in;
	GHashTable *ids;		/* recorded id -> id the client used */
	GHashTable *seen;		/* ids the client used */
	GCancellable *cancellable;	/* cancelled by "!cancel" */
	GThread *thread;
	GMutex lock;
	char *failure;			/* first failure, under lock */
} Fake;

typedef struct {
	Fake *fake;
	GMainContext *context;
	GIOStream *stream;
	HhQmp *qmp;
} Fixture;

static void G_GNUC_PRINTF(2, 3) fake_fail(Fake *f, const char *fmt, ...)
{
	va_list ap;

	g_mutex_lock(&f->lock);
	if (!f->failure) {
		va_start(ap, fmt);
		f->failure = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	g_mutex_unlock(&f->lock);
}

static char *fake_failure(Fake *f)
{
	char *s;

	g_mutex_lock(&f->lock);
	s = g_strdup(f->failure);
	g_mutex_unlock(&f->lock);
	return s;
}

static gboolean fake_poll(Fake *f, short events)
{
	struct pollfd p = { .fd = f->fd, .events = events };
	int n;

	do
		n = poll(&p, 1, FAKE_IO_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		fake_fail(f, "line %u: timed out waiting for the client", f->pos + 1);
	return n > 0;
}

/* Sends all of buf; FALSE (and a failure unless quiet) if it cannot. */
static gboolean fake_write(Fake *f, const char *buf, gsize len, gboolean quiet)
{
	while (len > 0) {
		ssize_t n;

		if (!fake_poll(f, POLLOUT))
			return FALSE;
		n = send(f->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			if (!quiet)
				fake_fail(f, "line %u: send: %s", f->pos + 1,
					  g_strerror(errno));
			return FALSE;
		}
		buf += n;
		len -= n;
	}
	return TRUE;
}

/* Reads one line into *line; FALSE at end-of-file (or on a failure). */
static gboolean fake_read_line(Fake *f, char **line)
{
	char buf[4096];
	char *nl;
	ssize_t n;

	while (!(nl = memchr(f->in->str, '\n', f->in->len))) {
		if (!fake_poll(f, POLLIN))
			return FALSE;
		n = read(f->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return FALSE;
		if (n < 0) {
			fake_fail(f, "line %u: read: %s", f->pos + 1,
				  g_strerror(errno));
			return FALSE;
		}
		g_string_append_len(f->in, buf, n);
	}
	*line = g_strndup(f->in->str, nl - f->in->str);
	g_string_erase(f->in, 0, nl - f->in->str + 1);
	g_strchomp(*line);
	return TRUE;
}

static JsonObject *parse_object(const char *text)
{
	g_autoptr(JsonNode) node = json_from_string(text, NULL);

	if (!node || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	return json_object_ref(json_node_get_object(node));
}

static char *object_to_string(JsonObject *obj)
{
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

	json_node_set_object(node, obj);
	return json_to_string(node, FALSE);
}

static gboolean objects_equal(JsonObject *a, JsonObject *b)
{
	g_autoptr(JsonNode) na = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonNode) nb = json_node_new(JSON_NODE_OBJECT);

	json_node_set_object(na, a);
	json_node_set_object(nb, b);
	return json_node_equal(na, nb);
}

static gboolean fake_expect(Fake *f, const char *expected)
{
	g_autoptr(JsonObject) want = parse_object(expected);
	g_autoptr(JsonObject) got = NULL;
	g_autofree char *line = NULL;
	g_autofree char *id = NULL;

	g_assert_nonnull(want);
	if (!fake_read_line(f, &line)) {
		fake_fail(f, "line %u: expected %s, got end of file", f->pos + 1,
			  expected);
		return FALSE;
	}
	got = parse_object(line);
	if (!got || !json_object_has_member(got, "id") ||
	    !json_object_get_string_member(got, "id")) {
		fake_fail(f, "line %u: not a command with a string id: %s",
			  f->pos + 1, line);
		return FALSE;
	}
	id = g_strdup(json_object_get_string_member(got, "id"));
	if (!g_hash_table_add(f->seen, g_strdup(id))) {
		fake_fail(f, "line %u: id %s used twice", f->pos + 1, id);
		return FALSE;
	}
	json_object_remove_member(got, "id");
	if (json_object_has_member(want, "id")) {
		g_hash_table_insert(f->ids,
			g_strdup(json_object_get_string_member(want, "id")),
			g_strdup(id));
		json_object_remove_member(want, "id");
	}
	if (!objects_equal(want, got)) {
		fake_fail(f, "line %u: expected %s\ngot %s", f->pos + 1,
			  expected, line);
		return FALSE;
	}
	return TRUE;
}

static char *fake_substitute_id(Fake *f, const char *text)
{
	g_autoptr(JsonObject) obj = parse_object(text);
	JsonNode *id = obj ? json_object_get_member(obj, "id") : NULL;
	const char *client_id;

	if (!id || json_node_get_value_type(id) != G_TYPE_STRING)
		return g_strdup(text);
	client_id = g_hash_table_lookup(f->ids, json_node_get_string(id));
	if (!client_id)
		return g_strdup(text);
	json_object_set_string_member(obj, "id", client_id);
	return object_to_string(obj);
}

static gboolean fake_send(Fake *f, const char *text)
{
	g_autofree char *line = fake_substitute_id(f, text);
	g_autofree char *wire = g_strconcat(line, "\r\n", NULL);

	return fake_write(f, wire, strlen(wire), FALSE);
}

static void fake_send_big(Fake *f, gsize len)
{
	g_autofree char *chunk = g_malloc(MIB);

	memset(chunk, 'x', MIB);
	while (len > 0) {
		gsize n = MIN(len, MIB);

		/* The client is expected to give up and close. */
		if (!fake_write(f, chunk, n, TRUE))
			return;
		len -= n;
	}
}

static gboolean fake_step(Fake *f, const char *line)
{
	if (g_str_has_prefix(line, "<- "))
		return fake_send(f, line + 3);
	if (g_str_has_prefix(line, "-> "))
		return fake_expect(f, line + 3);
	if (g_str_has_prefix(line, "!big ")) {
		fake_send_big(f, g_ascii_strtoull(line + 5, NULL, 10));
		return TRUE;
	}
	if (strcmp(line, "!cancel") == 0) {
		g_cancellable_cancel(f->cancellable);
		return TRUE;
	}
	if (strcmp(line, "!close") == 0) {
		close(f->fd);
		f->fd = -1;
		return TRUE;
	}
	fake_fail(f, "line %u: bad script line: %s", f->pos + 1, line);
	return FALSE;
}

static void fake_expect_eof(Fake *f)
{
	g_autofree char *line = NULL;

	if (fake_read_line(f, &line))
		fake_fail(f, "the client sent more than the script: %s", line);
	else if (f->in->len > 0)
		fake_fail(f, "the client sent a partial line: %s", f->in->str);
}

static gpointer fake_run(gpointer data)
{
	Fake *f = data;

	for (; f->pos < f->script->len; f->pos++)
		if (!fake_step(f, f->script->pdata[f->pos]))
			break;
	if (f->pos == f->script->len && f->fd >= 0)
		fake_expect_eof(f);
	if (f->fd >= 0)
		close(f->fd);
	return NULL;
}

static void fake_free(Fake *f)
{
	g_ptr_array_unref(f->script);
	g_string_free(f->in, TRUE);
	g_hash_table_unref(f->ids);
	g_hash_table_unref(f->seen);
	g_object_unref(f->cancellable);
	g_mutex_clear(&f->lock);
	g_free(f->failure);
	g_free(f);
}

static GPtrArray *script_new(void)
{
	return g_ptr_array_new_with_free_func(g_free);
}

static void script_add(GPtrArray *script, const char *line)
{
	g_ptr_array_add(script, g_strdup(line));
}

/* The script in tests/data/qmp/NAME, cut after max_lines lines (0: all). */
static GPtrArray *script_load(const char *name, guint max_lines)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "qmp",
						      name, NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GError) err = NULL;
	GPtrArray *script = script_new();
	guint i;

	g_file_get_contents(path, &text, NULL, &err);
	g_assert_no_error(err);
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++) {
		g_strchomp(lines[i]);
		if (lines[i][0] == '\0' || lines[i][0] == '#')
			continue;
		if (max_lines && script->len == max_lines)
			break;
		script_add(script, lines[i]);
	}
	return script;
}

/* The greeting and qmp_capabilities exchange, as recorded. */
static GPtrArray *script_handshake(void)
{
	return script_load("handshake.txt", 0);
}

/* Starts a fake running script (transfer full) and a client on it. */
static Fixture *start(GPtrArray *script)
{
	Fixture *fx = g_new0(Fixture, 1);
	Fake *f = g_new0(Fake, 1);
	g_autoptr(GError) err = NULL;
	g_autoptr(GSocket) sock = NULL;
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			==, 0);
	fx->context = g_main_context_new();
	g_main_context_push_thread_default(fx->context);
	sock = g_socket_new_from_fd(sv[0], &err);
	g_assert_no_error(err);
	fx->stream = G_IO_STREAM(g_socket_connection_factory_create_connection(sock));
	fx->qmp = hh_qmp_new(fx->stream, NULL);

	f->fd = sv[1];
	f->script = script;
	f->in = g_string_new(NULL);
	f->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	f->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	f->cancellable = g_object_ref(hh_qmp_get_cancellable(fx->qmp));
	g_mutex_init(&f->lock);
	f->thread = g_thread_new("fake-qemu", fake_run, f);
	fx->fake = f;
	return fx;
}

static Fixture *start_handshaken(GPtrArray *script)
{
	Fixture *fx = start(script);
	g_autoptr(GError) err = NULL;

	hh_qmp_handshake_sync(fx->qmp, CALL_MS, &err);
	g_assert_no_error(err);
	return fx;
}

/* Closes the client, then checks that the fake ran its whole script. */
static void finish(Fixture *fx)
{
	Fake *f = fx->fake;

	g_clear_pointer(&fx->qmp, hh_qmp_free);
	g_object_unref(fx->stream);
	g_thread_join(f->thread);
	g_assert_cmpstr(f->failure, ==, NULL);
	g_assert_cmpuint(f->pos, ==, f->script->len);
	fake_free(f);
	g_main_context_pop_thread_default(fx->context);
	g_main_context_unref(fx->context);
	g_free(fx);
}

/* g_assert_no_error(), also showing what the fake saw. */
static void assert_ok(Fixture *fx, const GError *err)
{
	g_autofree char *why = NULL;

	if (!err)
		return;
	why = fake_failure(fx->fake);
	g_error("unexpected error: %s (%s, %d); fake qemu: %s", err->message,
		g_quark_to_string(err->domain), err->code,
		why ? why : "no complaint");
}

static void assert_error(const GError *err, HhErrorCode code,
			 const char *message)
{
	g_assert_error(err, HH_ERROR, (gint)code);
	if (message)
		g_assert_cmpstr(err->message, ==, message);
}

static JsonObject *object_member(JsonObject *obj, const char *name)
{
	JsonNode *node = json_object_get_member(obj, name);

	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_node_get_object(node);
}

/* ---- replays of recorded exchanges ---- */

static void test_replay_handshake(void)
{
	Fixture *fx = start(script_handshake());
	g_autoptr(GError) err = NULL;

	g_assert_null(hh_qmp_get_qemu_version(fx->qmp));
	hh_qmp_handshake_sync(fx->qmp, CALL_MS, &err);
	assert_ok(fx, err);
	g_assert_cmpstr(hh_qmp_get_qemu_version(fx->qmp), ==, "7.2.22");
	g_assert_null(hh_qmp_get_error(fx->qmp));
	finish(fx);
}

static void test_replay_dimm_add(void)
{
	Fixture *fx = start_handshaken(script_load("dimm-add.txt", 0));
	g_autoptr(GError) err = NULL;

	hh_qmp_dimm_add(fx->qmp, "dimm0", 128 * MIB, 1, CALL_MS, &err);
	assert_ok(fx, err);
	finish(fx);
}

static void test_replay_dimm_add_refused(void)
{
	Fixture *fx = start_handshaken(script_load("dimm-add-bad-node.txt", 0));
	g_autoptr(GError) err = NULL;

	/* The script ends with object-del mem-dimm0: finish() checks it ran. */
	g_assert_false(hh_qmp_dimm_add(fx->qmp, "dimm0", 128 * MIB, 5, CALL_MS,
				       &err));
	assert_error(err, HH_ERROR_QMP,
		     "device_add: GenericError: 'DIMM property node has value 5'"
		     " which exceeds the number of numa nodes: 2");
	finish(fx);
}

static void test_replay_query_memory_devices(void)
{
	Fixture *fx = start_handshaken(script_load("query-memory-devices.txt", 0));
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonArray) devices = NULL;
	JsonObject *data;

	hh_qmp_dimm_add(fx->qmp, "dimm0", 128 * MIB, 1, CALL_MS, &err);
	assert_ok(fx, err);
	hh_qmp_query_memory_devices(fx->qmp, CALL_MS, &devices, &err);
	assert_ok(fx, err);
	g_assert_cmpuint(json_array_get_length(devices), ==, 1);
	data = object_member(json_array_get_object_element(devices, 0), "data");
	g_assert_cmpstr(json_object_get_string_member(data, "id"), ==, "dimm0");
	g_assert_cmpint(json_object_get_int_member(data, "node"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(data, "addr"), ==,
			G_GINT64_CONSTANT(0x100000000));
	finish(fx);
}

static JsonObject *cpu_slot(JsonArray *cpus, gint64 socket)
{
	guint i;

	for (i = 0; i < json_array_get_length(cpus); i++) {
		JsonObject *slot = json_array_get_object_element(cpus, i);

		if (json_object_get_int_member(object_member(slot, "props"),
					       "socket-id") == socket)
			return slot;
	}
	g_assert_not_reached();
}

static void test_replay_vcpu_add(void)
{
	Fixture *fx = start_handshaken(script_load("vcpu-add.txt", 0));
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonArray) cpus = NULL;

	/* Free on node 1: sockets 3 and 1, listed in that order. */
	hh_qmp_vcpu_add(fx->qmp, "cpu1", 1, -1, CALL_MS, &err);
	assert_ok(fx, err);
	hh_qmp_query_hotpluggable_cpus(fx->qmp, CALL_MS, &cpus, &err);
	assert_ok(fx, err);
	g_assert_cmpuint(json_array_get_length(cpus), ==, 4);
	g_assert_cmpstr(json_object_get_string_member(cpu_slot(cpus, 1),
						      "qom-path"),
			==, "/machine/peripheral/cpu1");
	g_assert_false(json_object_has_member(cpu_slot(cpus, 3), "qom-path"));
	finish(fx);
}

static void test_replay_vcpu_add_no_numa(void)
{
	Fixture *fx = start_handshaken(script_load("vcpu-add-no-numa.txt", 0));
	g_autoptr(GError) err = NULL;

	hh_qmp_vcpu_add(fx->qmp, "cpu1", -1, -1, CALL_MS, &err);
	assert_ok(fx, err);
	finish(fx);
}

/* Only the greeting, capabilities and the query of a recording. */
static void check_no_vcpu_slot(const char *recording, gint node, gint socket,
			       const char *message)
{
	Fixture *fx = start_handshaken(script_load(recording, 5));
	g_autoptr(GError) err = NULL;

	g_assert_false(hh_qmp_vcpu_add(fx->qmp, "cpu1", node, socket, CALL_MS,
				       &err));
	assert_error(err, HH_ERROR_CONFIG, message);
	finish(fx);
}

static void test_replay_vcpu_no_slot(void)
{
	check_no_vcpu_slot("vcpu-add.txt", 0, 1,
			   "no free vcpu slot on node 0, socket 1");
	check_no_vcpu_slot("vcpu-add.txt", -1, 0,
			   "no free vcpu slot on node any, socket 0");
	check_no_vcpu_slot("vcpu-add-no-numa.txt", 1, -1,
			   "no free vcpu slot on node 1, socket any (qemu reports"
			   " no node-id: map cpus with -numa cpu)");
}

static JsonObject *dimm_args(const char *id, const char *memdev)
{
	JsonObject *args = json_object_new();

	json_object_set_string_member(args, "driver", "pc-dimm");
	json_object_set_string_member(args, "id", id);
	json_object_set_string_member(args, "memdev", memdev);
	return args;
}

static JsonObject *ram_args(const char *id)
{
	JsonObject *args = json_object_new();

	json_object_set_string_member(args, "qom-type", "memory-backend-ram");
	json_object_set_string_member(args, "id", id);
	json_object_set_int_member(args, "size", 128 * MIB);
	return args;
}

static void test_replay_error_reply(void)
{
	Fixture *fx = start_handshaken(script_load("duplicate-id.txt", 0));
	g_autoptr(GError) err = NULL;

	hh_qmp_dimm_add(fx->qmp, "dimm0", 128 * MIB, 1, CALL_MS, &err);
	assert_ok(fx, err);
	hh_qmp_execute_sync(fx->qmp, "object-add", ram_args("mem-dimm1"),
			    CALL_MS, NULL, &err);
	assert_ok(fx, err);
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "device_add",
					   dimm_args("dimm0", "mem-dimm1"),
					   CALL_MS, NULL, &err));
	assert_error(err, HH_ERROR_QMP,
		     "device_add: GenericError: Duplicate device ID 'dimm0'");
	g_clear_error(&err);
	/* Not sticky; and the backend that exists is not ours to delete. */
	g_assert_false(hh_qmp_dimm_add(fx->qmp, "dimm0", 128 * MIB, 1, CALL_MS,
				       &err));
	assert_error(err, HH_ERROR_QMP,
		     "object-add: GenericError: attempt to add duplicate"
		     " property 'mem-dimm0' to object (type 'container')");
	g_assert_null(hh_qmp_get_error(fx->qmp));
	finish(fx);
}

static void test_replay_hmp(void)
{
	Fixture *fx = start_handshaken(script_load("hmp.txt", 0));
	g_autoptr(GError) err = NULL;
	g_autofree char *out = NULL;

	hh_qmp_hmp(fx->qmp, "info registers", CALL_MS, &out, &err);
	assert_ok(fx, err);
	g_assert_true(g_str_has_prefix(out, "\nCPU#0\nEAX=00000000 "));
	g_assert_nonnull(strstr(out, "\nEIP=0000fff0 "));
	g_assert_null(strchr(out, '\r'));
	finish(fx);
}

static void record_event(HhQmp *qmp, const char *name, JsonObject *data,
			 gpointer user_data)
{
	(void)qmp;
	g_assert_nonnull(data);
	g_string_append_printf(user_data, "%s;", name);
}

static void free_gstring(gpointer s)
{
	g_string_free(s, TRUE);
}

static void test_replay_events_before_replies(void)
{
	Fixture *fx = start_handshaken(script_load("cont-stop.txt", 0));
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonObject) data = NULL;
	GString *seen = g_string_new(NULL);

	hh_qmp_set_event_callback(fx->qmp, record_event, seen, free_gstring);
	hh_qmp_execute_sync(fx->qmp, "cont", NULL, CALL_MS, NULL, &err);
	assert_ok(fx, err);
	hh_qmp_execute_sync(fx->qmp, "stop", NULL, CALL_MS, NULL, &err);
	assert_ok(fx, err);
	g_assert_cmpstr(seen->str, ==, "RESUME;STOP;");
	/* Both are queued; take them out of order, each exactly once. */
	hh_qmp_wait_event_sync(fx->qmp, "STOP", 0, &data, &err);
	assert_ok(fx, err);
	g_assert_cmpuint(json_object_get_size(data), ==, 0);
	hh_qmp_wait_event_sync(fx->qmp, "RESUME", 0, NULL, &err);
	assert_ok(fx, err);
	g_assert_false(hh_qmp_wait_event_sync(fx->qmp, "STOP", 1, NULL, &err));
	assert_error(err, HH_ERROR_TIMEOUT,
		     "qmp event STOP not received within 1 ms");
	finish(fx);
}

static void test_replay_device_del_wait(void)
{
	Fixture *fx = start_handshaken(script_load("device-del.txt", 0));
	g_autoptr(GError) err = NULL;
	JsonObject *ram = json_object_new();
	JsonObject *port = json_object_new();

	json_object_set_string_member(ram, "qom-type", "memory-backend-ram");
	json_object_set_string_member(ram, "id", "mem-port0");
	json_object_set_int_member(ram, "size", MIB);
	hh_qmp_execute_sync(fx->qmp, "object-add", ram, CALL_MS, NULL, &err);
	assert_ok(fx, err);
	json_object_set_string_member(port, "driver", "virtserialport");
	json_object_set_string_member(port, "id", "port0");
	json_object_set_string_member(port, "name", "org.example.port0");
	hh_qmp_execute_sync(fx->qmp, "device_add", port, CALL_MS, NULL, &err);
	assert_ok(fx, err);
	/* DEVICE_DELETED arrives after the reply; then object-del mem-port0. */
	hh_qmp_device_del_wait(fx->qmp, "port0", HH_QMP_DEL_BACKEND, CALL_MS,
			       &err);
	assert_ok(fx, err);
	finish(fx);
}

static void test_replay_quit(void)
{
	Fixture *fx = start_handshaken(script_load("quit.txt", 0));
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonObject) data = NULL;

	hh_qmp_quit(fx->qmp, CALL_MS, &err);
	assert_ok(fx, err);
	hh_qmp_wait_event_sync(fx->qmp, "SHUTDOWN", CALL_MS, &data, &err);
	assert_ok(fx, err);
	g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
			"host-qmp-quit");
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "query-status", NULL,
					   CALL_MS, NULL, &err));
	assert_error(err, HH_ERROR_QEMU, NULL);
	finish(fx);
}

/* ---- synthetic exchanges: what QEMU should not do, or rarely does ---- */

#define QUERY_STATUS	"{\"execute\": \"query-status\", \"id\": \"q\"}"

typedef struct {
	const char *line;
	const char *message;	/* prefix of the expected error message */
} BadLine;

static const BadLine bad_lines[] = {
	{ "{\"return\": {}, ", "invalid json from qemu: " },
	{ "[1, 2]", "qmp message is not a json object" },
	{ "\"hello\"", "qmp message is not a json object" },
	{ "{\"foo\": 1}", "qmp message of unknown kind" },
	{ "{\"return\": {}}", "qmp reply without an id" },
	{ "{\"event\": \"X\", \"data\": 3}", "qmp event X has non-object data" },
	{ "{\"QMP\": {}}", "unexpected qmp greeting" },
};

static void test_malformed_line_is_sticky(gconstpointer data)
{
	const BadLine *bad = data;
	GPtrArray *script = script_handshake();
	g_autofree char *line = g_strconcat("<- ", bad->line, NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(GError) again = NULL;
	Fixture *fx;

	script_add(script, "-> " QUERY_STATUS);
	script_add(script, line);
	fx = start_handshaken(script);
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "query-status", NULL,
					   CALL_MS, NULL, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_PROTOCOL);
	g_assert_true(g_str_has_prefix(err->message, bad->message));
	/* Fails at once without sending: the fake expects end-of-file. */
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "query-status", NULL,
					   CALL_MS, NULL, &again));
	assert_error(again, HH_ERROR_PROTOCOL, err->message);
	g_assert_nonnull(hh_qmp_get_error(fx->qmp));
	finish(fx);
}

/* An event line of exactly len bytes. */
static char *event_line(gsize len, gsize *payload)
{
	static const char head[] = "{\"event\": \"BIG\", \"data\": {\"s\": \"";
	GString *s = g_string_new("<- ");

	*payload = len - strlen(head) - strlen("\"}}");
	g_string_append(s, head);
	g_string_set_size(s, s->len + *payload);
	memset(s->str + 3 + strlen(head), 'x', *payload);
	g_string_append(s, "\"}}");
	g_assert_cmpuint(s->len, ==, len + 3);
	return g_string_free(s, FALSE);
}

static void test_max_line_is_accepted(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonObject) data = NULL;
	Fixture *fx;
	gsize payload;

	g_ptr_array_add(script, event_line(HH_QMP_MAX_LINE, &payload));
	fx = start_handshaken(script);
	hh_qmp_wait_event_sync(fx->qmp, "BIG", CALL_MS, &data, &err);
	assert_ok(fx, err);
	g_assert_cmpuint(strlen(json_object_get_string_member(data, "s")), ==,
			 payload);
	finish(fx);
}

static void test_longer_line_is_rejected(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;
	gsize payload;

	g_ptr_array_add(script, event_line(HH_QMP_MAX_LINE + 1, &payload));
	fx = start_handshaken(script);
	g_assert_false(hh_qmp_wait_event_sync(fx->qmp, "BIG", CALL_MS, NULL,
					      &err));
	assert_error(err, HH_ERROR_PROTOCOL,
		     "qmp line longer than 4194304 bytes");
	finish(fx);
}

static void test_endless_line_fails_early(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	/* 64 MiB and no newline: a client that buffers it all would time out. */
	script_add(script, "-> " QUERY_STATUS);
	script_add(script, "!big 67108864");
	fx = start_handshaken(script);
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "query-status", NULL,
					   CALL_MS, NULL, &err));
	assert_error(err, HH_ERROR_PROTOCOL,
		     "qmp line longer than 4194304 bytes");
	finish(fx);
}

static void record_reply(HhQmp *qmp, JsonNode *ret, const GError *error,
			 gpointer user_data)
{
	GString *log = user_data;

	(void)qmp;
	g_assert_true((ret == NULL) != (error == NULL));
	g_string_append_printf(log, "%s;", error ? error->message : "ok");
}

static void test_eof_fails_pending_command(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	g_autoptr(GString) log = g_string_new(NULL);
	gint64 start;
	Fixture *fx;

	script_add(script, "-> " QUERY_STATUS);
	script_add(script, "!close");
	fx = start_handshaken(script);
	start = g_get_monotonic_time();
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "query-status", NULL,
					   60000, NULL, &err));
	assert_error(err, HH_ERROR_QEMU, "qemu closed the monitor connection");
	g_assert_cmpint(g_get_monotonic_time() - start, <, 30 * G_USEC_PER_SEC);
	/* Later calls fail too, from the context, not from inside the call. */
	hh_qmp_execute_async(fx->qmp, "query-status", NULL, record_reply, log);
	g_assert_cmpstr(log->str, ==, "");
	while (log->len == 0)
		g_main_context_iteration(fx->context, TRUE);
	g_assert_cmpstr(log->str, ==, "qemu closed the monitor connection;");
	finish(fx);
}

static void test_handshake_sees_eof(void)
{
	GPtrArray *script = script_new();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_add(script, "!close");
	fx = start(script);
	g_assert_false(hh_qmp_handshake_sync(fx->qmp, CALL_MS, &err));
	assert_error(err, HH_ERROR_QEMU, "qemu closed the monitor connection");
	finish(fx);
}

static void test_handshake_timeout(void)
{
	Fixture *fx = start(script_new());
	g_autoptr(GError) err = NULL;

	g_assert_false(hh_qmp_handshake_sync(fx->qmp, 50, &err));
	assert_error(err, HH_ERROR_TIMEOUT,
		     "qmp greeting not received within 50 ms");
	finish(fx);
}

static void test_timeout_then_late_reply(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonNode) ret = NULL;
	Fixture *fx;

	script_add(script, "-> " QUERY_STATUS);
	script_add(script, "-> {\"execute\": \"query-name\", \"id\": \"n\"}");
	script_add(script, "<- {\"return\": {\"status\": \"prelaunch\"}, \"id\": \"q\"}");
	script_add(script, "<- {\"return\": {\"name\": \"late\"}, \"id\": \"n\"}");
	fx = start_handshaken(script);
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "query-status", NULL, 50,
					   NULL, &err));
	assert_error(err, HH_ERROR_TIMEOUT,
		     "qmp query-status timed out after 50 ms");
	g_clear_error(&err);
	/* The late reply to query-status is matched and dropped. */
	hh_qmp_execute_sync(fx->qmp, "query-name", NULL, CALL_MS, &ret, &err);
	assert_ok(fx, err);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ret),
						      "name"), ==, "late");
	g_assert_null(hh_qmp_get_error(fx->qmp));
	finish(fx);
}

static void test_unknown_reply_id(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_add(script, "-> " QUERY_STATUS);
	script_add(script, "<- {\"return\": {}, \"id\": \"bogus\"}");
	fx = start_handshaken(script);
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "query-status", NULL,
					   CALL_MS, NULL, &err));
	assert_error(err, HH_ERROR_PROTOCOL,
		     "qmp reply with unexpected id \"bogus\"");
	finish(fx);
}

static void test_reply_without_pending_command(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_add(script, "-> " QUERY_STATUS);
	script_add(script, "<- {\"return\": {}, \"id\": \"q\"}");
	script_add(script, "<- {\"return\": {}, \"id\": \"q\"}");
	fx = start_handshaken(script);
	hh_qmp_execute_sync(fx->qmp, "query-status", NULL, CALL_MS, NULL, &err);
	assert_ok(fx, err);
	g_assert_false(hh_qmp_wait_event_sync(fx->qmp, "NEVER", CALL_MS, NULL,
					      &err));
	assert_error(err, HH_ERROR_PROTOCOL,
		     "qmp reply with unexpected id \"hh-2\"");
	finish(fx);
}

static void test_cancel_from_another_thread(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_add(script, "-> " QUERY_STATUS);
	script_add(script, "!cancel");
	fx = start_handshaken(script);
	g_assert_false(hh_qmp_execute_sync(fx->qmp, "query-status", NULL,
					   60000, NULL, &err));
	assert_error(err, HH_ERROR_CANCELLED, "qmp connection cancelled");
	finish(fx);
}

static void test_free_completes_pending(void)
{
	Fixture *fx = start_handshaken(script_handshake());
	g_autoptr(GString) log = g_string_new(NULL);

	/* Queued but never written: the context does not run again. */
	hh_qmp_execute_async(fx->qmp, "query-status", NULL, record_reply, log);
	hh_qmp_execute_async(fx->qmp, "query-name", NULL, record_reply, log);
	hh_qmp_execute_async(fx->qmp, "query-kvm", NULL, NULL, NULL);
	g_assert_cmpstr(log->str, ==, "");
	g_clear_pointer(&fx->qmp, hh_qmp_free);
	g_assert_cmpstr(log->str, ==,
			"qmp connection closed;qmp connection closed;");
	finish(fx);
}

static void test_transcript(void)
{
	Fixture *fx = start(script_handshake());
	g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
	g_autoptr(GError) err = NULL;
	g_autofree char *text = NULL;
	GMemoryOutputStream *mem = G_MEMORY_OUTPUT_STREAM(out);

	hh_qmp_set_transcript(fx->qmp, out);
	hh_qmp_handshake_sync(fx->qmp, CALL_MS, &err);
	assert_ok(fx, err);
	text = g_strndup(g_memory_output_stream_get_data(mem),
			 g_memory_output_stream_get_data_size(mem));
	g_assert_cmpstr(text, ==,
		"<- {\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2,"
		" \"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"},"
		" \"capabilities\": [\"oob\"]}}\n"
		"-> {\"execute\":\"qmp_capabilities\",\"id\":\"hh-1\"}\n"
		"<- {\"return\":{},\"id\":\"hh-1\"}\n");
	finish(fx);
}

static void test_event_queue_is_bounded(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonObject) data = NULL;
	Fixture *fx;
	guint i;

	for (i = 0; i <= HH_QMP_MAX_EVENTS; i++)
		g_ptr_array_add(script, g_strdup_printf(
			"<- {\"event\": \"E\", \"data\": {\"n\": %u}}", i));
	script_add(script, "<- {\"event\": \"LAST\"}");
	fx = start_handshaken(script);
	hh_qmp_wait_event_sync(fx->qmp, "LAST", CALL_MS, NULL, &err);
	assert_ok(fx, err);
	/* HH_QMP_MAX_EVENTS + 2 arrived: the two oldest were dropped. */
	hh_qmp_wait_event_sync(fx->qmp, "E", 0, &data, &err);
	assert_ok(fx, err);
	g_assert_cmpint(json_object_get_int_member(data, "n"), ==, 2);
	finish(fx);
}

/* device_del of id and QEMU's empty reply. */
static void script_device_del(GPtrArray *script, const char *id)
{
	g_autofree char *cmd = g_strdup_printf(
		"-> {\"execute\": \"device_del\", \"arguments\": {\"id\": "
		"\"%s\"}, \"id\": \"d\"}", id);

	script_add(script, cmd);
	script_add(script, "<- {\"return\": {}, \"id\": \"d\"}");
}

/* QEMU's ACPI_DEVICE_OST for an eject request (source 3). */
static void script_eject_ost(GPtrArray *script, const char *id, int status,
			     const char *slot_type)
{
	g_autofree char *ev = g_strdup_printf(
		"<- {\"event\": \"ACPI_DEVICE_OST\", \"data\": {\"info\": "
		"{\"device\": \"%s\", \"source\": 3, \"status\": %d, "
		"\"slot\": \"0\", \"slot-type\": \"%s\"}}}", id, status,
		slot_type);

	script_add(script, ev);
}

static void test_device_del_wait_matches_device(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	g_autoptr(JsonObject) data = NULL;
	g_autoptr(JsonObject) other = NULL;
	Fixture *fx;

	script_device_del(script, "dimm0");
	script_add(script, "<- {\"event\": \"DEVICE_DELETED\", \"data\":"
			   " {\"path\": \"/machine/peripheral/dimm0/x\"}}");
	script_add(script, "<- {\"event\": \"DEVICE_DELETED\", \"data\":"
			   " {\"device\": \"dimm1\"}}");
	script_add(script, "<- {\"event\": \"DEVICE_DELETED\", \"data\":"
			   " {\"device\": \"dimm0\"}}");
	script_add(script, "-> {\"execute\": \"object-del\", \"arguments\":"
			   " {\"id\": \"mem-dimm0\"}, \"id\": \"o\"}");
	script_add(script, "<- {\"return\": {}, \"id\": \"o\"}");
	fx = start_handshaken(script);
	hh_qmp_device_del_wait(fx->qmp, "dimm0", HH_QMP_DEL_BACKEND, CALL_MS,
			       &err);
	assert_ok(fx, err);
	/* The events for other devices are still queued, in order. */
	hh_qmp_wait_event_sync(fx->qmp, "DEVICE_DELETED", 0, &data, &err);
	assert_ok(fx, err);
	g_assert_false(json_object_has_member(data, "device"));
	hh_qmp_wait_event_sync(fx->qmp, "DEVICE_DELETED", 0, &other, &err);
	assert_ok(fx, err);
	g_assert_cmpstr(json_object_get_string_member(other, "device"), ==,
			"dimm1");
	finish(fx);
}

static void test_device_del_wait_timeout(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_device_del(script, "dimm0");
	fx = start_handshaken(script);
	g_assert_false(hh_qmp_device_del_wait(fx->qmp, "dimm0",
					      HH_QMP_DEL_BACKEND, 200, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_TIMEOUT);
	g_assert_true(g_str_has_prefix(err->message,
		"device 'dimm0' was not deleted: qmp event DEVICE_DELETED"
		" not received within "));
	finish(fx);
}

/* A guest that cannot offline a DIMM answers the eject with a failing
 * _OST: the wait ends there, not at the timeout. */
static void test_device_del_guest_refusal(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_device_del(script, "dimm0");
	/* in progress (0x84), another device's failure, then ours (busy) */
	script_eject_ost(script, "dimm0", 132, "DIMM");
	script_eject_ost(script, "dimm1", 1, "DIMM");
	script_eject_ost(script, "dimm0", 130, "DIMM");
	fx = start_handshaken(script);
	g_assert_false(hh_qmp_device_del_wait(
		fx->qmp, "dimm0", HH_QMP_DEL_BACKEND, 5000, &err));
	g_assert_error(err, HH_ERROR, HH_ERROR_REFUSED);
	g_assert_cmpstr(err->message, ==,
			"the guest refused to eject 'dimm0' (_OST status 0x82)");
	finish(fx);
}

/* The same wait still ends at DEVICE_DELETED, then deletes the backend. */
static void test_device_del_wait_ost_success(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_device_del(script, "cpu1");
	script_eject_ost(script, "cpu1", 0, "CPU");
	script_add(script, "<- {\"event\": \"DEVICE_DELETED\", \"data\":"
			   " {\"device\": \"cpu1\"}}");
	fx = start_handshaken(script);
	hh_qmp_device_del_wait(fx->qmp, "cpu1", HH_QMP_DEL_NONE, CALL_MS,
				     &err);
	assert_ok(fx, err);
	finish(fx);
}

/* QEMU 7.2 under TCG: after the eject only the lapic child gets a
 * DEVICE_DELETED; the freed slot in query-hotpluggable-cpus ends the wait. */
static void test_vcpu_del_slot_freed(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_device_del(script, "cpu1");
	script_eject_ost(script, "cpu1", 132, "CPU");
	script_add(script, "<- {\"event\": \"DEVICE_DELETED\", \"data\":"
			   " {\"path\": \"/machine/peripheral/cpu1/lapic\"}}");
	script_add(script, "-> {\"execute\": \"query-hotpluggable-cpus\","
			   " \"id\": \"q\"}");
	script_add(script, "<- {\"return\": [{\"props\": {\"socket-id\": 1},"
			   " \"vcpus-count\": 1, \"type\": \"qemu64-x86_64-cpu\","
			   " \"qom-path\": \"/machine/peripheral/cpu1\"}],"
			   " \"id\": \"q\"}");
	script_add(script, "-> {\"execute\": \"query-hotpluggable-cpus\","
			   " \"id\": \"r\"}");
	script_add(script, "<- {\"return\": [{\"props\": {\"socket-id\": 1},"
			   " \"vcpus-count\": 1, \"type\": \"qemu64-x86_64-cpu\"}],"
			   " \"id\": \"r\"}");
	fx = start_handshaken(script);
	hh_qmp_device_del_wait(fx->qmp, "cpu1", HH_QMP_DEL_CPU_SLOT, 5000, &err);
	assert_ok(fx, err);
	finish(fx);
}

/* virtio-mem as QEMU 7.2 answered it (docs/emulator.md). */
static void test_virtio_mem(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	guint64 plugged = 1, requested = 1;
	Fixture *fx;

	script_add(script, "-> {\"execute\": \"object-add\", \"arguments\":"
			   " {\"qom-type\": \"memory-backend-ram\", \"id\":"
			   " \"mem-vm1\", \"size\": 536870912}, \"id\": \"a\"}");
	script_add(script, "<- {\"return\": {}, \"id\": \"a\"}");
	script_add(script, "-> {\"execute\": \"device_add\", \"arguments\":"
			   " {\"driver\": \"virtio-mem-pci\", \"id\": \"vm1\","
			   " \"memdev\": \"mem-vm1\", \"node\": 1,"
			   " \"requested-size\": 0}, \"id\": \"b\"}");
	script_add(script, "<- {\"return\": {}, \"id\": \"b\"}");
	script_add(script, "-> {\"execute\": \"qom-set\", \"arguments\":"
			   " {\"path\": \"/machine/peripheral/vm1\","
			   " \"property\": \"requested-size\", \"value\":"
			   " 134217728}, \"id\": \"c\"}");
	script_add(script, "<- {\"return\": {}, \"id\": \"c\"}");
	script_add(script, "-> {\"execute\": \"query-memory-devices\","
			   " \"id\": \"q\"}");
	script_add(script, "<- {\"return\": [{\"type\": \"dimm\", \"data\":"
			   " {\"id\": \"vm1\", \"size\": 1}}, {\"type\":"
			   " \"virtio-mem\", \"data\": {\"memdev\":"
			   " \"/objects/mem-vm1\", \"memaddr\": 4294967296,"
			   " \"block-size\": 2097152, \"size\": 67108864,"
			   " \"node\": 1, \"max-size\": 536870912,"
			   " \"requested-size\": 134217728, \"id\": \"vm1\"}}],"
			   " \"id\": \"q\"}");
	script_add(script, "-> {\"execute\": \"device_del\", \"arguments\":"
			   " {\"id\": \"vm1\"}, \"id\": \"d\"}");
	script_add(script, "<- {\"error\": {\"class\": \"GenericError\","
			   " \"desc\": \"virtio based memory devices cannot be"
			   " unplugged.\"}, \"id\": \"d\"}");
	fx = start_handshaken(script);
	hh_qmp_virtio_mem_add(fx->qmp, "vm1", 512 * MIB, 1, 0, CALL_MS, &err);
	assert_ok(fx, err);
	hh_qmp_virtio_mem_resize(fx->qmp, "vm1", 128 * MIB, CALL_MS, &err);
	assert_ok(fx, err);
	hh_qmp_virtio_mem_query(fx->qmp, "vm1", &plugged, &requested, CALL_MS,
				&err);
	assert_ok(fx, err);
	g_assert_cmpuint(plugged, ==, 64 * MIB);
	g_assert_cmpuint(requested, ==, 128 * MIB);
	g_assert_false(hh_qmp_device_del_wait(
		fx->qmp, "vm1", HH_QMP_DEL_BACKEND, CALL_MS, &err));
	assert_error(err, HH_ERROR_QMP, "device_del: GenericError: virtio "
		     "based memory devices cannot be unplugged.");
	finish(fx);
}

static void test_quit_accepts_eof_before_reply(void)
{
	GPtrArray *script = script_handshake();
	g_autoptr(GError) err = NULL;
	Fixture *fx;

	script_add(script, "-> {\"execute\": \"quit\", \"id\": \"x\"}");
	script_add(script, "!close");
	fx = start_handshaken(script);
	hh_qmp_quit(fx->qmp, CALL_MS, &err);
	assert_ok(fx, err);
	finish(fx);
}

int main(int argc, char **argv)
{
	gsize i;

	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/qmp/replay/handshake-records-qemu-version",
			test_replay_handshake);
	g_test_add_func("/qmp/replay/dimm-add", test_replay_dimm_add);
	g_test_add_func("/qmp/replay/dimm-add-refused-deletes-backend",
			test_replay_dimm_add_refused);
	g_test_add_func("/qmp/replay/query-memory-devices",
			test_replay_query_memory_devices);
	g_test_add_func("/qmp/replay/vcpu-add-takes-lowest-free-slot-on-node",
			test_replay_vcpu_add);
	g_test_add_func("/qmp/replay/vcpu-add-without-numa-mapping",
			test_replay_vcpu_add_no_numa);
	g_test_add_func("/qmp/replay/vcpu-add-without-free-slot-names-it",
			test_replay_vcpu_no_slot);
	g_test_add_func("/qmp/replay/error-reply-gives-class-and-desc",
			test_replay_error_reply);
	g_test_add_func("/qmp/replay/hmp-info-registers", test_replay_hmp);
	g_test_add_func("/qmp/replay/events-before-replies-are-queued",
			test_replay_events_before_replies);
	g_test_add_func("/qmp/replay/device-del-waits-for-device-deleted",
			test_replay_device_del_wait);
	g_test_add_func("/qmp/replay/quit-then-eof", test_replay_quit);

	for (i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
		g_autofree char *name = g_strdup_printf(
			"/qmp/transport/malformed-line-is-sticky/%zu", i);

		g_test_add_data_func(name, &bad_lines[i],
				     test_malformed_line_is_sticky);
	}
	g_test_add_func("/qmp/transport/line-of-max-length-is-accepted",
			test_max_line_is_accepted);
	g_test_add_func("/qmp/transport/longer-line-is-rejected",
			test_longer_line_is_rejected);
	g_test_add_func("/qmp/transport/endless-line-fails-without-buffering-it",
			test_endless_line_fails_early);
	g_test_add_func("/qmp/transport/eof-fails-pending-command",
			test_eof_fails_pending_command);
	g_test_add_func("/qmp/transport/handshake-sees-eof",
			test_handshake_sees_eof);
	g_test_add_func("/qmp/transport/handshake-times-out",
			test_handshake_timeout);
	g_test_add_func("/qmp/transport/timeout-then-late-reply-is-dropped",
			test_timeout_then_late_reply);
	g_test_add_func("/qmp/transport/unknown-reply-id-is-protocol-error",
			test_unknown_reply_id);
	g_test_add_func("/qmp/transport/reply-without-pending-command-is-protocol-error",
			test_reply_without_pending_command);
	g_test_add_func("/qmp/transport/cancel-from-another-thread",
			test_cancel_from_another_thread);
	g_test_add_func("/qmp/transport/free-completes-pending-with-cancelled",
			test_free_completes_pending);
	g_test_add_func("/qmp/transport/transcript-logs-both-directions",
			test_transcript);
	g_test_add_func("/qmp/transport/event-queue-is-bounded",
			test_event_queue_is_bounded);
	g_test_add_func("/qmp/cmd/device-del-guest-refusal",
			test_device_del_guest_refusal);
	g_test_add_func("/qmp/cmd/device-del-wait-ignores-successful-ost",
			test_device_del_wait_ost_success);
	g_test_add_func("/qmp/cmd/virtio-mem", test_virtio_mem);
	g_test_add_func("/qmp/cmd/vcpu-del-ends-when-the-slot-is-free",
			test_vcpu_del_slot_freed);
	g_test_add_func("/qmp/cmd/device-del-wait-matches-device",
			test_device_del_wait_matches_device);
	g_test_add_func("/qmp/cmd/device-del-wait-times-out",
			test_device_del_wait_timeout);
	g_test_add_func("/qmp/cmd/quit-accepts-eof-before-reply",
			test_quit_accepts_eof_before_reply);

	return g_test_run();
}
