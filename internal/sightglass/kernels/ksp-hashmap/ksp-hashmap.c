// ksp-hashmap inserts N pseudo-random 64-bit keys (N from default.input)
// into an open-addressing hash table, looks up as many present and absent
// keys, deletes half with backward-shift deletion, and prints the counts.
#include <stdint.h>
#include <string.h>
#include "../bench.h"

static uint64_t *keys;
static uint32_t *vals;
static size_t mask;

static size_t slot(uint64_t k) {
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k & mask;
}

static void put(uint64_t k, uint32_t v) {
	size_t i = slot(k);
	while (keys[i] != 0 && keys[i] != k) {
		i = (i + 1) & mask;
	}
	keys[i] = k;
	vals[i] = v;
}

static int get(uint64_t k, uint32_t *v) {
	for (size_t i = slot(k); keys[i] != 0; i = (i + 1) & mask) {
		if (keys[i] == k) {
			*v = vals[i];
			return 1;
		}
	}
	return 0;
}

static void del(uint64_t k) {
	size_t i = slot(k);
	while (keys[i] != k) {
		if (keys[i] == 0) {
			return;
		}
		i = (i + 1) & mask;
	}
	for (size_t j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
		size_t h = slot(keys[j]);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			keys[i] = keys[j];
			vals[i] = vals[j];
			i = j;
		}
	}
	keys[i] = 0;
}

static uint64_t next(uint64_t *s) {
	*s += 0x9e3779b97f4a7c15ull;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31)) | 1;
}

int main(void) {
	long n = read_param();
	size_t cap = 1;
	while (cap < (size_t)n * 2) {
		cap <<= 1;
	}
	mask = cap - 1;
	keys = calloc(cap, sizeof *keys);
	vals = calloc(cap, sizeof *vals);
	bench_start();
	uint64_t s = 42;
	for (long i = 0; i < n; i++) {
		put(next(&s), (uint32_t)i);
	}
	uint64_t found = 0, sum = 0, t = 42;
	for (long i = 0; i < n; i++) {
		uint32_t v;
		if (get(next(&t), &v)) {
			found++;
			sum += v;
		}
		if (get(next(&t) ^ 0x5555555555555554ull, &v)) {
			found++;
		}
	}
	s = 42;
	for (long i = 0; i < n; i += 2) {
		del(next(&s));
		next(&s);
	}
	size_t left = 0;
	for (size_t i = 0; i < cap; i++) {
		left += keys[i] != 0;
	}
	bench_end();
	printf("hashmap: %ld inserted, %llu found (sum %llu), %zu left\n", n, (unsigned long long)found,
	       (unsigned long long)sum, left);
	return 0;
}
