/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The torture model: state, legal results, expectations, and the seeded
 * generator.  See torture-model.h and docs/torture.md.
 */
#include "config.h"

#include "torture-model.h"
#include "hh-error.h"
#include "scenario.h"
#include "util.h"

#include <errno.h>
#include <string.h>

#define MEM_SYSFS "/sys/devices/system/memory"
#define CPU_SYSFS "/sys/devices/system/cpu"
#define EMU_DEBUGFS "/sys/kernel/debug/mem_hotplug"
/* Where QEMU's pc machine puts the first DIMM for guests under 3.5 GiB. */
#define DIMM_BASE (4ull << 30)

static const char *const kind_names[HH_TM_N_KINDS] = {
	"add_node", "add_memory", "online", "online_kernel", "online_movable",
	"offline", "cpu_probe", "cpu_release", "cpu_online", "cpu_offline",
	"dimm_add", "dimm_del", "workload",
};

const char *hh_tm_kind_name(HhTmKind k)
{
	return k < HH_TM_N_KINDS ? kind_names[k] : "?";
}

static gboolean cmdline_uint(const HhVariant *v, const char *name, guint *out)
{
	g_autofree char *t = hh_variant_cmdline_value(v, name);
	guint64 n;

	if (!t || !g_ascii_string_to_unsigned(t, 10, 0, G_MAXUINT, &n, NULL))
		return FALSE;
	*out = (guint)n;
	return TRUE;
}

static gboolean kconfig_on(GHashTable *kconfig, const char *name)
{
	const char *v = kconfig ? g_hash_table_lookup(kconfig, name) : NULL;

	return v && g_str_equal(v, "y");
}

gboolean hh_tm_config_from(const HhVariant *v, GHashTable *kconfig,
			   HhTmConfig *cfg, GError **error)
{
	g_autofree char *mem = hh_variant_cmdline_value(v, "mem");
	g_autofree char *hpe = hh_variant_cmdline_value(v, "cpu_hpe");
	guint possible = 0, maxcpus = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->block_size = 128ull << 20;
	cfg->workload = TRUE;
	if (v->nodes && v->nodes->len > 1) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: torture models a machine without [node] "
			    "groups (one firmware node; the emulator adds the "
			    "others)", v->path);
		return FALSE;
	}
	if (mem && v->memory > (3ull << 30)) {
		g_set_error(error, HH_ERROR, HH_ERROR_CONFIG,
			    "%s: torture models hidden RAM below 3 GiB only "
			    "(memory=3G at most)", v->path);
		return FALSE;
	}
	if (mem) {
		guint64 m;

		if (!hh_parse_size(mem, &m, error))
			return FALSE;
		/* The firmware (SeaBIOS) reserves the top 128 KiB of low
		 * RAM, so the last block below memory= is not all RAM in the
		 * E820 map and the emulator refuses it (EINVAL): found by
		 * the first torture run. */
		if (m + cfg->block_size < v->memory) {
			cfg->hidden_start = m;
			cfg->hidden_end = (v->memory - 1) / cfg->block_size *
					  cfg->block_size;
		}
	}
	cmdline_uint(v, "numa=possible", &possible);
	{
		/* numa=possible=N is one option with an '=' in its name */
		g_autofree char *np = hh_variant_cmdline_value(v, "numa");

		if (np && g_str_has_prefix(np, "possible="))
			possible = (guint)g_ascii_strtoull(np + 9, NULL, 10);
	}
	cfg->possible_nodes = MIN(1 + possible, HH_TM_MAX_NODES);
	cfg->ncpus = MIN(MAX(v->cpus, 1), HH_TM_MAX_CPUS);
	cfg->boot_cpus = cfg->ncpus;
	cfg->emu_memory = kconfig_on(kconfig, "CONFIG_MEMORY_HOTPLUG_EMULATION") &&
			  cfg->hidden_end > cfg->hidden_start &&
			  cfg->possible_nodes > 1;
	if (hpe && g_str_equal(hpe, "on") &&
	    kconfig_on(kconfig, "CONFIG_CPU_HOTPLUG_EMULATION") &&
	    cmdline_uint(v, "maxcpus", &maxcpus) && maxcpus >= 1 &&
	    maxcpus < cfg->ncpus) {
		cfg->emu_cpu = TRUE;
		cfg->boot_cpus = maxcpus;
	}
	if (v->slots && v->maxmem > v->memory &&
	    kconfig_on(kconfig, "CONFIG_ACPI_HOTPLUG_MEMORY")) {
		cfg->dimm_slots = MIN(v->slots, HH_TM_MAX_DIMMS);
		cfg->dimm_base = DIMM_BASE;
		cfg->dimm_space = v->maxmem - v->memory;
		if ((cfg->dimm_base + cfg->dimm_space) / cfg->block_size >
		    HH_TM_MAX_BLOCKS)
			cfg->dimm_space = HH_TM_MAX_BLOCKS * cfg->block_size -
					  cfg->dimm_base;
	}
	if (cfg->hidden_end / cfg->block_size > HH_TM_MAX_BLOCKS)
		cfg->hidden_end = HH_TM_MAX_BLOCKS * cfg->block_size;
	return TRUE;
}

