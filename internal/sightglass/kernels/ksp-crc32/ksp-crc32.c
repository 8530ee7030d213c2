// ksp-crc32 computes the CRC-32 (IEEE, table-driven) of N KiB of
// pseudo-random bytes (N from default.input) and prints it.
#include <stdint.h>
#include "../bench.h"

int main(void) {
	long kib = read_param();
	size_t n = (size_t)kib * 1024;
	uint8_t *buf = malloc(n);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	uint32_t table[256];
	bench_start();
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		}
		table[i] = c;
	}
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		crc = table[(crc ^ buf[i]) & 0xFF] ^ (crc >> 8);
	}
	crc ^= 0xFFFFFFFFu;
	bench_end();
	printf("crc32 of %ld KiB: %08x\n", kib, crc);
	return 0;
}
