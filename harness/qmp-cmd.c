// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

#include "hh-error.h"
#include "qmp-cmd.h"

/* Absolute deadline for timeout_ms from now; 0 means none. */
static gint64 deadline_in(guint timeout_ms)
{
	return timeout_ms ? g_get_monotonic_time() + (gint64)timeout_ms * 1000 : 0;
}

/* Milliseconds left for the next command (at least 1), 0 for no deadline. */
static guint ms_left(gint64 deadline)
{
	gint64 left;

	if (!deadline)
		return 0;
	left = (deadline - g_get_monotonic_time() + 999) / 1000;
	return (guint)CLAMP(left, 1, G_MAXUINT);
}

static gboolean take_array(const char *command, JsonNode *ret, JsonArray **out,
			   GError **error)
{
	if (!JSON_NODE_HOLDS_ARRAY(ret)) {
		g_set_error(error, HH_ERROR, HH_ERROR_PROTOCOL,
			    "%s: return value is not an array", command);
		return FALSE;
	}
	*out = json_array_ref(json_node_get_array(ret));
	return TRUE;
}

static gboolean query_array(HhQmp *qmp, const char *command, guint timeout_ms,
			    JsonArray **out, GError **error)
{
	g_autoptr(JsonNode) ret = NULL;

	if (!hh_qmp_execute_sync(qmp, command, NULL, timeout_ms, &ret, error))
		return FALSE;
	return take_array(command, ret, out, error);
}

static gboolean object_add_ram(HhQmp *qmp, const char *id, guint64 size,
			       guint timeout_ms, GError **error)
{
	JsonObject *args = json_object_new();

	json_object_set_string_member(args, "qom-type", "memory-backend-ram");
	json_object_set_string_member(args, "id", id);
	json_object_set_int_member(args, "size", (gint64)size);
	return hh_qmp_execute_sync(qmp, "object-add", args, timeout_ms, NULL,
				   error);
}

static gboolean device_add_dimm(HhQmp *qmp, const char *id, const char *memdev,
				gint node, guint timeout_ms, GError **error)
{
	JsonObject *args = json_object_new();

	json_object_set_string_member(args, "driver", "pc-dimm");
	json_object_set_string_member(args, "id", id);
	json_object_set_string_member(args, "memdev", memdev);
	if (node >= 0)
		json_object_set_int_member(args, "node", node);
	return hh_qmp_execute_sync(qmp, "device_add", args, timeout_ms, NULL,
				   error);
}

/* Deletes a backend after a refused device_add; notes a failure in *err. */
static void drop_backend(HhQmp *qmp, const char *memdev, guint timeout_ms,
			 GError **err)
{
	g_autoptr(GError) del_err = NULL;
	GError *both;

	if (hh_qmp_object_del(qmp, memdev, timeout_ms, &del_err))
		return;
	both = g_error_new((*err)->domain, (*err)->code,
			   "%s (and removing '%s' failed: %s)", (*err)->message,
			   memdev, del_err->message);
	g_error_free(*err);
	*err = both;
}

gboolean hh_qmp_dimm_add(HhQmp *qmp, const char *id, guint64 size_bytes,
			 gint node, guint timeout_ms, GError **error)
{
	gint64 deadline = deadline_in(timeout_ms);
	g_autofree char *memdev = g_strdup_printf("mem-%s", id);
	GError *err = NULL;

	g_return_val_if_fail(size_bytes <= G_MAXINT64, FALSE);
	if (!object_add_ram(qmp, memdev, size_bytes, ms_left(deadline), error))
		return FALSE;
	if (device_add_dimm(qmp, id, memdev, node, ms_left(deadline), &err))
		return TRUE;
	if (g_error_matches(err, HH_ERROR, HH_ERROR_QMP))
		drop_backend(qmp, memdev, timeout_ms, &err);
	g_propagate_error(error, err);
	return FALSE;
}

gboolean hh_qmp_query_hotpluggable_cpus(HhQmp *qmp, guint timeout_ms,
					JsonArray **out, GError **error)
{
	return query_array(qmp, "query-hotpluggable-cpus", timeout_ms, out,
			   error);
}