void hh_tm_init(HhTmModel *m, const HhTmConfig *cfg)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	for (guint i = 0; i < HH_TM_MAX_BLOCKS; i++) {
		m->blocks[i].dimm = -1;
		m->blocks[i].node = -1;
	}
	for (guint c = 0; c < HH_TM_MAX_CPUS; c++) {
		m->cpus[c].present = c < cfg->boot_cpus;
		m->cpus[c].online = c < cfg->boot_cpus;
		m->cpus[c].node = c < cfg->boot_cpus ? 0 : -1;
	}
}

/* ---- the state ---- */

static gboolean node_online(const HhTmModel *m, gint n)
{
	if (n == 0)
		return TRUE;
	for (guint b = 0; b < HH_TM_MAX_BLOCKS; b++)
		if (m->blocks[b].state != HH_TM_ABSENT && m->blocks[b].node == n)
			return TRUE;
	for (guint c = 0; c < m->cfg.ncpus; c++)
		if (m->cpus[c].present && m->cpus[c].node == n)
			return TRUE;
	return FALSE;
}

/* Lowest possible node that is offline, or -1. */
static gint spare_node(const HhTmModel *m)
{
	for (guint n = 1; n < m->cfg.possible_nodes; n++)
		if (!node_online(m, (gint)n))
			return (gint)n;
	return -1;
}

static gboolean range_present(const HhTmModel *m, guint64 start, guint64 size)
{
	for (guint64 a = start; a < start + size; a += m->cfg.block_size) {
		guint64 b = a / m->cfg.block_size;

		if (b < HH_TM_MAX_BLOCKS && m->blocks[b].state != HH_TM_ABSENT)
			return TRUE;
	}
	return FALSE;
}

/* Lowest CPU that emulation may probe, or -1. */
static gint hidden_cpu(const HhTmModel *m)
{
	for (guint c = m->cfg.boot_cpus; c < m->cfg.ncpus; c++)
		if (!m->cpus[c].present)
			return (gint)c;
	return -1;
}

static gint dimm_slot(const HhTmModel *m, gint serial)
{
	for (guint i = 0; i < HH_TM_MAX_DIMMS; i++)
		if (m->dimms[i].present && m->dimms[i].serial == serial)
			return (gint)i;
	return -1;
}

static guint dimms_present(const HhTmModel *m)
{
	guint n = 0;

	for (guint i = 0; i < HH_TM_MAX_DIMMS; i++)
		n += m->dimms[i].present;
	return n;
}

/* Where QEMU puts a DIMM of size: the lowest gap that fits (first fit
 * over the hot-plug area), or G_MAXUINT64. */
