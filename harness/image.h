/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HH_IMAGE_H
#define HH_IMAGE_H

#include <glib.h>

/*
 * Distro disk images (docs/distro.md): a Debian root filesystem in a qcow2
 * file that a cell boots as a throwaway overlay, with the agent started as
 * a systemd unit.  Kept under hh_cache_dir()/images/:
 *   trees/<key>/root       debootstrap's tree (suite, packages, mirror)
 *   selftests/<key>/       the kernel tree's hotplug selftests, installed
 *   <key>/image.qcow2      the image; <key>/image.json what boots it
 * An image is keyed by its tree, the agent, the selftests and what the
 * harness injects (HH_IMAGE_RECIPE); imported images by the file's content.
 */
#define HH_IMAGE_DEFAULT_SUITE "bookworm"
/* What every image has: systemd and udev, util-linux (lsmem, chmem,
 * chcpu), numactl, bash, kmod, procps, and bc and perl-base for the
 * kernel's selftests (without bc mem-on-off-test.sh passes silently). */
#define HH_IMAGE_BASE_PACKAGES \
	"systemd-sysv,udev,util-linux,numactl,bash,kmod,procps,bc"

/* Where the agent, its unit and the selftests live in the guest. */
#define HH_IMAGE_AGENT "/usr/lib/hotplug-harness/hh-agent"
#define HH_IMAGE_SELFTESTS "/usr/lib/hotplug-harness/selftests"

typedef struct {
	char *suite;		/* NULL: HH_IMAGE_DEFAULT_SUITE */
	char **packages;	/* extra packages, NULL-terminated; may be NULL */
	char *mirror;		/* NULL: the machine's apt sources */
	char *kernel_source;	/* tarball or tree with the selftests;
				 * NULL: HH_DEFAULT_KERNEL_SOURCE */
	gboolean quiet;		/* no progress on stderr */
} HhImageSpec;

typedef struct {
	char *key;
	char *dir;
	char *path;		/* the qcow2 file (never written by a cell) */
	char *root;		/* the root device in the guest: /dev/vda */
	char *fstype;		/* of the root: ext4 */
	gboolean cached;	/* nothing was built by this call */
	double seconds;
} HhImage;

void hh_image_spec_clear(HhImageSpec *spec);
void hh_image_free(HhImage *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HhImage, hh_image_free)

/* One thing the harness puts into an image: a file (data, mode), a
 * symbolic link (link), or a directory copied whole (tree). */
typedef struct {
	char *path;		/* absolute, in the guest */
	char *data;
	gsize len;
	guint mode;
	char *link;
	char *tree;		/* a host directory */
} HhImageFile;

/* Everything injected into an image: the agent and its unit, the udev
 * rule that onlines hot-added memory, journald's sync interval, the
 * selftests, gettys masked; with root_fstab, an /etc/fstab mounting
 * /dev/vda (images the harness builds; imported ones keep theirs). */
GPtrArray *hh_image_payload(const char *agent, const char *selftests,
			    gboolean root_fstab, GError **error);

/* The mirror of the machine's apt sources: the first URIs: line of a
 * deb822 file, or the URL of the first "deb" line of a sources.list, that
 * is http(s) or file.  NULL if there is none. */
char *hh_image_mirror_from_sources(const char *text);

/* Debian image: from the cache, or debootstrap + payload + mke2fs -d. */
HhImage *hh_image_build(const HhImageSpec *spec, GError **error);

/* A user's image (qcow2 or raw, partitioned or not): a cached qcow2 copy
 * with the payload injected through libguestfs; file is never written. */
HhImage *hh_image_import(const char *file, const HhImageSpec *spec,
			 GError **error);

/* An image made by build or import, from its qcow2 path (image.json
 * beside it says how to boot it). */
HhImage *hh_image_open(const char *path, GError **error);

/* The kernel command line an image needs (root=, rw, systemd masks). */
char *hh_image_cmdline(const HhImage *img);

/* A libguestfs handle for this machine: the direct backend under TCG
 * (with KVM the appliance aborts here: "failed to set MSR 0x10a"), unless
 * the user's LIBGUESTFS_BACKEND_SETTINGS says otherwise. */
struct guestfs_h;
struct guestfs_h *hh_guestfs_open(GError **error);

/* Creates a throwaway qcow2 overlay at path over base. */
gboolean hh_image_overlay(const char *base, const char *path,
			  GError **error);

#endif
