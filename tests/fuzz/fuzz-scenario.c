/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the scenario parser (scenario.c) with ${NAME}
 * expansion from a shipped variant's [params], then the check of the
 * scenario against that variant's topology (matrix.c).
 */
#include "config.h"

#include "matrix.h"
#include "scenario.h"
#include "variant.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static HhVariant *variant;

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	g_autoptr(HhScenario) s = NULL;
	g_autoptr(GError) err = NULL, verr = NULL;

	if (!variant)
		variant = hh_variant_load(HH_SRCDIR "/configs/variants/"
					  "emu-mem-cpu.variant", NULL);
	g_assert(variant);
	s = hh_scenario_parse(text, "fuzz.scenario", variant->params, &err);
	g_assert(s || err);
	if (!s)
		return 0;
	g_assert(s->steps->len >= 1);
	hh_scenario_accepts_variant(s, variant->name);
	hh_validate_combination(variant, s, &verr);
	return 0;
}