static guint64 dimm_place(const HhTmModel *m, guint64 size)
{
	guint64 at = m->cfg.dimm_base, end = m->cfg.dimm_base + m->cfg.dimm_space;
	gboolean moved = TRUE;

	while (moved) {
		moved = FALSE;
		for (guint i = 0; i < HH_TM_MAX_DIMMS; i++) {
			guint64 s = m->dimms[i].start, e = s + m->dimms[i].size;

			if (m->dimms[i].present && at < e && s < at + size) {
				at = e;
				moved = TRUE;
			}
		}
	}
	return at + size <= end ? at : G_MAXUINT64;
}

static gboolean dimm_blocks_offline(const HhTmModel *m, gint slot)
{
	guint64 bs = m->cfg.block_size;

	for (guint64 a = m->dimms[slot].start;
	     a < m->dimms[slot].start + m->dimms[slot].size; a += bs)
		if (m->blocks[a / bs].state == HH_TM_ONLINE_STATE)
			return FALSE;
	return TRUE;
}

static HhTmLegal one(gint err)
{
	return (HhTmLegal){ .err = { err, 0 }, .n = 1 };
}

static HhTmLegal two(gint a, gint b)
{
	return (HhTmLegal){ .err = { a, b }, .n = 2 };
}

HhTmLegal hh_tm_legal(const HhTmModel *m, const HhTmOp *op)
{
	const HhTmLegal skip = { .n = 0 };
	const HhTmBlock *b = op->block >= 0 && op->block < HH_TM_MAX_BLOCKS ?
			     &m->blocks[op->block] : NULL;
	gboolean cpu_ok = op->cpu >= 0 && op->cpu < HH_TM_MAX_CPUS;
	gboolean overlap;
	gint slot;

	switch (op->kind) {
	case HH_TM_ADD_NODE:
		overlap = range_present(m, op->start, op->size);
		if (overlap && spare_node(m) < 0)
			return two(EEXIST, ENOSPC);
		if (overlap)
			return one(EEXIST);
		return one(spare_node(m) < 0 ? ENOSPC : 0);
	case HH_TM_ADD_MEMORY:
		overlap = range_present(m, op->start, m->cfg.block_size);
		if (op->node >= (gint)m->cfg.possible_nodes)
			return overlap ? two(EINVAL, EEXIST) : one(EINVAL);
		return one(overlap ? EEXIST : 0);
	case HH_TM_ONLINE:
	case HH_TM_ONLINE_KERNEL:
	case HH_TM_ONLINE_MOVABLE:
		if (!b || b->state == HH_TM_ABSENT)
			return skip;
		return one(b->state == HH_TM_ONLINE_STATE ? EINVAL : 0);
	case HH_TM_OFFLINE:
		if (!b || b->state == HH_TM_ABSENT)
			return skip;
		if (b->state == HH_TM_OFFLINE_STATE)
			return one(EINVAL);
		/* ZONE_MOVABLE holds only movable pages: offlining migrates
		 * them and must succeed.  Elsewhere unmovable pages may be
		 * in the way. */
		return b->movable ? one(0) : two(0, EBUSY);
	case HH_TM_CPU_PROBE:
		if (op->node < 0 || op->node >= (gint)m->cfg.possible_nodes)
			return one(EINVAL);
		return one(hidden_cpu(m) < 0 ? ENOSPC : 0);
	case HH_TM_CPU_RELEASE:
		if (!cpu_ok)
			return skip;
		if (!m->cpus[op->cpu].present)
			return one(EINVAL);
		/* releasing an online CPU is not modelled */
		return m->cpus[op->cpu].online ? skip : one(0);
	case HH_TM_CPU_ONLINE:
	case HH_TM_CPU_OFFLINE:
		if (!cpu_ok || op->cpu == 0 || !m->cpus[op->cpu].present)
			return skip;
		return one(0);
	case HH_TM_DIMM_ADD:
		if (dimms_present(m) >= m->cfg.dimm_slots ||
		    dimm_place(m, op->size) == G_MAXUINT64)
			return skip;
		return one(0);
	case HH_TM_DIMM_DEL:
		slot = dimm_slot(m, op->dimm);
		/* removing online memory is not modelled (the guest may or
		 * may not manage to offline it on the eject) */
		if (slot < 0 || !dimm_blocks_offline(m, slot))
			return skip;
		return one(0);
	case HH_TM_WORKLOAD:
		return one(0);
	case HH_TM_N_KINDS:
		break;
	}
	return skip;
}

