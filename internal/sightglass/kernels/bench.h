// bench.h declares Sightglass's two imports, which every kernel calls once
// each around its measured work.
#ifndef KSP_BENCH_H
#define KSP_BENCH_H

__attribute__((import_module("bench"), import_name("start"))) void bench_start(void);
__attribute__((import_module("bench"), import_name("end"))) void bench_end(void);

#include <stdio.h>
#include <stdlib.h>

// read_param reads the one number of ./default.input: the kernel's size,
// read at run time so the compiler cannot fold the work away.
static long read_param(void) {
	FILE *f = fopen("default.input", "r");
	if (f == NULL) {
		fprintf(stderr, "cannot open default.input\n");
		exit(2);
	}
	long n = 0;
	if (fscanf(f, "%ld", &n) != 1 || n <= 0) {
		fprintf(stderr, "default.input: want a positive number\n");
		exit(2);
	}
	fclose(f);
	return n;
}

#endif
