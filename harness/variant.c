/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "variant.h"
#include "hh-error.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void node_free(gpointer p)
{
	HhNode *n = p;

	g_array_unref(n->cpus);
	g_free(n);
}

void hh_variant_free(HhVariant *v)
{
	if (!v)
		return;
	g_free(v->name);
	g_free(v->path);
	g_free(v->description);
	g_free(v->machine);
	g_free(v->cmdline);
	g_free(v->rootfs);
	g_ptr_array_unref(v->nodes);
	g_ptr_array_unref(v->virtio_mems);
	g_hash_table_unref(v->params);
	g_free(v);
}

#define MAX_IDS 4096
#define MAX_ID 65536

gboolean hh_parse_id_list(const char *text, GArray *out)
{
	g_auto(GStrv) parts = g_strsplit(text, ",", -1);

	for (int i = 0; parts[i]; i++) {
		char *p = g_strstrip(parts[i]), *end;
		guint64 a, b;

		if (!*p)
			continue;
		if (!g_ascii_isdigit(*p))
			return FALSE;
		a = b = g_ascii_strtoull(p, &end, 10);
		if (*end == '-') {
			if (!g_ascii_isdigit(end[1]))
				return FALSE;
			b = g_ascii_strtoull(end + 1, &end, 10);
		}
		/* Ids below MAX_ID (strtoull saturates: with b = 2^64-1 the
		 * loop below never ended), at most MAX_IDS of them in all. */
		if (*end || b < a || b >= MAX_ID ||
		    out->len + (b - a + 1) > MAX_IDS)
			return FALSE;
		for (guint64 x = a; x <= b; x++) {
			guint id = (guint)x;

			g_array_append_val(out, id);
		}
	}
	return TRUE;
}

static gboolean get_size(GKeyFile *kf, const char *group, const char *key,
			 gboolean required, guint64 *out, const char *path,
			 GError **error)
{
	g_autofree char *s = g_key_file_get_string(kf, group, key, NULL);
	g_autoptr(GError) local = NULL;

	if (!s) {
		if (!required)
			return TRUE;
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [%s] needs %s= (a size like 3G)", path, group,
			    key);
		return FALSE;
	}
	if (!hh_parse_size(g_strstrip(s), out, &local)) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG, "%s: [%s] %s: %s",
			    path, group, key, local->message);
		return FALSE;
	}
	return TRUE;
}

static gboolean get_uint(GKeyFile *kf, const char *group, const char *key,
			 guint *out, const char *path, GError **error)
{
	g_autofree char *s = g_key_file_get_string(kf, group, key, NULL);
	guint64 v;

	if (!s)
		return TRUE;
	if (!g_ascii_string_to_unsigned(g_strstrip(s), 10, 0, 4096, &v, NULL)) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [%s] %s: expected a number, got '%s'", path,
			    group, key, s);
		return FALSE;
	}
	*out = (guint)v;
	return TRUE;
}

static gboolean load_node(HhVariant *v, GKeyFile *kf, const char *group,
			  GError **error)
{
	g_autofree char *cpus = g_key_file_get_string(kf, group, "cpus", NULL);
	HhNode *n = g_new0(HhNode, 1);
	guint64 id;

	n->cpus = g_array_new(FALSE, FALSE, sizeof(guint));
	g_ptr_array_add(v->nodes, n);
	if (!g_ascii_string_to_unsigned(group + 5, 10, 0, 63, &id, NULL)) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [%s]: expected [node N] with N in 0..63",
			    v->path, group);
		return FALSE;
	}
	n->id = (guint)id;
	if (!get_size(kf, group, "memory", TRUE, &n->memory, v->path, error))
		return FALSE;
	if (cpus && !hh_parse_id_list(cpus, n->cpus)) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [%s] cpus: expected a list like 0-1,3, got '%s'",
			    v->path, group, cpus);
		return FALSE;
	}
	return TRUE;
}

static void virtio_mem_free(gpointer p)
{
	HhVirtioMem *m = p;

	g_free(m->id);
	g_free(m);
}

