/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "matrix.h"
#include "hosts.h"
#include "vm.h"
#include "hh-error.h"
#include "paths.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define GiB (1ull << 30)

static void kernel_free(gpointer p)
{
	HhMatrixKernel *k = p;

	g_free(k->name);
	hh_kernel_spec_clear(&k->spec);
	g_free(k);
}

static void cell_free(gpointer p)
{
	HhMatrixCell *c = p;

	g_free(c->name);
	hh_scenario_free(c->scenario);
	g_free(c);
}

void hh_matrix_free(HhMatrix *m)
{
	if (!m)
		return;
	g_free(m->path);
	g_ptr_array_unref(m->kernels);
	g_ptr_array_unref(m->variants);
	g_ptr_array_unref(m->scenarios);
	g_strfreev(m->include);
	g_strfreev(m->exclude);
	g_free(m->backend);
	g_free(m->connect);
	if (m->hosts)
		g_ptr_array_unref(m->hosts);
	g_free(m->hosts_file);
	g_free(m);
}

/* [hosts] file=FILE (relative to the matrix) and [host NAME] groups. */
static gboolean load_hosts(HhMatrix *m, GKeyFile *kf, const char *path,
			   GError **error)
{
	g_autofree char *file = g_key_file_get_string(kf, "hosts", "file",
						      NULL);

	m->hosts = hh_hosts_parse(kf, path, error);
	if (!m->hosts)
		return FALSE;
	if (file && *g_strstrip(file)) {
		g_autofree char *dir = g_path_get_dirname(path);
		g_autoptr(GPtrArray) more = NULL;

		m->hosts_file = g_path_is_absolute(file) ? g_strdup(file) :
				g_build_filename(dir, file, NULL);
		more = hh_hosts_load(m->hosts_file, error);
		if (!more) {
			g_prefix_error(error, "%s: [hosts] file=: ", path);
			return FALSE;
		}
		for (guint i = 0; i < more->len; i++)
			g_ptr_array_add(m->hosts,
					g_ptr_array_steal_index(more, i--));
	}
	return TRUE;
}

guint hh_matrix_shard_of(const char *cell, guint n)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 digest[32];
	gsize len = sizeof(digest);
	guint64 v = 0;

	g_checksum_update(sum, (const guchar *)cell, -1);
	g_checksum_get_digest(sum, digest, &len);
	for (guint i = 0; i < 8; i++)
		v = v << 8 | digest[i];
	return (guint)(v % MAX(n, 1));
}

void hh_matrix_cells_shard(GPtrArray *cells, guint k, guint n)
{
	for (guint i = 0; i < cells->len; i++) {
		HhMatrixCell *c = cells->pdata[i];

		if (hh_matrix_shard_of(c->name, n) != k - 1)
			g_ptr_array_remove_index(cells, i--);
	}
}

