// ksp-matmul multiplies two N x N matrices of doubles (N from default.input)
// with the i-k-j loop order, and prints a checksum of the product.
#include "../bench.h"

int main(void) {
	long n = read_param();
	double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = calloc(n * n, sizeof(double));
	for (long i = 0; i < n * n; i++) {
		a[i] = (double)(i % 17) * 0.25 - 1.0;
		b[i] = (double)(i % 13) * 0.5 + 0.125;
	}
	bench_start();
	for (long i = 0; i < n; i++) {
		for (long k = 0; k < n; k++) {
			double aik = a[i * n + k];
			for (long j = 0; j < n; j++) {
				c[i * n + j] += aik * b[k * n + j];
			}
		}
	}
	bench_end();
	double sum = 0;
	for (long i = 0; i < n * n; i++) {
		sum += c[i] * (double)((i % 7) + 1);
	}
	printf("matmul %ldx%ld checksum %.6f\n", n, n, sum);
	return 0;
}
