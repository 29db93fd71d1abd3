/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hh-error.h"

G_DEFINE_QUARK(hh-error-quark, hh_error)