/* An integer prop, or -1 when absent. */
static gint64 prop_int(JsonObject *props, const char *name)
{
	JsonNode *node = json_object_get_member(props, name);

	if (!node || json_node_get_value_type(node) != G_TYPE_INT64)
		return -1;
	return json_node_get_int(node);
}

static JsonObject *slot_props(JsonNode *slot)
{
	JsonObject *obj;
	JsonNode *props;

	if (!JSON_NODE_HOLDS_OBJECT(slot))
		return NULL;
	obj = json_node_get_object(slot);
	props = json_object_get_member(obj, "props");
	if (!props || !JSON_NODE_HOLDS_OBJECT(props))
		return NULL;
	return json_node_get_object(props);
}

static gboolean slot_is_free(JsonNode *slot, gint node, gint socket)
{
	JsonObject *props = slot_props(slot);
	JsonObject *obj;
	JsonNode *type;

	if (!props)
		return FALSE;
	obj = json_node_get_object(slot);
	type = json_object_get_member(obj, "type");
	if (!type || json_node_get_value_type(type) != G_TYPE_STRING ||
	    json_object_has_member(obj, "qom-path"))
		return FALSE;
	return (node < 0 || prop_int(props, "node-id") == node) &&
	       (socket < 0 || prop_int(props, "socket-id") == socket);
}

/* TRUE if slot a comes before slot b in topology order. */
static gboolean slot_before(JsonNode *a, JsonNode *b)
{
	static const char *const keys[] = {
		"socket-id", "die-id", "cluster-id", "core-id", "thread-id",
	};
	JsonObject *pa = slot_props(a), *pb = slot_props(b);
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(keys); i++) {
		gint64 va = prop_int(pa, keys[i]), vb = prop_int(pb, keys[i]);

		if (va != vb)
			return va < vb;
	}
	return FALSE;
}

static gboolean any_node_id(JsonArray *cpus)
{
	guint i;

	for (i = 0; i < json_array_get_length(cpus); i++) {
		JsonObject *props = slot_props(json_array_get_element(cpus, i));

		if (props && json_object_has_member(props, "node-id"))
			return TRUE;
	}
	return FALSE;
}

static char *describe(gint n)
{
	return n < 0 ? g_strdup("any") : g_strdup_printf("%d", n);
}

static JsonObject *pick_cpu_slot(JsonArray *cpus, gint node, gint socket,
				 GError **error)
{
	g_autofree char *node_s = describe(node), *socket_s = describe(socket);
	JsonNode *best = NULL;
	guint i;

	for (i = 0; i < json_array_get_length(cpus); i++) {
		JsonNode *slot = json_array_get_element(cpus, i);

		if (slot_is_free(slot, node, socket) &&
		    (!best || slot_before(slot, best)))
			best = slot;
	}
	if (best)
		return json_node_get_object(best);
	g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
		    "no free vcpu slot on node %s, socket %s%s", node_s,
		    socket_s, node >= 0 && !any_node_id(cpus) ?
		    " (qemu reports no node-id: map cpus with -numa cpu)" : "");
	return NULL;
}

static JsonObject *cpu_device_args(JsonObject *slot, const char *id)
{
	JsonObject *args = json_object_new();
	JsonObject *props = json_object_get_object_member(slot, "props");
	GList *names = json_object_get_members(props), *l;

	json_object_set_string_member(args, "driver",
				      json_object_get_string_member(slot, "type"));
	json_object_set_string_member(args, "id", id);
	for (l = names; l; l = l->next)
		json_object_set_member(args, l->data,
			json_node_copy(json_object_get_member(props, l->data)));
	g_list_free(names);
	return args;
}