/* Names or globs against NAME.EXT files of a config directory. */
static GPtrArray *select_files(const char *subdir, const char *ext,
			       char **wanted, const char *origin,
			       GError **error)
{
	g_autofree char *dir = hh_data_path(subdir);
	g_autoptr(GDir) d = g_dir_open(dir, 0, error);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	const char *n;

	if (!d)
		return NULL;
	while ((n = g_dir_read_name(d))) {
		if (g_str_has_suffix(n, ext))
			g_ptr_array_add(names, g_strndup(n, strlen(n) - strlen(ext)));
	}
	g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
	for (int w = 0; wanted[w]; w++) {
		const char *pat = g_strstrip(wanted[w]);
		gboolean any = FALSE;

		for (guint i = 0; i < names->len; i++) {
			g_autofree char *path = NULL;

			if (!g_pattern_match_simple(pat, names->pdata[i]))
				continue;
			any = TRUE;
			path = g_strdup_printf("%s/%s%s", dir,
					       (char *)names->pdata[i], ext);
			if (!g_ptr_array_find_with_equal_func(out, path,
							      g_str_equal, NULL))
				g_ptr_array_add(out, g_steal_pointer(&path));
		}
		if (!any) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s: no %s/*%s matches '%s'", origin, dir,
				    ext, pat);
			return NULL;
		}
	}
	return g_steal_pointer(&out);
}

static gboolean load_kernels(HhMatrix *m, GKeyFile *kf, GError **error)
{
	g_auto(GStrv) names = g_key_file_get_string_list(kf, "matrix", "kernels",
							 NULL, NULL);

	if (!names || !names[0]) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [matrix] needs kernels=", m->path);
		return FALSE;
	}
	for (int i = 0; names[i]; i++) {
		const char *name = g_strstrip(names[i]);
		g_autofree char *group = g_strdup_printf("kernel %s", name);
		g_autofree char *source = g_key_file_get_string(kf, group, "source", NULL);
		g_autofree char *patches = g_key_file_get_string(kf, group, "patches", NULL);
		HhMatrixKernel *k;

		if (!g_key_file_has_group(kf, group)) {
			g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
				    "%s: kernel '%s' has no [%s] group",
				    m->path, name, group);
			return FALSE;
		}
		k = g_new0(HhMatrixKernel, 1);
		k->name = g_strdup(name);
		k->spec.source = source && !g_str_equal(source, "default") ?
			hh_resolve_config(source) : NULL;
		k->spec.patches_dir = !patches || g_str_equal(patches, "none") ?
			NULL : hh_resolve_config(patches);
		k->spec.fragments_dir = hh_data_path("configs/kernel");
		/* config=debug: optional fragments of configs/kernel;
		 * extra-patches=FILE;...: applied after the series. */
		k->spec.configs = g_key_file_get_string_list(kf, group, "config",
							     NULL, NULL);
		{
			g_auto(GStrv) extra = g_key_file_get_string_list(
				kf, group, "extra-patches", NULL, NULL);

			for (guint j = 0; extra && extra[j]; j++) {
				char *r = hh_resolve_config(g_strstrip(extra[j]));

				g_free(extra[j]);
				extra[j] = r;
			}
			k->spec.extra_patches = g_steal_pointer(&extra);
		}
		g_ptr_array_add(m->kernels, k);
	}
	return TRUE;
}

HhMatrix *hh_matrix_load(const char *path, GError **error)
{
	g_autoptr(HhMatrix) m = g_new0(HhMatrix, 1);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_auto(GStrv) vwant = NULL, swant = NULL;
	g_autoptr(GPtrArray) vfiles = NULL, sfiles = NULL;

	m->path = g_strdup(path);
	m->kernels = g_ptr_array_new_with_free_func(kernel_free);
	m->variants = g_ptr_array_new_with_free_func((GDestroyNotify)hh_variant_free);
	m->scenarios = g_ptr_array_new_with_free_func((GDestroyNotify)hh_scenario_free);
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	vwant = g_key_file_get_string_list(kf, "matrix", "variants", NULL, NULL);
	swant = g_key_file_get_string_list(kf, "matrix", "scenarios", NULL, NULL);
	if (!vwant || !swant) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [matrix] needs variants= and scenarios=", path);
		return NULL;
	}
	m->include = g_key_file_get_string_list(kf, "matrix", "include", NULL, NULL);
	m->exclude = g_key_file_get_string_list(kf, "matrix", "exclude", NULL, NULL);
	m->backend = g_key_file_get_string(kf, "matrix", "backend", NULL);
	m->connect = g_key_file_get_string(kf, "matrix", "connect", NULL);
	if (m->backend && !hh_vm_backend_known(g_strstrip(m->backend))) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: [matrix] backend=%s: expected one of %s", path,
			    m->backend, hh_vm_backend_names());
		return NULL;
	}
	if (!load_hosts(m, kf, path, error))
		return NULL;
	vfiles = select_files("configs/variants", ".variant", vwant, path, error);
	sfiles = vfiles ? select_files("configs/scenarios", ".scenario", swant,
				       path, error) : NULL;
	if (!sfiles)
		return NULL;
	for (guint i = 0; i < vfiles->len; i++) {
		HhVariant *v = hh_variant_load(vfiles->pdata[i], error);

		if (!v)
			return NULL;
		g_ptr_array_add(m->variants, v);
	}
	for (guint i = 0; i < sfiles->len; i++) {
		HhScenario *s = hh_scenario_load(sfiles->pdata[i], NULL, error);

		if (!s)
			return NULL;
		g_ptr_array_add(m->scenarios, s);
	}
	if (!load_kernels(m, kf, error))
		return NULL;
	return g_steal_pointer(&m);
}

