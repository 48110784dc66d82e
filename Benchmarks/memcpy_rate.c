// The copy ceiling for the memif benchmark: how fast one core copies SIZE-byte frames
// between two 2 MiB buffer pools with plain memcpy (the pools are the size of one memif
// ring's buffers: 1024 slots of 2048 bytes). Prints GB/s. With the mode "template" every
// frame is copied from the first slot of the source pool instead (what `memifctl source`
// does with one flow: its reads stay in L1, only the writes cover the pool).
//   cc -O2 -o memcpy_rate memcpy_rate.c && ./memcpy_rate 1500 2.0 [cpu] [pool|template]
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    size_t size = argc > 1 ? strtoul(argv[1], NULL, 10) : 1500;
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 2.0;
    int cpu = argc > 3 ? atoi(argv[3]) : 0;
    const char *mode = argc > 4 ? argv[4] : "pool";
    if (strcmp(mode, "pool") != 0 && strcmp(mode, "template") != 0) {
        fprintf(stderr, "mode must be pool or template, not %s\n", mode);
        return 2;
    }
    const size_t from_stride = strcmp(mode, "pool") == 0 ? 2048 : 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
    const size_t pool = 2u << 20, stride = 2048, slots = pool / stride;
    if (size > stride) return 2;
    unsigned char *a = aligned_alloc(4096, pool), *b = aligned_alloc(4096, pool);
    memset(a, 1, pool);
    memset(b, 2, pool);
    unsigned long copies = 0;
    double start = now(), end = start + seconds;
    while (now() < end) {
        for (size_t i = 0; i < slots; i++) memcpy(b + i * stride, a + i * from_stride, size);
        copies += slots;
        __asm__ volatile("" ::"r"(b) : "memory");
    }
    double elapsed = now() - start;
    printf("%.3f\n", copies * (double)size / elapsed / 1e9);
    return b[stride - 1] == 0;
}
