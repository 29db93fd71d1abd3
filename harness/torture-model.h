/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_TORTURE_MODEL_H
#define HH_TORTURE_MODEL_H

#include <glib.h>

#include "variant.h"

/*
 * The torture model (docs/torture.md): what the guest's nodes, memory
 * blocks, CPUs and DIMMs must look like after each operation, and which
 * results each operation may legally have.  Pure: no I/O, no clock; the
 * driver (torture.c) feeds it the results the guest gave.
 *
 * Operations are concrete ("online_movable memory17"); a sequence is drawn
 * from a seed up front by simulating the model with every operation
 * taking its first legal result, so the same seed on the same machine
 * always draws the same sequence.  When the guest runs it, an operation
 * whose target is not there (the block of an add that failed) is skipped.
 */

#define HH_TM_MAX_NODES 8
#define HH_TM_MAX_CPUS 16
#define HH_TM_MAX_BLOCKS 96
#define HH_TM_MAX_DIMMS 8

typedef enum {
	HH_TM_ADD_NODE,		/* emulator: debugfs add_node SIZE@START */
	HH_TM_ADD_MEMORY,	/* emulator: add_memory START,NODE */
	HH_TM_ONLINE,		/* memoryN/state online */
	HH_TM_ONLINE_KERNEL,
	HH_TM_ONLINE_MOVABLE,
	HH_TM_OFFLINE,
	HH_TM_CPU_PROBE,	/* emulator: cpu/probe NODE */
	HH_TM_CPU_RELEASE,	/* emulator: cpu/release CPU */
	HH_TM_CPU_ONLINE,	/* cpuN/online 1 */
	HH_TM_CPU_OFFLINE,
	HH_TM_DIMM_ADD,		/* ACPI: QMP pc-dimm hot-add */
	HH_TM_DIMM_DEL,		/* ACPI: device_del of an offline DIMM */
	HH_TM_WORKLOAD,		/* the agent allocates and touches memory */
	HH_TM_N_KINDS
} HhTmKind;

typedef struct {
	HhTmKind kind;
	guint64 start;		/* add_node, add_memory */
	guint64 size;		/* add_node, dimm_add */
	gint node;		/* add_memory, cpu_probe, workload */
	gint block;		/* online*, offline */
	gint cpu;		/* cpu_release, cpu_online, cpu_offline */
	gint dimm;		/* dimm_add, dimm_del: the DIMM's serial */
	guint mib;		/* workload */
	guint seconds;		/* workload */
} HhTmOp;

/* What the machine offers, from the variant and the kernel's config. */
typedef struct {
	guint64 block_size;
	guint64 hidden_start, hidden_end;	/* RAM hidden by mem=; 0 0: none */
	guint possible_nodes;	/* node ids 0..n-1 (1 + numa=possible=) */
	guint boot_cpus;	/* CPUs 0..n-1 present at boot */
	guint ncpus;		/* possible CPUs */
	gboolean emu_memory;	/* CONFIG_MEMORY_HOTPLUG_EMULATION */
	gboolean emu_cpu;	/* CONFIG_CPU_HOTPLUG_EMULATION and cpu_hpe=on */
	guint dimm_slots;
	guint64 dimm_base, dimm_space;
	gboolean workload;
} HhTmConfig;

typedef enum {
	HH_TM_ABSENT,
	HH_TM_OFFLINE_STATE,
	HH_TM_ONLINE_STATE,
} HhTmBlockState;

typedef struct {
	HhTmBlockState state;
	gint node;
	gboolean movable;	/* known to be in ZONE_MOVABLE */
	gint dimm;		/* serial of its DIMM, -1: emulator */
} HhTmBlock;

typedef struct {
	HhTmConfig cfg;
	HhTmBlock blocks[HH_TM_MAX_BLOCKS];
	struct {
		gboolean present, online;
		gint node;
	} cpus[HH_TM_MAX_CPUS];
	struct {
		gboolean present;
		gint serial;
		guint64 start, size;
	} dimms[HH_TM_MAX_DIMMS];
	guint dimm_serial;	/* the next DIMM's serial */
} HhTmModel;

/* The results an operation may have: errno values, 0 for success; n is
 * 0 for an operation that does not apply (it is skipped). */
typedef struct {
	gint err[2];
	guint n;
} HhTmLegal;

/* The machine of a variant, on a kernel with that config (CONFIG_* ->
 * value; may be NULL: no emulator). */
gboolean hh_tm_config_from(const HhVariant *v, GHashTable *kconfig,
			   HhTmConfig *cfg, GError **error);

void hh_tm_init(HhTmModel *m, const HhTmConfig *cfg);

/* Which results op may have now. */
HhTmLegal hh_tm_legal(const HhTmModel *m, const HhTmOp *op);

/* Applies op's result err (one of the legal ones; -1 for a host action
 * that succeeded). */
void hh_tm_apply(HhTmModel *m, const HhTmOp *op, gint err);

/* A sequence drawn from a seed: the same seed and machine, the same
 * operations, whatever the guest answers. */
typedef struct _HhTmGen HhTmGen;

HhTmGen *hh_tm_gen_new(const HhTmConfig *cfg, guint64 seed);
void hh_tm_gen_next(HhTmGen *g, HhTmOp *op);
void hh_tm_gen_free(HhTmGen *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhTmGen, hh_tm_gen_free)

/* The scenario line of op ("write /sys/... online_movable"), without
 * a result. */
char *hh_tm_op_line(const HhTmOp *op);

/* " -> ok", " -> EBUSY", " -> ok|EBUSY", or "" for a host action. */
char *hh_tm_result_suffix(const HhTmOp *op, HhTmLegal legal);

/* The expectation lines that must hold in the model's state (one per
 * line, ending in '\n'); after_acpi: the ACPI event is asynchronous,
 * block and node lines wait up to 10 s (within=10s). */
char *hh_tm_expectations(const HhTmModel *m, gboolean after_acpi);

/* "requires" lines for a scenario using ops. */
char *hh_tm_requires(const HhTmConfig *cfg, GArray *ops);

const char *hh_tm_kind_name(HhTmKind k);

#endif
