// The machine-state probe of the memif benchmark: for a fraction of a second, one thread on
// each benchmark core passes 1500-byte frames through a 1024-slot ring of 2048-byte buffers
// (a producer writes whole frames, a consumer copies them out, as testpmd's txonly and
// net_memif's receive do). Prints frames per second in millions.
//
// Why: the VM this project is benchmarked on switches, every few seconds to minutes, between
// a state where this rate is ~25 Mpps and one where it is ~1.5 Mpps (cross-core transfers of
// whole frames become ~15x slower; a single cache line's round trip does not change). Every
// memif pair moves with it, by different factors, so bench.py measures only while this probe
// says the machine is in its fast state, before and after each measurement.
//   cc -O2 -pthread -o state_probe state_probe.c && ./state_probe 0.2 0 1
//
// Optional fourth and fifth arguments, frame bytes and buffers (default 1500 and 1024), model
// a memif client whose transmit slots rotate through spare buffers: with 2048 buffers each
// one is rewritten only every 2048 frames (docs/performance.md, "Buffer reuse").
//   ./state_probe 0.2 0 1 512 1024; ./state_probe 0.2 0 1 512 2048
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SLOTS = 1024, STRIDE = 2048, MAX_FRAME = STRIDE, BURST = 32 };

static unsigned frame_bytes = 1500, buffers = SLOTS;  // slot i holds buffer i % buffers
static unsigned char *pool;
static _Alignas(64) _Atomic unsigned head;  // written by the producer
static _Alignas(64) _Atomic unsigned tail;  // written by the consumer
static _Alignas(64) _Atomic int stop;
static unsigned long received;
static int cpus[2];

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *produce(void *unused) {
    (void)unused;
    pin(cpus[0]);
    static unsigned char frame[MAX_FRAME];
    memset(frame, 0x5a, sizeof frame);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        unsigned h = atomic_load_explicit(&head, memory_order_relaxed);
        unsigned n = SLOTS - (h - atomic_load_explicit(&tail, memory_order_acquire));
        if (n > BURST) n = BURST;
        for (unsigned i = 0; i < n; i++) memcpy(pool + (size_t)((h + i) % buffers) * STRIDE, frame, frame_bytes);
        atomic_store_explicit(&head, h + n, memory_order_release);
    }
    return NULL;
}

static void *consume(void *unused) {
    (void)unused;
    pin(cpus[1]);
    static unsigned char copy[MAX_FRAME];
    unsigned long count = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        unsigned t = atomic_load_explicit(&tail, memory_order_relaxed);
        unsigned n = atomic_load_explicit(&head, memory_order_acquire) - t;
        if (n > BURST) n = BURST;
        for (unsigned i = 0; i < n; i++) {
            memcpy(copy, pool + (size_t)((t + i) % buffers) * STRIDE, frame_bytes);
            __asm__ volatile("" ::"r"(copy) : "memory");  // the copy must happen
        }
        count += n;
        atomic_store_explicit(&tail, t + n, memory_order_release);
    }
    received = count;
    return NULL;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 0.2;
    cpus[0] = argc > 2 ? atoi(argv[2]) : 0;
    cpus[1] = argc > 3 ? atoi(argv[3]) : 1;
    if (argc > 4) frame_bytes = (unsigned)atoi(argv[4]);
    if (argc > 5) buffers = (unsigned)atoi(argv[5]);
    // Whole laps of the free-running indices map every slot to the same buffers each lap.
    if (frame_bytes < 1 || frame_bytes > MAX_FRAME || buffers < SLOTS || buffers > 65536 || 65536 % buffers) {
        fprintf(stderr, "frame bytes must be 1-%d; buffers a power of two, %d-65536\n", MAX_FRAME, SLOTS);
        return 2;
    }
    pool = aligned_alloc(4096, (size_t)buffers * STRIDE);
    if (!pool) return 1;
    memset(pool, 0, (size_t)buffers * STRIDE);
    pthread_t producer, consumer;
    pthread_create(&consumer, NULL, consume, NULL);
    pthread_create(&producer, NULL, produce, NULL);
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    pthread_join(producer, NULL);
    pthread_join(consumer, NULL);
    printf("%.2f\n", received / seconds / 1e6);
    return 0;
}
