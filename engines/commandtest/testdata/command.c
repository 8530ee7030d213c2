// command.c is the WASI command engines/commandtest runs on every engine: it
// reads input.txt from its preopened folder, calls bench.start and bench.end
// around a small computation, writes to stdout and stderr, and exits with the
// code its first argument names (0 when none).
#include <stdio.h>
#include <stdlib.h>

__attribute__((import_module("bench"), import_name("start"))) void bench_start(void);
__attribute__((import_module("bench"), import_name("end"))) void bench_end(void);

int main(int argc, char **argv) {
	FILE *f = fopen("input.txt", "r");
	if (f == NULL) {
		fprintf(stderr, "cannot open input.txt\n");
		return 2;
	}
	char line[64] = {0};
	if (fgets(line, sizeof line, f) == NULL) {
		line[0] = 0;
	}
	fclose(f);
	unsigned n = (unsigned)atoi(line);
	bench_start();
	unsigned long long sum = 0;
	for (unsigned i = 1; i <= n; i++) {
		sum += (unsigned long long)i * i;
	}
	bench_end();
	printf("sum of squares to %u = %llu\n", n, sum);
	fprintf(stderr, "done\n");
	if (argc > 1) {
		exit(atoi(argv[1]));
	}
	return 0;
}