gboolean hh_qmp_vcpu_add(HhQmp *qmp, const char *id, gint node, gint socket,
			 guint timeout_ms, GError **error)
{
	gint64 deadline = deadline_in(timeout_ms);
	g_autoptr(JsonArray) cpus = NULL;
	JsonObject *slot;

	if (!hh_qmp_query_hotpluggable_cpus(qmp, ms_left(deadline), &cpus,
					    error))
		return FALSE;
	slot = pick_cpu_slot(cpus, node, socket, error);
	if (!slot)
		return FALSE;
	return hh_qmp_execute_sync(qmp, "device_add", cpu_device_args(slot, id),
				   ms_left(deadline), NULL, error);
}

static gboolean execute_id(HhQmp *qmp, const char *command, const char *id,
			   guint timeout_ms, GError **error)
{
	JsonObject *args = json_object_new();

	json_object_set_string_member(args, "id", id);
	return hh_qmp_execute_sync(qmp, command, args, timeout_ms, NULL, error);
}

gboolean hh_qmp_device_del(HhQmp *qmp, const char *id, guint timeout_ms,
			   GError **error)
{
	return execute_id(qmp, "device_del", id, timeout_ms, error);
}

gboolean hh_qmp_object_del(HhQmp *qmp, const char *id, guint timeout_ms,
			   GError **error)
{
	return execute_id(qmp, "object-del", id, timeout_ms, error);
}

static gboolean string_member_is(JsonObject *o, const char *name,
				 const char *value)
{
	JsonNode *n = json_object_get_member(o, name);

	return n && json_node_get_value_type(n) == G_TYPE_STRING &&
	       strcmp(json_node_get_string(n), value) == 0;
}

static gboolean is_device(JsonObject *data, gpointer id)
{
	return string_member_is(data, "device", id);
}

/* ACPI_DEVICE_OST for device id: an eject request (source 3) the guest
 * answered with a failure: 1 (non-specific), 2 (unrecognized), 0x80 (eject
 * not supported), 0x81 (in use), 0x82 (busy), 0x83 (dependency busy);
 * not 0 (success) or 0x84 (eject in progress, Linux's first answer). */
static gboolean is_eject_failure(JsonObject *data, gpointer id)
{
	JsonNode *n = json_object_get_member(data, "info");
	JsonObject *info = n && JSON_NODE_HOLDS_OBJECT(n) ?
		json_node_get_object(n) : NULL;
	gint64 source, status;

	if (!info || !is_device(info, id))
		return FALSE;
	source = json_object_get_int_member_with_default(info, "source", -1);
	status = json_object_get_int_member_with_default(info, "status", 0);
	return source == 3 && status != 0 && status != 0x84;
}

/* Does query-hotpluggable-cpus still show a CPU at /machine/peripheral/id? */
static gboolean cpu_plugged(HhQmp *qmp, const char *id, guint timeout_ms,
			    gboolean *plugged, GError **error)
{
	g_autoptr(JsonArray) cpus = NULL;
	g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);

	if (!hh_qmp_query_hotpluggable_cpus(qmp, timeout_ms, &cpus, error))
		return FALSE;
	*plugged = FALSE;
	for (guint i = 0; i < json_array_get_length(cpus); i++) {
		JsonNode *n = json_array_get_element(cpus, i);

		if (JSON_NODE_HOLDS_OBJECT(n) &&
		    string_member_is(json_node_get_object(n), "qom-path", path))
			*plugged = TRUE;
	}
	return TRUE;
}

