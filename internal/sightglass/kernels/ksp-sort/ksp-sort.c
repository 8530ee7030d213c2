// ksp-sort sorts N pseudo-random 32-bit integers (N from default.input)
// with libc's qsort, an indirect call per comparison, and prints a checksum
// of the sorted order.
#include <stdint.h>
#include "../bench.h"

static int cmp(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int main(void) {
	long n = read_param();
	uint32_t *v = malloc(sizeof(uint32_t) * n);
	uint64_t s = 88172645463325252ull;
	for (long i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		v[i] = (uint32_t)(s >> 11);
	}
	bench_start();
	qsort(v, (size_t)n, sizeof v[0], cmp);
	bench_end();
	uint64_t sum = 0;
	for (long i = 0; i < n; i++) {
		if (i > 0 && v[i - 1] > v[i]) {
			printf("not sorted at %ld\n", i);
			return 1;
		}
		sum = sum * 31 + v[i];
	}
	printf("sorted %ld integers, checksum %016llx\n", n, (unsigned long long)sum);
	return 0;
}