static void add_blocks(HhTmModel *m, guint64 start, guint64 size, gint node,
		       gint dimm)
{
	for (guint64 a = start; a < start + size; a += m->cfg.block_size) {
		HhTmBlock *b = &m->blocks[a / m->cfg.block_size];

		b->state = HH_TM_OFFLINE_STATE;
		b->node = node;
		b->movable = FALSE;
		b->dimm = dimm;
	}
}

void hh_tm_apply(HhTmModel *m, const HhTmOp *op, gint err)
{
	HhTmBlock *b = op->block >= 0 && op->block < HH_TM_MAX_BLOCKS ?
		       &m->blocks[op->block] : NULL;
	gint slot, c;
	guint64 at;

	if (err > 0)
		return;	/* a refused operation changes nothing */
	switch (op->kind) {
	case HH_TM_ADD_NODE:
		add_blocks(m, op->start, op->size, spare_node(m), -1);
		break;
	case HH_TM_ADD_MEMORY:
		add_blocks(m, op->start, m->cfg.block_size, op->node, -1);
		break;
	case HH_TM_ONLINE:
	case HH_TM_ONLINE_KERNEL:
	case HH_TM_ONLINE_MOVABLE:
		b->state = HH_TM_ONLINE_STATE;
		/* plain "online" picks a zone by the kernel's policy, which
		 * the model does not predict: not known to be movable */
		b->movable = op->kind == HH_TM_ONLINE_MOVABLE;
		break;
	case HH_TM_OFFLINE:
		b->state = HH_TM_OFFLINE_STATE;
		b->movable = FALSE;
		break;
	case HH_TM_CPU_PROBE:
		c = hidden_cpu(m);
		m->cpus[c].present = TRUE;
		m->cpus[c].online = FALSE;
		m->cpus[c].node = op->node;
		break;
	case HH_TM_CPU_RELEASE:
		m->cpus[op->cpu].present = FALSE;
		break;
	case HH_TM_CPU_ONLINE:
		m->cpus[op->cpu].online = TRUE;
		break;
	case HH_TM_CPU_OFFLINE:
		m->cpus[op->cpu].online = FALSE;
		break;
	case HH_TM_DIMM_ADD:
		at = dimm_place(m, op->size);
		for (slot = 0; m->dimms[slot].present; slot++)
			;
		m->dimms[slot].present = TRUE;
		m->dimms[slot].serial = op->dimm;
		m->dimms[slot].start = at;
		m->dimms[slot].size = op->size;
		add_blocks(m, at, op->size, 0, op->dimm);
		break;
	case HH_TM_DIMM_DEL:
		slot = dimm_slot(m, op->dimm);
		for (guint64 a = m->dimms[slot].start;
		     a < m->dimms[slot].start + m->dimms[slot].size;
		     a += m->cfg.block_size) {
			m->blocks[a / m->cfg.block_size].state = HH_TM_ABSENT;
			m->blocks[a / m->cfg.block_size].node = -1;
		}
		m->dimms[slot].present = FALSE;
		break;
	case HH_TM_WORKLOAD:
	case HH_TM_N_KINDS:
		break;
	}
}

/* ---- the generator ---- */

struct _HhTmGen {
	GRand *rand;
	HhTmModel model;
	guint64 seed;
};

HhTmGen *hh_tm_gen_new(const HhTmConfig *cfg, guint64 seed)
{
	HhTmGen *g = g_new0(HhTmGen, 1);
	guint32 words[2] = { (guint32)seed, (guint32)(seed >> 32) };

	g->rand = g_rand_new_with_seed_array(words, 2);
	g->seed = seed;
	hh_tm_init(&g->model, cfg);
	return g;
}