static gboolean load_virtio_mem(HhVariant *v, GKeyFile *kf, const char *group,
				GError **error)
{
	HhVirtioMem *m = g_new0(HhVirtioMem, 1);
	const char *id = group + strlen("virtio-mem ");
	g_autofree char *node = g_key_file_get_string(kf, group, "node", NULL);
	guint64 n;

	g_ptr_array_add(v->virtio_mems, m);
	m->id = g_strdup(id);
	m->node = -1;
	for (const char *p = id; *p || p == id; p++) {
		if (!*p || (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s: [%s]: the id takes letters, digits, "
				    "'-' and '_'", v->path, group);
			return FALSE;
		}
	}
	if (node) {
		if (!g_ascii_string_to_unsigned(g_strstrip(node), 10, 0, 63, &n,
						NULL)) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s: [%s] node: expected a node number, "
				    "got '%s'", v->path, group, node);
			return FALSE;
		}
		m->node = (gint)n;
	}
	return get_size(kf, group, "size", TRUE, &m->size, v->path, error) &&
	       get_size(kf, group, "requested", FALSE, &m->requested, v->path,
			error) &&
	       get_size(kf, group, "block", FALSE, &m->block, v->path, error);
}

static gint node_cmp(gconstpointer a, gconstpointer b)
{
	const HhNode *x = *(HhNode *const *)a, *y = *(HhNode *const *)b;

	return (gint)x->id - (gint)y->id;
}

static gboolean validate(HhVariant *v, GError **error)
{
	guint64 total = 0, vmem = 0;
	g_autofree char *maxcpus = hh_variant_cmdline_value(v, "maxcpus");
	g_autofree char *mem = hh_variant_cmdline_value(v, "mem");
	guint64 mem_bytes;

#define BAD(...)                                                        \
	do {                                                            \
		g_autofree char *m_ = g_strdup_printf(__VA_ARGS__);     \
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG, "%s: %s", \
			    v->path, m_);                               \
		return FALSE;                                           \
	} while (0)

	if (!g_str_equal(v->machine, "pc") && !g_str_equal(v->machine, "q35"))
		BAD("machine=%s: only pc and q35 are supported", v->machine);
	if (v->cpus == 0)
		BAD("cpus=0: a guest needs at least one CPU");
	if (v->maxcpus < v->cpus)
		BAD("maxcpus=%u is below cpus=%u", v->maxcpus, v->cpus);
	if (!v->cores || v->maxcpus % v->cores)
		BAD("cores=%u must divide maxcpus=%u", v->cores, v->maxcpus);
	if (v->cores > 1 && v->nodes->len)
		BAD("cores= above 1 cannot be combined with [node N] groups "
		    "(their cpus= name sockets)");
	if (v->slots && v->maxmem <= v->memory)
		BAD("slots=%u needs maxmem= above memory=", v->slots);
	if (maxcpus && strtoul(maxcpus, NULL, 10) > v->maxcpus)
		BAD("kernel maxcpus=%s is above the topology's maxcpus=%u",
		    maxcpus, v->maxcpus);
	if (mem && hh_parse_size(mem, &mem_bytes, NULL) &&
	    mem_bytes > v->memory)
		BAD("kernel mem=%s is above the guest's memory", mem);
	for (guint i = 0; i < v->nodes->len; i++) {
		HhNode *n = v->nodes->pdata[i];

		if (n->id != i)
			BAD("NUMA node ids must run 0..N-1 without gaps; "
			    "node %u is missing", i);
		total += n->memory;
		for (guint c = 0; c < n->cpus->len; c++) {
			if (g_array_index(n->cpus, guint, c) >= v->maxcpus)
				BAD("[node %u] cpus: CPU %u is beyond maxcpus=%u",
				    n->id, g_array_index(n->cpus, guint, c),
				    v->maxcpus);
		}
	}
	if (v->nodes->len && total != v->memory)
		BAD("the nodes' memory adds up to %" G_GUINT64_FORMAT
		    " MiB but memory= is %" G_GUINT64_FORMAT " MiB",
		    total >> 20, v->memory >> 20);
	if (v->nodes->len && ((HhNode *)v->nodes->pdata[0])->memory == 0)
		BAD("node 0 must have memory (the kernel boots from it)");
	for (guint i = 0; i < v->virtio_mems->len; i++) {
		HhVirtioMem *m = v->virtio_mems->pdata[i];

		if (m->node >= (gint)MAX(v->nodes->len, 1))
			BAD("[virtio-mem %s] node=%d: the guest has no such "
			    "node", m->id, m->node);
		if (m->requested > m->size)
			BAD("[virtio-mem %s] requested= is above size=", m->id);
		vmem += m->size;
	}
	if (vmem && v->memory + vmem > v->maxmem)
		BAD("the virtio-mem devices need maxmem= of at least memory= "
		    "plus their sizes (%" G_GUINT64_FORMAT " MiB)",
		    (v->memory + vmem) >> 20);
