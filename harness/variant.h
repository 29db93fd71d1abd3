/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_VARIANT_H
#define HH_VARIANT_H

#include <glib.h>

/*
 * A variant: a QEMU topology plus a kernel command line, read from a key
 * file (configs/variants/NAME.variant; see docs/scenarios.md):
 *
 *   [variant]           memory=3G slots=4 maxmem=8G cpus=2 maxcpus=4
 *                       cmdline=mem=2G
 *   [node 0]            memory=3G cpus=0-1
 *   [node 1]            memory=0 cpus=2-3      (memoryless)
 *   [virtio-mem vm0]    node=1 size=512M requested=0 block=2M
 *   rootfs=debian       boot a Debian disk image (docs/distro.md)
 */
typedef struct {
	guint id;
	guint64 memory;		/* bytes; 0: memoryless */
	GArray *cpus;		/* guint socket ids bound to this node */
} HhNode;

/* [virtio-mem ID]: a virtio-mem-pci device present at boot. */
typedef struct {
	char *id;
	gint node;		/* -1: QEMU's default */
	guint64 size;		/* the device's maximum */
	guint64 requested;	/* requested at boot */
	guint64 block;		/* 0: the device's default */
} HhVirtioMem;

typedef struct {
	char *name;
	char *path;
	char *description;
	char *machine;		/* "pc" */
	guint64 memory;
	guint slots;
	guint64 maxmem;
	guint cpus;
	guint maxcpus;
	guint cores;		/* per socket; sockets = maxcpus / cores */
	char *cmdline;		/* appended to the harness's base line */
	gboolean tcg_multi;	/* tcg-threads=multi: one host thread per
				 * vCPU under TCG (default: one for all) */
	GPtrArray *nodes;	/* HhNode*, by id */
	GPtrArray *virtio_mems;	/* HhVirtioMem*, in file order */
	GHashTable *params;	/* [params]: values for ${NAME} in scenarios */
	char *rootfs;		/* NULL: the initramfs; "debian": the image
				 * 'image build' makes; else the path of an
				 * image from 'image build' or 'image import' */
} HhVariant;

HhVariant *hh_variant_load(const char *path, GError **error);
HhVariant *hh_variant_parse(const char *text, const char *path,
			    GError **error);
void hh_variant_free(HhVariant *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhVariant, hh_variant_free)

/* The value of NAME= in the variant's kernel command line, or NULL. */
char *hh_variant_cmdline_value(const HhVariant *v, const char *name);

/* Parses "0-2,5" into sorted ids; FALSE on bad syntax, an id of 65536 or
 * more, or more than 4096 ids in all. */
gboolean hh_parse_id_list(const char *text, GArray *out);

#endif