void hh_tm_gen_free(HhTmGen *g)
{
	if (!g)
		return;
	g_rand_free(g->rand);
	g_free(g);
}

static guint pick(GRand *r, guint n)
{
	return n ? (guint)g_rand_int_range(r, 0, (gint32)n) : 0;
}

/* A block of the hot-plug ranges in state want (or any present one if
 * want is HH_TM_ABSENT), chosen at random; -1 if none. */
static gint pick_block(HhTmGen *g, gboolean want_online)
{
	gint found[HH_TM_MAX_BLOCKS];
	guint n = 0;

	for (guint b = 0; b < HH_TM_MAX_BLOCKS; b++) {
		const HhTmBlock *x = &g->model.blocks[b];

		if (x->state == HH_TM_ABSENT)
			continue;
		if (want_online && x->state != HH_TM_ONLINE_STATE)
			continue;
		found[n++] = (gint)b;
	}
	return n ? found[pick(g->rand, n)] : -1;
}

static guint64 pick_hidden(HhTmGen *g, guint max_blocks, guint64 *size)
{
	const HhTmConfig *c = &g->model.cfg;
	guint nblocks = (guint)((c->hidden_end - c->hidden_start) / c->block_size);
	guint first = pick(g->rand, nblocks);
	guint len = 1 + pick(g->rand, max_blocks);

	len = MIN(len, nblocks - first);
	if (size)
		*size = len * c->block_size;
	return c->hidden_start + first * c->block_size;
}

/* Draws one operation that applies in the simulated model. */
static gboolean draw(HhTmGen *g, HhTmOp *op)
{
	const HhTmConfig *c = &g->model.cfg;
	HhTmModel *m = &g->model;
	/* weights, by kind */
	guint w[HH_TM_N_KINDS] = { 0 };
	guint total = 0, r;
	gint k;

	if (c->emu_memory) {
		w[HH_TM_ADD_NODE] = 2;
		w[HH_TM_ADD_MEMORY] = 3;
	}
	w[HH_TM_ONLINE] = w[HH_TM_ONLINE_KERNEL] = 2;
	w[HH_TM_ONLINE_MOVABLE] = 3;
	w[HH_TM_OFFLINE] = 6;
	if (c->emu_cpu) {
		w[HH_TM_CPU_PROBE] = 2;
		w[HH_TM_CPU_RELEASE] = 2;
	}
	if (c->ncpus > 1)
		w[HH_TM_CPU_ONLINE] = w[HH_TM_CPU_OFFLINE] = 3;
	if (c->dimm_slots)
		w[HH_TM_DIMM_ADD] = w[HH_TM_DIMM_DEL] = 2;
	if (c->workload)
		w[HH_TM_WORKLOAD] = 2;
	for (k = 0; k < HH_TM_N_KINDS; k++)
		total += w[k];
	r = pick(g->rand, total);
	for (k = 0; r >= w[k]; k++)
		r -= w[k];

	memset(op, 0, sizeof(*op));
	op->kind = (HhTmKind)k;
	op->node = op->block = op->cpu = op->dimm = -1;
	switch (op->kind) {
	case HH_TM_ADD_NODE:
		op->start = pick_hidden(g, 2, &op->size);
		break;
	case HH_TM_ADD_MEMORY:
		op->start = pick_hidden(g, 1, NULL);
		/* now and then a node id that is not possible: EINVAL */
		op->node = (gint)pick(g->rand, c->possible_nodes + 1);
		break;
	case HH_TM_ONLINE:
	case HH_TM_ONLINE_KERNEL:
	case HH_TM_ONLINE_MOVABLE:
		op->block = pick_block(g, FALSE);
		break;
	case HH_TM_OFFLINE:
		/* mostly online blocks; an offline one now and then */
		op->block = pick_block(g, pick(g->rand, 5) != 0);
		break;
	case HH_TM_CPU_PROBE:
		op->node = (gint)pick(g->rand, c->possible_nodes + 1);
		break;
	case HH_TM_CPU_RELEASE:
	case HH_TM_CPU_ONLINE:
	case HH_TM_CPU_OFFLINE:
		op->cpu = 1 + (gint)pick(g->rand, c->ncpus - 1);
		break;
	case HH_TM_DIMM_ADD:
		op->size = (1 + pick(g->rand, 2)) * c->block_size;
		op->dimm = (gint)m->dimm_serial;
		break;
	case HH_TM_DIMM_DEL: {
		gint present[HH_TM_MAX_DIMMS];
		guint n = 0;

		for (guint i = 0; i < HH_TM_MAX_DIMMS; i++)
			if (m->dimms[i].present)
				present[n++] = m->dimms[i].serial;
		op->dimm = n ? present[pick(g->rand, n)] : -1;
		break;
	}
	case HH_TM_WORKLOAD:
		op->node = (gint)pick(g->rand, c->possible_nodes);
		op->mib = 8 * (1 + pick(g->rand, 6));
		op->seconds = 5 + pick(g->rand, 26);
		break;
	case HH_TM_N_KINDS:
		return FALSE;
	}
	return hh_tm_legal(m, op).n > 0;
}

