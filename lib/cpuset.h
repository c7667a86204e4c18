/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Word-at-a-time walks over cpu_set_t of any size, for the paths every call
 * takes: a set of 8192 CPUs is 128 words, not 8192 CPU_ISSET_S() tests.
 */
#ifndef XCALL_CPUSET_H
#define XCALL_CPUSET_H

#include <sched.h>
#include <stddef.h>

typedef __cpu_mask xcall_word;
#define XCALL_WORD_BITS		(8 * sizeof(xcall_word))

/* Word @i of a set of @setsize bytes (a partial last word is zero-filled). */
static inline xcall_word __xcall_set_word(const cpu_set_t *set,
					  size_t setsize, size_t i)
{
	const unsigned char *b = (const unsigned char *)set;
	size_t off = i * sizeof(xcall_word), k;
	xcall_word w = 0;

	/* Through a pointer, like glibc's macros: sets outgrow __bits[]. */
	if (off + sizeof(xcall_word) <= setsize)
		return ((const xcall_word *)set)[i];
	for (k = 0; off + k < setsize; k++)
		w |= (xcall_word)b[off + k] << (8 * k);
	return w;
}

/* Words needed to cover @setsize bytes. */
static inline size_t __xcall_set_words(size_t setsize)
{
	return (setsize + sizeof(xcall_word) - 1) / sizeof(xcall_word);
}

/* CPUs in @set (CPU_COUNT_S() ignores a partial last word). */
static inline unsigned int __xcall_set_count(const cpu_set_t *set,
					     size_t setsize)
{
	size_t i, n = __xcall_set_words(setsize);
	unsigned int count = 0;

	for (i = 0; i < n; i++)
		count += __builtin_popcountl(__xcall_set_word(set, setsize, i));
	return count;
}

/* The first CPU of @set at or after @from, or -1. */
static inline long __xcall_set_next(const cpu_set_t *set, size_t setsize,
				    size_t from)
{
	size_t i = from / XCALL_WORD_BITS, n = __xcall_set_words(setsize);
	xcall_word w;

	if (i >= n)
		return -1;
	w = __xcall_set_word(set, setsize, i) &
	    (~(xcall_word)0 << (from % XCALL_WORD_BITS));
	for (;;) {
		if (w)
			return i * XCALL_WORD_BITS + __builtin_ctzl(w);
		if (++i >= n)
			return -1;
		w = __xcall_set_word(set, setsize, i);
	}
}

/* Bit @c of @set: glibc's layout in whole words, bytes in a partial one. */
static inline int __xcall_set_isset(const cpu_set_t *set, size_t setsize,
				    size_t c)
{
	if (c / 8 >= setsize)
		return 0;
	return (__xcall_set_word(set, setsize, c / XCALL_WORD_BITS) >>
		(c % XCALL_WORD_BITS)) & 1;
}

/* Set bit @c of @set (ignored beyond @setsize), never past its end. */
static inline void __xcall_set_cpu(cpu_set_t *set, size_t setsize, size_t c)
{
	size_t i = c / XCALL_WORD_BITS;

	if (c / 8 >= setsize)
		return;
	if ((i + 1) * sizeof(xcall_word) <= setsize)
		((xcall_word *)set)[i] |= (xcall_word)1 << (c % XCALL_WORD_BITS);
	else	/* the partial last word, as __xcall_set_word() reads it */
		((unsigned char *)set)[i * sizeof(xcall_word) +
				       (c % XCALL_WORD_BITS) / 8] |=
			1U << (c % 8);
}

#define xcall_for_each_cpu(c, set, setsize)				\
	for ((c) = __xcall_set_next(set, setsize, 0); (c) >= 0;		\
	     (c) = __xcall_set_next(set, setsize, (c) + 1))

#endif /* XCALL_CPUSET_H */
