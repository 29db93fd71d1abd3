/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the variant parser (variant.c), then every shipped
 * scenario checked against the variant (matrix.c), as the matrix does.
 */
#include "config.h"

#include "matrix.h"
#include "scenario.h"
#include "variant.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static GPtrArray *scenarios;

static void load_scenarios(void)
{
	const char *dir = HH_SRCDIR "/configs/scenarios";
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *n;

	scenarios = g_ptr_array_new();
	while (d && (n = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, n, NULL);
		HhScenario *s = hh_scenario_load(path, NULL, NULL);

		if (s)
			g_ptr_array_add(scenarios, s);
	}
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	g_autoptr(HhVariant) v = NULL;
	g_autoptr(GError) err = NULL;

	if (!scenarios)
		load_scenarios();
	v = hh_variant_parse(text, "fuzz.variant", &err);
	g_assert(v || err);
	if (!v)
		return 0;
	g_free(hh_variant_cmdline_value(v, "mem"));
	g_free(hh_variant_cmdline_value(v, "numa"));
	for (guint i = 0; i < scenarios->len; i++) {
		g_autoptr(GError) verr = NULL;

		hh_validate_combination(v, scenarios->pdata[i], &verr);
	}
	return 0;
}