#undef BAD
	return TRUE;
}

HhVariant *hh_variant_parse(const char *text, const char *path,
			    GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(HhVariant) v = g_new0(HhVariant, 1);
	g_auto(GStrv) groups = NULL;
	g_autofree char *base = g_path_get_basename(path);

	v->path = g_strdup(path);
	v->name = g_strndup(base, strcspn(base, "."));
	v->nodes = g_ptr_array_new_with_free_func(node_free);
	v->virtio_mems = g_ptr_array_new_with_free_func(virtio_mem_free);
	v->params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  g_free);
	if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	if (!g_key_file_has_group(kf, "variant")) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: no [variant] group", path);
		return NULL;
	}
	v->description = g_key_file_get_string(kf, "variant", "description",
					       NULL);
	v->machine = g_key_file_get_string(kf, "variant", "machine", NULL);
	if (!v->machine)
		v->machine = g_strdup("pc");
	v->cmdline = g_key_file_get_string(kf, "variant", "cmdline", NULL);
	if (!v->cmdline)
		v->cmdline = g_strdup("");
	{
		g_autofree char *t = g_key_file_get_string(kf, "variant",
							   "tcg-threads", NULL);

		if (t && !g_str_equal(t, "single") && !g_str_equal(t, "multi")) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s: tcg-threads is '%s', expected single "
				    "or multi", path, t);
			return NULL;
		}
		v->tcg_multi = t && g_str_equal(t, "multi");
	}
	v->rootfs = g_key_file_get_string(kf, "variant", "rootfs", NULL);
	if (v->rootfs && !g_str_equal(v->rootfs, "debian") &&
	    !strchr(v->rootfs, '/')) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: rootfs is '%s', expected debian or the path "
			    "of an image made by 'hotplug-harness image build' "
			    "or 'image import' (with a /)", path, v->rootfs);
		return NULL;
	}
	v->cpus = 1;
	if (!get_size(kf, "variant", "memory", TRUE, &v->memory, path, error) ||
	    !get_size(kf, "variant", "maxmem", FALSE, &v->maxmem, path, error) ||
	    !get_uint(kf, "variant", "slots", &v->slots, path, error) ||
	    !get_uint(kf, "variant", "cpus", &v->cpus, path, error))
		return NULL;
	v->maxcpus = v->cpus;
	v->cores = 1;
	if (!get_uint(kf, "variant", "maxcpus", &v->maxcpus, path, error) ||
	    !get_uint(kf, "variant", "cores", &v->cores, path, error))
		return NULL;
	groups = g_key_file_get_groups(kf, NULL);
	for (int i = 0; groups[i]; i++) {
		if (g_str_equal(groups[i], "variant"))
			continue;
		if (g_str_equal(groups[i], "params")) {
			g_auto(GStrv) keys = g_key_file_get_keys(kf, "params",
								 NULL, NULL);

			for (int k = 0; keys[k]; k++)
				g_hash_table_insert(v->params, g_strdup(keys[k]),
						    g_key_file_get_string(kf, "params",
									  keys[k], NULL));
			continue;
		}
		if (g_str_has_prefix(groups[i], "virtio-mem ")) {
			if (!load_virtio_mem(v, kf, groups[i], error))
				return NULL;
			continue;
		}
		if (!g_str_has_prefix(groups[i], "node ")) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s: unknown group [%s] (expected [variant], "
				    "[node N], [virtio-mem ID] or [params])",
				    path, groups[i]);
			return NULL;
		}
		if (!load_node(v, kf, groups[i], error))
			return NULL;
	}
	g_ptr_array_sort(v->nodes, node_cmp);
	if (!validate(v, error))
		return NULL;
	return g_steal_pointer(&v);
}

HhVariant *hh_variant_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	return hh_variant_parse(text, path, error);
}

char *hh_variant_cmdline_value(const HhVariant *v, const char *name)
{
	g_auto(GStrv) words = g_strsplit_set(v->cmdline, " \t", -1);
	gsize n = strlen(name);
	char *found = NULL;

	for (int i = 0; words[i]; i++) {
		if (!strncmp(words[i], name, n) && words[i][n] == '=') {
			g_free(found);
			found = g_strdup(words[i] + n + 1);
		}
	}
	return found;
}