gboolean hh_qmp_device_del_wait(HhQmp *qmp, const char *id,
				HhQmpDelFlags flags, guint timeout_ms,
				GError **error)
{
	gint64 deadline = deadline_in(timeout_ms);
	g_autofree char *memdev = NULL;
	guint round = 0;

	if (!hh_qmp_device_del(qmp, id, ms_left(deadline), error))
		return FALSE;
	while (TRUE) {
		gboolean plugged = TRUE;

		g_autoptr(GError) err = NULL;
		g_autoptr(JsonObject) ost = NULL;
		guint slice = deadline ? MIN(ms_left(deadline), 50) : 50;

		if (hh_qmp_wait_event_match_sync(qmp, "DEVICE_DELETED",
						 is_device, (gpointer)id, slice,
						 NULL, &err))
			break;
		if (!g_error_matches(err, HH_ERROR, HH_ERROR_TIMEOUT)) {
			g_propagate_error(error, g_steal_pointer(&err));
			return FALSE;
		}
		if (hh_qmp_wait_event_match_sync(qmp, "ACPI_DEVICE_OST",
						 is_eject_failure, (gpointer)id,
						 1, &ost, NULL)) {
			JsonObject *info = json_object_get_object_member(
				ost, "info");

			g_set_error(error, HH_ERROR, HH_ERROR_REFUSED,
				    "the guest refused to eject '%s' (_OST "
				    "status 0x%" G_GINT64_MODIFIER "x)", id,
				    json_object_get_int_member_with_default(
					    info, "status", 0));
			return FALSE;
		}
		/* every 250 ms */
		if ((flags & HH_QMP_DEL_CPU_SLOT) && round++ % 5 == 0) {
			if (!cpu_plugged(qmp, id, ms_left(deadline), &plugged,
					 error))
				return FALSE;
			if (!plugged)
				break;
		}
		if (deadline && g_get_monotonic_time() >= deadline) {
			g_set_error(error, HH_ERROR, HH_ERROR_TIMEOUT,
				    "device '%s' was not deleted: qmp event "
				    "DEVICE_DELETED not received within %u ms",
				    id, timeout_ms);
			return FALSE;
		}
	}
	if (!(flags & HH_QMP_DEL_BACKEND))
		return TRUE;
	memdev = g_strdup_printf("mem-%s", id);
	return hh_qmp_object_del(qmp, memdev, ms_left(deadline), error);
}

gboolean hh_qmp_virtio_mem_add(HhQmp *qmp, const char *id, guint64 max_bytes,
			       gint node, guint64 block_bytes,
			       guint timeout_ms, GError **error)
{
	gint64 deadline = deadline_in(timeout_ms);
	g_autofree char *memdev = g_strdup_printf("mem-%s", id);
	JsonObject *args;
	GError *err = NULL;

	g_return_val_if_fail(max_bytes <= G_MAXINT64, FALSE);
	g_return_val_if_fail(block_bytes <= G_MAXINT64, FALSE);
	if (!object_add_ram(qmp, memdev, max_bytes, ms_left(deadline), error))
		return FALSE;
	args = json_object_new();
	json_object_set_string_member(args, "driver", "virtio-mem-pci");
	json_object_set_string_member(args, "id", id);
	json_object_set_string_member(args, "memdev", memdev);
	if (node >= 0)
		json_object_set_int_member(args, "node", node);
	if (block_bytes)
		json_object_set_int_member(args, "block-size",
					   (gint64)block_bytes);
	json_object_set_int_member(args, "requested-size", 0);
	if (hh_qmp_execute_sync(qmp, "device_add", args, ms_left(deadline),
				NULL, &err))
		return TRUE;
	if (g_error_matches(err, HH_ERROR, HH_ERROR_QMP))
		drop_backend(qmp, memdev, timeout_ms, &err);
	g_propagate_error(error, err);
	return FALSE;
}

gboolean hh_qmp_virtio_mem_resize(HhQmp *qmp, const char *id,
				  guint64 requested_bytes, guint timeout_ms,
				  GError **error)
{
	JsonObject *args = json_object_new();
	g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);

	g_return_val_if_fail(requested_bytes <= G_MAXINT64, FALSE);
	json_object_set_string_member(args, "path", path);
	json_object_set_string_member(args, "property", "requested-size");
	json_object_set_int_member(args, "value", (gint64)requested_bytes);
	return hh_qmp_execute_sync(qmp, "qom-set", args, timeout_ms, NULL,
				   error);
}

static gboolean size_member(JsonObject *o, const char *name, guint64 *out)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || json_node_get_value_type(n) != G_TYPE_INT64 ||
	    json_node_get_int(n) < 0)
		return FALSE;
	*out = (guint64)json_node_get_int(n);
	return TRUE;
}

