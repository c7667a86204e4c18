/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcalld's deadline heap: a binary min-heap of nodes ordered by deadline,
 * each node knowing its own index so that it can leave from the middle in
 * O(log n) (a request answered before its deadline). The node lives in
 * what it times (struct xd_req); the heap holds pointers and allocates
 * only its array, which grows by doubling and never shrinks.
 */
#ifndef XCALLD_HEAP_H
#define XCALLD_HEAP_H

#include <stdint.h>

#define XD_HEAP_NONE	(~0U)		/* xd_heap_node.idx: not in a heap */

struct xd_heap_node {
	uint64_t deadline;
	unsigned int idx;		/* in the heap, or XD_HEAP_NONE */
};

struct xd_heap {
	struct xd_heap_node **v;
	unsigned int n, cap;
};

/* Add @e (not in a heap): 0, or -ENOMEM and @e stays out. */
int xd_heap_add(struct xd_heap *h, struct xd_heap_node *e);
/* Remove @e from @h; nothing if it is in no heap. */
void xd_heap_del(struct xd_heap *h, struct xd_heap_node *e);
/* Free the array; the nodes still in it are not touched. */
void xd_heap_free(struct xd_heap *h);

/* The node with the nearest deadline, or NULL if @h is empty. */
static inline struct xd_heap_node *xd_heap_min(const struct xd_heap *h)
{
	return h->n ? h->v[0] : NULL;
}

#endif
