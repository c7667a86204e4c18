// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check suite for xcalld's deadline heap (daemon/heap.c): nodes come out
 * in deadline order, leave from anywhere (first, last, middle) with the
 * heap still a heap and every node's index true, and the array grows past
 * its first size without losing one. The heap property and the indexes are
 * checked after every step, so a broken sift (up or down) fails here.
 */
#include <stdlib.h>

#include "check.h"
#include "heap.h"

#define N	5000		/* past the first array (1024) and two doublings */

static struct xd_heap h;
static struct xd_heap_node nodes[N];

static void setup(void)
{
	unsigned int i;

	for (i = 0; i < N; i++) {
		nodes[i].deadline = 0;
		nodes[i].idx = XD_HEAP_NONE;
	}
}

static void teardown(void)
{
	xd_heap_free(&h);
}

/*
 * Every parent is due no later than its children; every index is true.
 * (Plain tests, one assertion: each ck_assert marks a point, which is
 * slow enough to matter at thousands of nodes a step.)
 */
static void check_heap(void)
{
	unsigned int i, bad = 0;

	for (i = 0; i < h.n && !bad; i++) {
		if (h.v[i]->idx != i)
			bad = i + 1;
		else if (i && h.v[(i - 1) / 2]->deadline > h.v[i]->deadline)
			bad = i + 1;
	}
	ck_assert_msg(!bad, "heap broken at %u of %u", bad - 1, h.n);
}

/* A deterministic shuffle of deadlines, with repeats. */
static uint64_t deadline_of(unsigned int i)
{
	return (uint64_t)(i * 7919u % 1009u) * 1000 + i % 3;
}

/* Take the nearest deadline @n times: they come in order. */
static void drain_in_order(unsigned int n)
{
	struct xd_heap_node *e;
	uint64_t last = 0;
	unsigned int k;

	for (k = 0; k < n; k++) {
		e = xd_heap_min(&h);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_ge(e->deadline, last);
		last = e->deadline;
		xd_heap_del(&h, e);
		ck_assert_uint_eq(e->idx, XD_HEAP_NONE);
		check_heap();
	}
	ck_assert_ptr_null(xd_heap_min(&h));
	ck_assert_uint_eq(h.n, 0);
}

START_TEST(test_order)
{
	unsigned int i;

	ck_assert_ptr_null(xd_heap_min(&h));
	for (i = 0; i < 200; i++) {
		nodes[i].deadline = deadline_of(i);
		ck_assert_int_eq(xd_heap_add(&h, &nodes[i]), 0);
		check_heap();
	}
	drain_in_order(200);
}
END_TEST

START_TEST(test_descending)
{
	unsigned int i;

	/* Each new node is the nearest: it goes up all the way. */
	for (i = 0; i < 300; i++) {
		nodes[i].deadline = 1000000 - i;
		ck_assert_int_eq(xd_heap_add(&h, &nodes[i]), 0);
		ck_assert_ptr_eq(xd_heap_min(&h), &nodes[i]);
	}
	check_heap();
	drain_in_order(300);
}
END_TEST

START_TEST(test_remove_middle)
{
	unsigned int i, left = 0;

	for (i = 0; i < 500; i++) {
		nodes[i].deadline = deadline_of(i);
		ck_assert_int_eq(xd_heap_add(&h, &nodes[i]), 0);
	}
	/* Out of the middle, wherever they sit: every third node. */
	for (i = 0; i < 500; i += 3) {
		xd_heap_del(&h, &nodes[i]);
		ck_assert_uint_eq(nodes[i].idx, XD_HEAP_NONE);
		check_heap();
	}
	/* Again: a node in no heap is left alone. */
	xd_heap_del(&h, &nodes[0]);
	for (i = 0; i < 500; i++)
		left += nodes[i].idx != XD_HEAP_NONE;
	ck_assert_uint_eq(h.n, left);
	ck_assert_uint_eq(left, 500 - 167);
	drain_in_order(left);
}
END_TEST

/* The node that fills the hole may belong above it, not below. */
START_TEST(test_remove_moves_up)
{
	/*
	 *            0
	 *       10        1
	 *     11  12    2   3
	 * The last (3) fills the hole left by 12, under 10: it must go up.
	 */
	static const uint64_t d[] = { 0, 10, 1, 11, 12, 2, 3 };
	unsigned int i;

	for (i = 0; i < 7; i++) {
		nodes[i].deadline = d[i];
		ck_assert_int_eq(xd_heap_add(&h, &nodes[i]), 0);
	}
	check_heap();
	ck_assert_uint_eq(nodes[4].idx, 4);
	xd_heap_del(&h, &nodes[4]);
	check_heap();
	ck_assert_uint_eq(nodes[6].idx, 1);
	drain_in_order(6);
}
END_TEST

START_TEST(test_growth)
{
	unsigned int i;

	for (i = 0; i < N; i++) {
		nodes[i].deadline = deadline_of(i);
		ck_assert_int_eq(xd_heap_add(&h, &nodes[i]), 0);
		ck_assert_uint_le(h.n, h.cap);
	}
	ck_assert_uint_eq(h.n, N);
	ck_assert_uint_ge(h.cap, N);
	check_heap();
	/* Half out from anywhere, then the rest in order. */
	for (i = 1; i < N; i += 2)
		xd_heap_del(&h, &nodes[i]);
	check_heap();
	drain_in_order(N / 2);
	/* Empty again, the array stays: adding needs no new one. */
	ck_assert_uint_ge(h.cap, N);
	ck_assert_int_eq(xd_heap_add(&h, &nodes[0]), 0);
	ck_assert_ptr_eq(xd_heap_min(&h), &nodes[0]);
}
END_TEST

static Suite *heap_suite(void)
{
	Suite *s = suite_create("heap");
	TCase *tc = tcase_create("deadlines");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_descending);
	tcase_add_test(tc, test_remove_middle);
	tcase_add_test(tc, test_remove_moves_up);
	tcase_add_test(tc, test_growth);
	suite_add_tcase(s, tc);
	return s;
}

XT_CHECK_MAIN(heap_suite)
