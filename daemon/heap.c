// SPDX-License-Identifier: GPL-2.0-only
/*
 * The deadline heap (heap.h). Pure: no I/O, no globals, so that
 * tests/daemon/test_heap.c checks it alone.
 */
#include <errno.h>
#include <stdlib.h>

#include "heap.h"

#define HEAP_FIRST_CAP	1024

static void heap_swap(struct xd_heap *h, unsigned int a, unsigned int b)
{
	struct xd_heap_node *t = h->v[a];

	h->v[a] = h->v[b];
	h->v[b] = t;
	h->v[a]->idx = a;
	h->v[b]->idx = b;
}

static void heap_up(struct xd_heap *h, unsigned int i)
{
	while (i && h->v[(i - 1) / 2]->deadline > h->v[i]->deadline) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct xd_heap *h, unsigned int i)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && h->v[l]->deadline < h->v[m]->deadline)
			m = l;
		if (r < h->n && h->v[r]->deadline < h->v[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

int xd_heap_add(struct xd_heap *h, struct xd_heap_node *e)
{
	if (h->n == h->cap) {
		unsigned int cap = h->cap ? 2 * h->cap : HEAP_FIRST_CAP;
		struct xd_heap_node **v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	e->idx = h->n;
	h->v[h->n++] = e;
	heap_up(h, e->idx);
	return 0;
}

void xd_heap_del(struct xd_heap *h, struct xd_heap_node *e)
{
	unsigned int i = e->idx;

	if (i == XD_HEAP_NONE)
		return;
	e->idx = XD_HEAP_NONE;
	if (i == --h->n)
		return;
	/* The last node takes the hole, then goes down or up to its place. */
	h->v[i] = h->v[h->n];
	h->v[i]->idx = i;
	heap_down(h, i);
	heap_up(h, h->v[i]->idx);
}

void xd_heap_free(struct xd_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