void hh_tm_gen_next(HhTmGen *g, HhTmOp *op)
{
	HhTmLegal legal;

	/* Every machine offers something that always applies (a workload,
	 * a probe or an add); give up on a kind after a failed draw. */
	for (guint tries = 0; !draw(g, op); tries++)
		g_assert(tries < 10000);
	legal = hh_tm_legal(&g->model, op);
	if (op->kind == HH_TM_DIMM_ADD)
		g->model.dimm_serial++;
	/* simulate the first legal result */
	hh_tm_apply(&g->model, op, legal.err[0]);
}

/* ---- text ---- */

char *hh_tm_op_line(const HhTmOp *op)
{
	g_autofree char *size = NULL;

	switch (op->kind) {
	case HH_TM_ADD_NODE:
		size = g_strdup_printf("%" G_GUINT64_FORMAT "M", op->size >> 20);
		return g_strdup_printf("write " EMU_DEBUGFS "/add_node %s@0x%"
				       G_GINT64_MODIFIER "x", size, op->start);
	case HH_TM_ADD_MEMORY:
		return g_strdup_printf("write " EMU_DEBUGFS "/add_memory 0x%"
				       G_GINT64_MODIFIER "x,%d", op->start,
				       op->node);
	case HH_TM_ONLINE:
	case HH_TM_ONLINE_KERNEL:
	case HH_TM_ONLINE_MOVABLE:
	case HH_TM_OFFLINE:
		return g_strdup_printf("write " MEM_SYSFS "/memory%d/state %s",
				       op->block, kind_names[op->kind]);
	case HH_TM_CPU_PROBE:
		return g_strdup_printf("write " CPU_SYSFS "/probe %d", op->node);
	case HH_TM_CPU_RELEASE:
		return g_strdup_printf("write " CPU_SYSFS "/release %d", op->cpu);
	case HH_TM_CPU_ONLINE:
	case HH_TM_CPU_OFFLINE:
		return g_strdup_printf("write " CPU_SYSFS "/cpu%d/online %d",
				       op->cpu, op->kind == HH_TM_CPU_ONLINE);
	case HH_TM_DIMM_ADD:
		return g_strdup_printf("dimm-add tdimm%d %" G_GUINT64_FORMAT "M",
				       op->dimm, op->size >> 20);
	case HH_TM_DIMM_DEL:
		return g_strdup_printf("device-del tdimm%d", op->dimm);
	case HH_TM_WORKLOAD:
		return g_strdup_printf("run /init --workload %u %d %u", op->mib,
				       op->node, op->seconds);
	case HH_TM_N_KINDS:
		break;
	}
	return g_strdup("mark ?");
}

static const char *result_name(gint err)
{
	return err ? hh_errno_name(err) : "ok";
}

