// cpuidinfo prints the vector extensions CPUID reports, from this thread
// and from a thread started afterwards: under libcpumask.so both must show
// the profile's mask (CPUID faulting is per thread and inherited).
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>

static void show(const char *who) {
	unsigned a, b, c, d, a1 = 0, d1 = 0;
	__cpuid_count(1, 0, a, b, c, d);
	int avx = (c >> 28) & 1, fma = (c >> 12) & 1;
	__cpuid_count(7, 0, a, b, c, d);
	unsigned b7 = b, c7 = c, d7 = d;
	if (a >= 1) {
		__cpuid_count(7, 1, a1, b, c, d1);
	}
	printf("%s: avx %d fma %d avx2 %d avx512f %d avx512bw %d avx512vl %d avx512vnni %d avx512fp16 %d "
	       "amx-tile %d amx-int8 %d avx-vnni %d avx512bf16 %d avx10 %d\n",
	       who, avx, fma, (b7 >> 5) & 1, (b7 >> 16) & 1, (b7 >> 30) & 1, (b7 >> 31) & 1, (c7 >> 11) & 1,
	       (d7 >> 23) & 1, (d7 >> 24) & 1, (d7 >> 25) & 1, (a1 >> 4) & 1, (a1 >> 5) & 1, (d1 >> 19) & 1);
}

static void *run(void *arg) {
	show(arg);
	return NULL;
}

int main(void) {
	show("main thread");
	pthread_t t;
	pthread_create(&t, NULL, run, "new thread ");
	pthread_join(t, NULL);
	return 0;
}