gboolean hh_qmp_virtio_mem_query(HhQmp *qmp, const char *id,
				 guint64 *plugged, guint64 *requested,
				 guint timeout_ms, GError **error)
{
	g_autoptr(JsonArray) devs = NULL;

	if (!hh_qmp_query_memory_devices(qmp, timeout_ms, &devs, error))
		return FALSE;
	return hh_qmp_virtio_mem_find(devs, id, plugged, requested, error);
}

gboolean hh_qmp_virtio_mem_find(JsonArray *devs, const char *id,
				guint64 *plugged, guint64 *requested,
				GError **error)
{
	for (guint i = 0; i < json_array_get_length(devs); i++) {
		JsonNode *d = json_array_get_element(devs, i);
		JsonObject *o, *data;

		JsonNode *dn;

		if (!JSON_NODE_HOLDS_OBJECT(d))
			continue;
		o = json_node_get_object(d);
		dn = json_object_get_member(o, "data");
		if (!string_member_is(o, "type", "virtio-mem") || !dn ||
		    !JSON_NODE_HOLDS_OBJECT(dn))
			continue;
		data = json_node_get_object(dn);
		if (!string_member_is(data, "id", id))
			continue;
		if (!size_member(data, "size", plugged) ||
		    !size_member(data, "requested-size", requested)) {
			g_set_error(error, HH_ERROR, HH_ERROR_PROTOCOL,
				    "query-memory-devices: virtio-mem '%s' "
				    "without size or requested-size", id);
			return FALSE;
		}
		return TRUE;
	}
	g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
		    "no virtio-mem device '%s' (query-memory-devices)", id);
	return FALSE;
}

gboolean hh_qmp_query_memory_devices(HhQmp *qmp, guint timeout_ms,
				     JsonArray **out, GError **error)
{
	return query_array(qmp, "query-memory-devices", timeout_ms, out, error);
}

/* Drops every '\r' (QEMU's HMP output ends its lines with "\r\n"). */
static char *strip_cr(const char *s)
{
	char *out = g_malloc(strlen(s) + 1), *p = out;

	for (; *s; s++)
		if (*s != '\r')
			*p++ = *s;
	*p = '\0';
	return out;
}

gboolean hh_qmp_hmp(HhQmp *qmp, const char *command_line, guint timeout_ms,
		    char **out, GError **error)
{
	JsonObject *args = json_object_new();
	g_autoptr(JsonNode) ret = NULL;

	json_object_set_string_member(args, "command-line", command_line);
	if (!hh_qmp_execute_sync(qmp, "human-monitor-command", args, timeout_ms,
				 &ret, error))
		return FALSE;
	if (json_node_get_value_type(ret) != G_TYPE_STRING) {
		g_set_error(error, HH_ERROR, HH_ERROR_PROTOCOL,
			    "human-monitor-command: return value is not a string");
		return FALSE;
	}
	if (out)
		*out = strip_cr(json_node_get_string(ret));
	return TRUE;
}

gboolean hh_qmp_quit(HhQmp *qmp, guint timeout_ms, GError **error)
{
	g_autoptr(GError) err = NULL;

	if (hh_qmp_execute_sync(qmp, "quit", NULL, timeout_ms, NULL, &err) ||
	    g_error_matches(err, HH_ERROR, HH_ERROR_QEMU))
		return TRUE;
	g_propagate_error(error, g_steal_pointer(&err));
	return FALSE;
}

gboolean hh_qmp_chardev_file(HhQmp *qmp, const char *id, const char *path,
			     gboolean append, guint timeout_ms, GError **error)
{
	JsonObject *args = json_object_new();
	JsonObject *backend = json_object_new();
	JsonObject *data = json_object_new();

	json_object_set_string_member(data, "out", path);
	json_object_set_boolean_member(data, "append", append);
	json_object_set_string_member(backend, "type", "file");
	json_object_set_object_member(backend, "data", data);
	json_object_set_string_member(args, "id", id);
	json_object_set_object_member(args, "backend", backend);
	return hh_qmp_execute_sync(qmp, "chardev-change", args, timeout_ms,
				   NULL, error);
}