static gboolean any_match(char **globs, const char *name)
{
	for (int i = 0; globs && globs[i]; i++) {
		if (g_pattern_match_simple(g_strstrip(globs[i]), name))
			return TRUE;
	}
	return FALSE;
}

GPtrArray *hh_matrix_cells(HhMatrix *m, char **only, char **exclude,
			   GError **error)
{
	g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(cell_free);
	g_autoptr(GString) bad = g_string_new(NULL);

	for (guint k = 0; k < m->kernels->len; k++) {
		for (guint v = 0; v < m->variants->len; v++) {
			for (guint s = 0; s < m->scenarios->len; s++) {
				HhMatrixKernel *ker = m->kernels->pdata[k];
				HhVariant *var = m->variants->pdata[v];
				HhScenario *sc = m->scenarios->pdata[s];
				g_autoptr(GError) err = NULL;
				g_autofree char *name = g_strdup_printf(
					"%s/%s/%s", ker->name, var->name, sc->name);
				g_autoptr(HhScenario) own = NULL;
				HhMatrixCell *c;

				if (!hh_scenario_accepts_variant(sc, var->name) ||
				    (m->include && !any_match(m->include, name)) ||
				    any_match(m->exclude, name) ||
				    (only && only[0] && !any_match(only, name)) ||
				    any_match(exclude, name))
					continue;
				own = hh_scenario_load(sc->path, var->params, &err);
				if (own && own->unresolved)
					err = g_error_copy(own->unresolved);
				if (err || !hh_validate_combination(var, own, &err)) {
					g_string_append_printf(bad, "\n  %s: %s",
							       name, err->message);
					continue;
				}
				c = g_new0(HhMatrixCell, 1);
				c->name = g_steal_pointer(&name);
				c->kernel = ker;
				c->variant = var;
				c->scenario = g_steal_pointer(&own);
				g_ptr_array_add(cells, c);
			}
		}
	}
	if (bad->len) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: impossible combinations, nothing was booted:%s",
			    m->path, bad->str);
		return NULL;
	}
	return g_steal_pointer(&cells);
}

/* ---- validation ---- */

typedef struct {
	guint64 low_end;	/* RAM below 4 GiB: [0, low_end) */
	guint64 high_end;	/* RAM above 4 GiB: [4G, high_end) */
	const char *hole;	/* what lies between low_end and 4 GiB */
} RamMap;

/* QEMU's split of guest RAM around the 32-bit PCI hole (gigabyte-aligned
 * machine types): pc keeps 3 GiB low once RAM reaches 3.5 GiB, q35 keeps
 * 2 GiB low once RAM reaches 2.75 GiB. */
static RamMap ram_map(const HhVariant *v)
{
	gboolean q35 = g_str_equal(v->machine, "q35");
	guint64 limit = q35 ? 0xb0000000ull : 0xe0000000ull;
	guint64 low = q35 ? 2 * GiB : 3 * GiB;
	RamMap m = { v->memory, 0, q35 ? "the q35 PCI hole" : "the pc PCI hole" };

	if (v->memory >= limit) {
		m.low_end = low;
		m.high_end = 4 * GiB + (v->memory - low);
	}
	return m;
}