char *hh_tm_result_suffix(const HhTmOp *op, HhTmLegal legal)
{
	if (op->kind == HH_TM_DIMM_ADD || op->kind == HH_TM_DIMM_DEL ||
	    op->kind == HH_TM_WORKLOAD || !legal.n)
		return g_strdup("");
	if (legal.n == 2)
		return g_strdup_printf(" -> %s|%s", result_name(legal.err[0]),
				       result_name(legal.err[1]));
	return g_strdup_printf(" -> %s", result_name(legal.err[0]));
}

char *hh_tm_expectations(const HhTmModel *m, gboolean after_acpi)
{
	GString *s = g_string_new(NULL);
	const char *within = after_acpi ? " within=10s" : "";
	const HhTmConfig *c = &m->cfg;
	guint64 lo[2] = { c->hidden_start, c->dimm_base };
	guint64 hi[2] = { c->hidden_end, c->dimm_base + c->dimm_space };
	guint64 online_kb[HH_TM_MAX_NODES] = { 0 };

	for (guint n = 0; n < c->possible_nodes; n++)
		g_string_append_printf(s, "node %u %s\n", n,
				       node_online(m, (gint)n) ? "online" :
								 "offline");
	for (guint cpu = 1; cpu < c->ncpus; cpu++) {
		if (!m->cpus[cpu].present)
			g_string_append_printf(s, "cpu %u absent\n", cpu);
		else if (m->cpus[cpu].online)
			g_string_append_printf(s, "cpu %u online node=%d\n", cpu,
					       m->cpus[cpu].node);
		else
			g_string_append_printf(s, "cpu %u offline\n", cpu);
	}
	for (guint r = 0; r < 2; r++) {
		if (hi[r] <= lo[r] || (r == 1 && !c->dimm_slots))
			continue;
		for (guint64 b = lo[r] / c->block_size;
		     b < hi[r] / c->block_size && b < HH_TM_MAX_BLOCKS; b++) {
			const HhTmBlock *x = &m->blocks[b];

			if (x->state == HH_TM_ONLINE_STATE && x->node >= 0)
				online_kb[x->node] += c->block_size >> 10;
			g_string_append_printf(
				s, "block %" G_GUINT64_FORMAT " %s%s%s\n", b,
				x->state == HH_TM_ABSENT ? "absent" :
				x->state == HH_TM_OFFLINE_STATE ? "offline" :
								  "online",
				x->movable ? " zone=Movable" : "",
				x->dimm >= 0 || (r == 1) ? within : "");
		}
	}
	for (guint n = 0; n < c->possible_nodes; n++)
		if (node_online(m, (gint)n))
			g_string_append_printf(s, "node %u memtotal +%"
					       G_GUINT64_FORMAT "kB\n", n,
					       online_kb[n]);
	g_string_append(s, "taint 0\n");
	return g_string_free(s, FALSE);
}

char *hh_tm_requires(const HhTmConfig *cfg, GArray *ops)
{
	gboolean emu_mem = FALSE, emu_cpu = FALSE, dimm = FALSE;
	GString *s = g_string_new(NULL);

	(void)cfg;
	for (guint i = 0; ops && i < ops->len; i++) {
		HhTmKind k = g_array_index(ops, HhTmOp, i).kind;

		emu_mem |= k == HH_TM_ADD_NODE || k == HH_TM_ADD_MEMORY;
		emu_cpu |= k == HH_TM_CPU_PROBE || k == HH_TM_CPU_RELEASE;
		dimm |= k == HH_TM_DIMM_ADD;
	}
	if (emu_mem)
		g_string_append(s, "requires config CONFIG_MEMORY_HOTPLUG_EMULATION\n"
				   "requires path " EMU_DEBUGFS "/add_node\n");
	if (emu_cpu)
		g_string_append(s, "requires config CONFIG_CPU_HOTPLUG_EMULATION\n"
				   "requires path " CPU_SYSFS "/probe\n");
	if (dimm)
		g_string_append(s, "requires config CONFIG_ACPI_HOTPLUG_MEMORY\n"
				   "requires config CONFIG_MEMORY_HOTREMOVE\n");
	return g_string_free(s, FALSE);
}
