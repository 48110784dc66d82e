#include "CMemifLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// Layouts the Swift side relies on. Swift uses byte offsets; these pin them.
_Static_assert(sizeof(cmemif_desc_t) == 16, "memif descriptor is 16 bytes");
_Static_assert(offsetof(cmemif_desc_t, region) == 2, "desc.region at 2");
_Static_assert(offsetof(cmemif_desc_t, length) == 4, "desc.length at 4");
_Static_assert(offsetof(cmemif_desc_t, offset) == 8, "desc.offset at 8");
_Static_assert(offsetof(cmemif_desc_t, metadata) == 12, "desc.metadata at 12");
_Static_assert(offsetof(struct sockaddr_un, sun_path) == 2, "sun_path follows sun_family");
_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == 108, "sun_path is 108 bytes");
_Static_assert(sizeof(struct cmsghdr) == 16, "LP64 cmsghdr");
_Static_assert(CMSG_SPACE(sizeof(int)) == 24, "one fd of control data");
_Static_assert(sizeof(int) == 4, "fds are 32-bit");

int cmemif_eventfd(unsigned int initval, int nonblock) {
    return eventfd(initval, EFD_CLOEXEC | (nonblock ? EFD_NONBLOCK : 0));
}

void cmemif_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

int cmemif_eventfd_wait(int fd, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc;
    do {
        rc = poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) return rc;
    uint64_t value;
    ssize_t n = read(fd, &value, sizeof(value));
    return n == sizeof(value) || (n < 0 && errno == EAGAIN) ? 1 : -1;
}

int cmemif_memfd_create(const char *name) {
    return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

int cmemif_seal_region(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

int cmemif_has_shrink_seal(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return -1;
    return (seals & F_SEAL_SHRINK) ? 1 : 0;
}

ssize_t cmemif_send_with_fd(int sock, const void *buf, size_t len, int fd) {
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union {
        char bytes[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&control, 0, sizeof(control));
        msg.msg_control = control.bytes;
        msg.msg_controllen = sizeof(control.bytes);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

ssize_t cmemif_recv_with_fd(int sock, void *buf, size_t cap, int *fd_out, int *truncated) {
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    // Room for several fds plus credentials: whatever a peer sends, we see it and close
    // what we do not keep instead of having the kernel truncate (and leak) it.
    union {
        char bytes[CMSG_SPACE(sizeof(int) * 8) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
        .msg_controllen = sizeof(control.bytes)};
    *fd_out = -1;
    *truncated = 0;
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*fd_out < 0) {
                *fd_out = fd;
            } else {
                close(fd);
                *truncated = 1;
            }
        }
    }
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) *truncated = 1;
    return n;
}

int cmemif_seqpacket_socket(void) {
    return socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
}

int cmemif_accept(int listener) { return accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); }

static int fill_addr(struct sockaddr_un *addr, socklen_t *len, const char *name, size_t name_len,
                     int abstract) {
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (name_len == 0 || name_len > cmemif_max_unix_name(abstract)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (abstract) {
        memcpy(addr->sun_path + 1, name, name_len);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name_len);
    } else {
        memcpy(addr->sun_path, name, name_len);
        *len = (socklen_t)sizeof(*addr);
    }
    return 0;
}

size_t cmemif_max_unix_name(int abstract) {
    (void)abstract;
    return sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
}

int cmemif_bind_unix(int sock, const char *name, size_t name_len, int abstract) {
    struct sockaddr_un addr;
    socklen_t len;
    if (fill_addr(&addr, &len, name, name_len, abstract) < 0) return -1;
    return bind(sock, (struct sockaddr *)&addr, len);
}

int cmemif_connect_unix(int sock, const char *name, size_t name_len, int abstract) {
    struct sockaddr_un addr;
    socklen_t len;
    if (fill_addr(&addr, &len, name, name_len, abstract) < 0) return -1;
    int rc;
    do {
        rc = connect(sock, (struct sockaddr *)&addr, len);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

_Static_assert(CMEMIF_EPOLLIN == EPOLLIN && CMEMIF_EPOLLERR == EPOLLERR && CMEMIF_EPOLLHUP == EPOLLHUP &&
                   CMEMIF_EPOLLRDHUP == EPOLLRDHUP,
               "epoll event bits");

int cmemif_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cmemif_epoll_add(int epfd, int fd) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int cmemif_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int cmemif_epoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event ev[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, ev, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        fds[i] = ev[i].data.fd;
        events[i] = ev[i].events;
    }
    return n;
}

int cmemif_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void cmemif_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

int cmemif_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
