// CMemifDSA: what Swift cannot spell for Intel DSA (reference/dsa.md sections 2.4, 2.6, 6):
// the MOVDIR64B and ENQCMD portal stores as `.byte` asm (no global -m flags, so the
// binary still runs on any x86-64; callers gate on CPUID first), CPUID feature checks,
// sfence, and acquire/release on completion-record status bytes. All `static inline`, so
// each compiles to a few instructions inside the Swift caller.
#ifndef CMEMIF_DSA_H
#define CMEMIF_DSA_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include <linux/idxd.h>
#include <unistd.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

/// CPUID leaf 7 subleaf 0, ECX: bit 28 MOVDIR64B, bit 29 ENQCMD, bit 5 WAITPKG.
static inline uint32_t cmemif_cpuid7_ecx(void) {
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return c;
#else
    return 0;
#endif
}
static inline int cmemif_cpu_has_movdir64b(void) { return (cmemif_cpuid7_ecx() >> 28) & 1; }
static inline int cmemif_cpu_has_enqcmd(void) { return (cmemif_cpuid7_ecx() >> 29) & 1; }

/// MOVDIR64B: a posted 64-byte direct store of `desc` to `portal` (dedicated queue).
/// Only after cmemif_cpu_has_movdir64b(): it raises #UD elsewhere.
static inline void cmemif_movdir64b(volatile void *portal, const void *desc) {
#if defined(__x86_64__)
    __asm__ __volatile__(".byte 0x66, 0x0f, 0x38, 0xf8, 0x02" : : "a"(portal), "d"(desc) : "memory");
#else
    (void)portal; (void)desc; __builtin_trap();
#endif
}

/// ENQCMD: a non-posted 64-byte store to a shared queue's portal. Returns 1 when the queue
/// refused it (ZF=1, retry), 0 when accepted. Only after cmemif_cpu_has_enqcmd().
static inline int cmemif_enqcmd(volatile void *portal, const void *desc) {
#if defined(__x86_64__)
    uint8_t retry;
    __asm__ __volatile__(".byte 0xf2, 0x0f, 0x38, 0xf8, 0x02\n\tsetz %0"
                         : "=r"(retry) : "a"(portal), "d"(desc) : "cc", "memory");
    return retry;
#else
    (void)portal; (void)desc; __builtin_trap();
#endif
}

/// Orders descriptor, completion-record and payload stores before a portal write.
static inline void cmemif_sfence(void) {
#if defined(__x86_64__)
    __builtin_ia32_sfence();
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static inline void cmemif_cpu_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

/// A completion record's status byte, read with acquire: once non-zero, every write the
/// descriptor made is visible (reference 2.6).
static inline uint8_t cmemif_cr_status_acquire(const void *record) {
    return __atomic_load_n((const uint8_t *)record, __ATOMIC_ACQUIRE);
}
/// The model's last store of a record: status byte with release, after bytes 1..31.
static inline void cmemif_cr_status_release(void *record, uint8_t status) {
    __atomic_store_n((uint8_t *)record, status, __ATOMIC_RELEASE);
}
static inline uint32_t cmemif_load_acquire_u32_dsa(const void *p) {
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}

// ---- 64-bit atomics at an address: the model's lock-free submission ring ----
static inline uint64_t cmemif_dsa_load_acquire_u64(const void *p) {
    return __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE);
}
static inline void cmemif_dsa_store_release_u64(void *p, uint64_t v) {
    __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELEASE);
}
/// Adds `v` (wrapping; pass a two's-complement value to subtract) and returns the old value.
static inline uint64_t cmemif_dsa_fetch_add_u64(void *p, uint64_t v) {
    return __atomic_fetch_add((uint64_t *)p, v, __ATOMIC_ACQ_REL);
}
/// Compare-and-swap; returns 1 when `*p` was `expected` and is now `desired`.
static inline int cmemif_dsa_cas_u64(void *p, uint64_t expected, uint64_t desired) {
    return __atomic_compare_exchange_n((uint64_t *)p, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/// CLOCK_MONOTONIC in nanoseconds (vDSO, no system call): deadlines on every wait.
static inline uint64_t cmemif_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// The NUMA node of the CPU the caller runs on (getcpu(2)); -1 if unknown.
static inline int cmemif_current_numa_node(void) {
    unsigned cpu = 0, node = 0;
    if (syscall(SYS_getcpu, &cpu, &node, NULL) != 0) return -1;
    return (int)node;
}

/// Thread CPU time in nanoseconds: the worker core's cost per packet in the benchmark.
static inline uint64_t cmemif_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