static gboolean address_ok(const HhVariant *v, guint64 addr, char **why)
{
	RamMap m = ram_map(v);

	if (addr < m.low_end || (addr >= 4 * GiB && addr < m.high_end))
		return TRUE;
	if (addr < 4 * GiB && addr >= m.low_end && m.high_end)
		*why = g_strdup_printf("address 0x%" G_GINT64_MODIFIER "x is inside %s "
				       "(RAM below 4 GiB ends at 0x%" G_GINT64_MODIFIER "x)",
				       addr, m.hole, m.low_end);
	else
		*why = g_strdup_printf("address 0x%" G_GINT64_MODIFIER "x is beyond "
				       "the guest's %" G_GUINT64_FORMAT " MiB of RAM",
				       addr, v->memory >> 20);
	return FALSE;
}

/* Node ids a scenario may name: the topology's, plus numa=possible=N or
 * numa=fake=N on the command line. */
static guint node_limit(const HhVariant *v)
{
	g_autofree char *possible = hh_variant_cmdline_value(v, "numa");
	guint n = MAX(v->nodes->len, 1);

	if (possible && g_str_has_prefix(possible, "possible="))
		n += (guint)strtoul(possible + 9, NULL, 10);
	else if (possible && g_str_has_prefix(possible, "fake="))
		n = MAX(n, (guint)strtoul(possible + 5, NULL, 10));
	return n;
}

static gboolean fail_at(const HhVariant *v, const HhScenario *s, guint line,
			char *why, GError **error)
{
	g_set_error(error, HH_ERROR, HH_ERROR_CONFIG, "%s:%u:1: %s on variant %s (%s)",
		    s->path, line, why, v->name, v->path);
	g_free(why);
	return FALSE;
}

gboolean hh_validate_combination(const HhVariant *v, const HhScenario *s,
				 GError **error)
{
	guint nodes = node_limit(v);

	for (guint i = 0; i < s->steps->len; i++) {
		const HhStep *st = s->steps->pdata[i];
		char *why = NULL;

		if (st->kind == HH_ACT_WRITE &&
		    g_str_has_suffix(st->path, "/memory/probe") &&
		    !s->expect_crash) {
			guint64 addr;

			if (hh_parse_size(st->value, &addr, NULL) &&
			    !address_ok(v, addr, &why))
				return fail_at(v, s, st->line, why, error);
		}
		if ((st->kind == HH_ACT_DIMM_ADD || st->kind == HH_ACT_VCPU_ADD) &&
		    st->node >= (gint)nodes)
			return fail_at(v, s, st->line,
				       g_strdup_printf("node %d is beyond the "
						       "topology's %u node(s)",
						       st->node, nodes),
				       error);
		if (st->kind == HH_ACT_DIMM_ADD && !v->slots)
			return fail_at(v, s, st->line,
				       g_strdup("dimm-add needs slots= and maxmem="),
				       error);
		for (guint j = 0; j < st->expects->len; j++) {
			const HhExpect *e = st->expects->pdata[j];
			gboolean node_kind = e->kind == HH_EXP_NODE_STATE ||
					     e->kind == HH_EXP_NODE_MEMTOTAL;

			if ((node_kind && e->id >= (gint)nodes) ||
			    e->node >= (gint)nodes)
				return fail_at(v, s, e->line,
					       g_strdup_printf("node %d is beyond the "
							       "topology's %u node(s)",
							       node_kind ? e->id : e->node,
							       nodes),
					       error);
			if (e->kind == HH_EXP_CPU_STATE &&
			    e->id >= (gint)v->maxcpus)
				return fail_at(v, s, e->line,
					       g_strdup_printf("CPU %d is beyond "
							       "maxcpus=%u",
							       e->id, v->maxcpus),
					       error);
		}
	}
	return TRUE;
}
