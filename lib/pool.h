/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What lib/pool.c tells its own tests and nobody else: not exported
 * (libxcall.map exports xcall_* only), reached through libxcall.a.
 */
#ifndef XCALL_POOL_H
#define XCALL_POOL_H

#include <stdbool.h>

#include "libxcall.h"

/*
 * Lanes to @cpu's worker that caller threads hold (0..64), or of those the
 * ones that hold a call the worker has not taken (@queued); -ENXIO.
 */
int __xcall_pool_lanes(const struct xcall_pool *p, int cpu, bool queued);

#endif
