// CMemifLinux: the few Linux facilities Swift's Glibc module does not import
// (eventfd, memfd_create, CMSG_* for SCM_RIGHTS, CPU_SET), plus C11 atomics at an
// address and prefetch. Everything on the data path is `static inline` so it compiles
// to a single instruction inside the Swift caller.
#ifndef CMEMIF_LINUX_H
#define CMEMIF_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// ---- shared-memory layout of memif (reference section 2.2/2.3), checked in shim.c ----

/// One memif descriptor as it sits in shared memory (16 bytes, naturally aligned).
typedef struct cmemif_desc {
    uint16_t flags;
    uint16_t region;
    uint32_t length;
    uint32_t offset;
    uint32_t metadata;
} cmemif_desc_t;

enum {
    CMEMIF_RING_COOKIE_OFFSET = 0,
    CMEMIF_RING_FLAGS_OFFSET = 4,
    CMEMIF_RING_HEAD_OFFSET = 6,
    CMEMIF_MESSAGE_SIZE = 128,
};

/// Reads a descriptor the peer may be rewriting, exactly once: two 8-byte atomic loads the
/// compiler can neither repeat nor split, so what was validated is what gets used.
/// Descriptors are 8-byte aligned (rings start at 8-byte aligned offsets, then 16 per slot).
static inline cmemif_desc_t cmemif_desc_load(const cmemif_desc_t *p) {
    uint64_t words[2];
    words[0] = __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
    words[1] = __atomic_load_n((const uint64_t *)(const void *)p + 1, __ATOMIC_RELAXED);
    cmemif_desc_t d;
    __builtin_memcpy(&d, words, sizeof(d));
    return d;
}

// ---- acquire/release on ring indices in memory shared with another process ----
// Lock-free C11 atomics on naturally aligned words are address-free, so they order
// correctly against a C peer (VPP, DPDK, libmemif) in another process.

static inline uint16_t cmemif_load_acquire_u16(const void *p) {
    return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}
static inline void cmemif_store_release_u16(void *p, uint16_t v) {
    __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}
static inline uint16_t cmemif_load_relaxed_u16(const void *p) {
    return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}
static inline void cmemif_store_relaxed_u16(void *p, uint16_t v) {
    __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}
static inline uint32_t cmemif_load_acquire_u32(const void *p) {
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}
static inline void cmemif_store_release_u32(void *p, uint32_t v) {
    __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE);
}
/// Counters written by one data-path thread and read by any thread without locks.
static inline uint64_t cmemif_load_relaxed_u64(const void *p) {
    return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}
static inline void cmemif_store_relaxed_u64(void *p, uint64_t v) {
    __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
}
static inline uint32_t cmemif_load_relaxed_u32(const void *p) {
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}
static inline void cmemif_store_relaxed_u32(void *p, uint32_t v) {
    __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}
/// Makes the compiler compute `v` (and the loads behind it) without emitting any code.
static inline void cmemif_keep_u64(uint64_t v) { __asm__ volatile("" : : "r"(v)); }
/// Tells the core a spin-wait is under way (x86 PAUSE, arm64 YIELD), so an idle poller
/// leaves execution resources to a hyperthread sibling, which may be its own peer.
static inline void cmemif_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}
static inline void cmemif_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 3); }
static inline void cmemif_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

// ---- eventfd, memfd, seals ----
int cmemif_eventfd(unsigned int initval, int nonblock);
int cmemif_memfd_create(const char *name);
/// Adds 1 to an eventfd counter (the memif "packets are ready" interrupt). Never blocks:
/// a saturated counter already means "wake up".
void cmemif_eventfd_signal(int fd);
/// Waits up to `timeout_ms` for the eventfd to be signalled and resets it.
/// Returns 1 when signalled, 0 on timeout, -1 with errno set on error.
int cmemif_eventfd_wait(int fd, int timeout_ms);
/// Adds F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL once the region has its final size.
int cmemif_seal_region(int fd);
/// 1 when F_SEAL_SHRINK is among the fd's seals, 0 when not, -1 (errno set) on error.
int cmemif_has_shrink_seal(int fd);

// ---- SOCK_SEQPACKET control messages with at most one fd (SCM_RIGHTS) ----
/// Sends `len` bytes as one datagram, with `fd` attached when fd >= 0.
/// Returns bytes sent or -1 with errno set.
ssize_t cmemif_send_with_fd(int sock, const void *buf, size_t len, int fd);
/// Receives one datagram into `buf`. `*fd_out` is the first fd received or -1; any
/// further fds are closed so a hostile peer cannot leak descriptors into us.
/// `*truncated` is set when the datagram or its control data did not fit.
/// Returns bytes received (0 = EOF) or -1 with errno set. MSG_DONTWAIT is used.
ssize_t cmemif_recv_with_fd(int sock, void *buf, size_t cap, int *fd_out, int *truncated);

// ---- sockets ----
/// Creates a close-on-exec SOCK_SEQPACKET unix socket.
int cmemif_seqpacket_socket(void);
/// Accepts one connection as a non-blocking, close-on-exec socket.
int cmemif_accept(int listener);
/// Binds or connects `sock` to a filesystem path or, when `abstract` is non-zero, to
/// the abstract name "\0"+name with the exact address length (no trailing NUL).
int cmemif_bind_unix(int sock, const char *name, size_t name_len, int abstract);
int cmemif_connect_unix(int sock, const char *name, size_t name_len, int abstract);
/// Largest name the sun_path field can hold (107 for a path + NUL, 107 for abstract).
size_t cmemif_max_unix_name(int abstract);

// ---- epoll (x86-64's epoll_event is packed; these keep it on the C side) ----
enum {
    CMEMIF_EPOLLIN = 0x001,
    CMEMIF_EPOLLERR = 0x008,
    CMEMIF_EPOLLHUP = 0x010,
    CMEMIF_EPOLLRDHUP = 0x2000,
};
int cmemif_epoll_create(void);
/// Watches `fd` for input and hang-ups.
int cmemif_epoll_add(int epfd, int fd);
int cmemif_epoll_del(int epfd, int fd);
/// Waits; fills `fds` and `events` with up to `max` ready fds. Returns the count or -1.
int cmemif_epoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout_ms);

// ---- stdio ----
/// Makes stdout line-buffered, so a tool's per-second lines reach a pipe or file at once.
void cmemif_line_buffer_stdout(void);

/// pipe2(O_CLOEXEC): a pipe whose ends a process spawned concurrently by another thread does
/// not inherit. Returns 0 or -1 with errno.
int cmemif_pipe_cloexec(int fds[2]);

// ---- threads ----
/// Pins the calling thread to one CPU. Returns 0 or an errno value.
int cmemif_pin_current_thread(int cpu);

#endif
