// How far apart the sender's and receiver's cores are right now: the round trip of one
// cache line bounced between two pinned threads, in nanoseconds. On a VM the two vCPUs can
// move between sibling hyperthreads and distant cores, and memif throughput moves with it,
// so the benchmark records this next to every run.
//   cc -O2 -pthread -o core_latency core_latency.c && ./core_latency 0 1
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Alignas(64) volatile unsigned long line;
enum { ROUNDS = 200000 };

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *echo(void *arg) {
    pin(*(int *)arg);
    for (unsigned long i = 1; i <= ROUNDS; i++) {
        while (line != 2 * i - 1) {}
        line = 2 * i;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int a = argc > 1 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
    pthread_t t;
    pthread_create(&t, NULL, echo, &b);
    pin(a);
    struct timespec s, e;
    clock_gettime(CLOCK_MONOTONIC, &s);
    for (unsigned long i = 1; i <= ROUNDS; i++) {
        line = 2 * i - 1;
        while (line != 2 * i) {}
    }
    clock_gettime(CLOCK_MONOTONIC, &e);
    pthread_join(t, NULL);
    printf("%.1f\n", ((e.tv_sec - s.tv_sec) * 1e9 + (e.tv_nsec - s.tv_nsec)) / ROUNDS);
    return 0;
}
