/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_SCENARIO_H
#define HH_SCENARIO_H

#include <glib.h>

/*
 * Scenario files (configs/scenarios/NAME.scenario), one line per action or
 * expectation; the grammar is in docs/scenarios.md.  Each action starts a
 * step; the expectations after it belong to that step and see the kernel
 * log from the step's start.  Expectations before the first action belong
 * to the "boot" step.
 */
typedef enum {
	HH_ACT_BOOT,		/* implicit first step */
	HH_ACT_WRITE,
	HH_ACT_READ,
	HH_ACT_RUN,
	HH_ACT_DIMM_ADD,
	HH_ACT_VCPU_ADD,
	HH_ACT_DEVICE_DEL,
	HH_ACT_VCPU_DEL,
	HH_ACT_VIRTIO_MEM_ADD,
	HH_ACT_VIRTIO_MEM_RESIZE,
	HH_ACT_MARK,
	HH_ACT_UDEV_SETTLE,	/* udevadm settle in the guest (distro) */
	HH_ACT_SELFTEST,	/* a kernel selftest, its cases as steps */
} HhActionKind;

typedef enum {
	HH_EXP_LOG,
	HH_EXP_NO_LOG,
	HH_EXP_FILE_EQUALS,
	HH_EXP_FILE_MATCHES,
	HH_EXP_NODE_STATE,	/* node N online|offline */
	HH_EXP_NODE_MEMTOTAL,	/* node N memtotal SIZE | +SIZE */
	HH_EXP_CPU_STATE,	/* cpu N online|offline [node=M] */
	HH_EXP_BLOCK_STATE,	/* block N STATE [zone=Z] */
	HH_EXP_TAINT,
	HH_EXP_VIRTIO_MEM,	/* virtio-mem ID plugged [<|>]SIZE */
} HhExpectKind;

typedef enum {
	HH_CMP_EQ,
	HH_CMP_LT,
	HH_CMP_GT,
} HhCompare;

typedef struct {
	HhExpectKind kind;
	guint line;
	char *text;		/* the source line, for reports */
	char *path;
	char *value;		/* equals text, state word */
	GRegex *regex;
	gint count;		/* -1: at least once */
	gboolean since_boot;
	gint id;		/* node, cpu or block number */
	gint node;		/* -1: not checked */
	char *zone;		/* NULL: not checked */
	guint64 size;		/* memtotal or plugged bytes */
	HhCompare cmp;		/* virtio-mem plugged */
	char *device;		/* virtio-mem id */
	gboolean delta;		/* size is growth since the scenario began */
	guint64 number;		/* taint */
	guint within_ms;	/* 0: check once; else poll until true */
} HhExpect;

typedef struct {
	HhActionKind kind;
	guint line;
	char *text;
	char *path;
	char *value;		/* selftest: COLLECTION:TEST */
	char **argv;		/* run, udev-settle */
	guint timeout_ms;	/* run: the command's own limit */
	gint expect_errno;	/* write/read: 0 = success */
	gint also_errno;	/* write/read: a second result that passes
				 * ("-> ok|EBUSY"); -1: none */
	gint expect_exit;	/* run: -1 = any */
	gboolean expect_refused;	/* device-del, vcpu-del: "-> refused" */
	char *id;		/* device id */
	guint64 size;		/* dimm, virtio-mem maximum or requested */
	guint64 block_size;	/* virtio-mem; 0: the device's default */
	gint node;		/* -1: none */
	gint socket;		/* -1: none */
	GPtrArray *expects;	/* HhExpect* */
} HhStep;

typedef enum {
	HH_REQ_CONFIG,
	HH_REQ_PATH,
	HH_REQ_NODES,		/* at least N possible nodes */
	HH_REQ_CPUS,		/* at least N possible CPUs */
	HH_REQ_KERNEL,		/* kernel >= V / kernel < V */
	HH_REQ_ACCEL,		/* accel kvm|tcg|mttcg...: any of them */
} HhRequireKind;

typedef struct {
	HhRequireKind kind;
	char *value;		/* config, path, version, accels */
	guint number;		/* nodes, cpus */
	gboolean below;		/* kernel: "<" (else ">=") */
	char *because;		/* why, for the skip reason; may be NULL */
	guint line;
} HhRequire;

typedef struct {
	char *name;
	char *path;
	char *description;
	gboolean cold_boot;	/* "boot cold": never from a snapshot */
	GRegex *expect_crash;	/* the kernel must report a matching crash */
	guint expect_crash_line;
	GPtrArray *requires;	/* HhRequire* */
	GPtrArray *variants;	/* glob patterns; empty: any */
	GPtrArray *steps;	/* HhStep*; [0] is the boot step */
	GError *unresolved;	/* first ${NAME} that vars did not define */
	GPtrArray *collect;	/* char*: guest files a distro cell's
				 * post-mortem saves */
} HhScenario;

/*
 * Parses a scenario.  ${NAME} in any word is replaced by vars[NAME] (a
 * variant's [params]); a name vars lacks reads as "0" and is recorded in
 * unresolved, an error only for variants the scenario runs on.
 */
HhScenario *hh_scenario_parse(const char *text, const char *path,
			      GHashTable *vars, GError **error);
HhScenario *hh_scenario_load(const char *path, GHashTable *vars,
			     GError **error);
void hh_scenario_free(HhScenario *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhScenario, hh_scenario_free)

/* TRUE if the scenario may run on a variant of that name. */
gboolean hh_scenario_accepts_variant(const HhScenario *s, const char *name);

/*
 * Compares kernel releases like "6.12.117" or "6.9" numerically, field by
 * field (a missing field is 0; "-rc1" and the like end a field).
 */
gint hh_kernel_version_cmp(const char *a, const char *b);

/* errno name <-> number for the names scenarios may use */
gint hh_errno_from_name(const char *name);
const char *hh_errno_name(gint err);

#endif
