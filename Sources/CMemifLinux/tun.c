#include "CMemifTun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct tun_request {
    const char *netns_path;
    const char *name;
    int result;
};

static int open_tun_here(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > CMEMIF_TUN_NAME_MAX) return -EINVAL;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, n);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/// Runs on its own thread: a namespace switch there dies with the thread.
static void *open_in_namespace(void *arg) {
    struct tun_request *r = arg;
    int ns = open(r->netns_path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
        r->result = -errno;
        return NULL;
    }
    if (setns(ns, CLONE_NEWNET) < 0) {
        r->result = -errno;
        close(ns);
        return NULL;
    }
    close(ns);
    r->result = open_tun_here(r->name);
    return NULL;
}

int cmemif_tun_open(const char *netns_path, const char *name) {
    if (name == NULL) return -EINVAL;
    if (netns_path == NULL) return open_tun_here(name);
    struct tun_request r = {netns_path, name, -EIO};
    pthread_t t;
    int e = pthread_create(&t, NULL, open_in_namespace, &r);
    if (e != 0) return -e;
    pthread_join(t, NULL);
    return r.result;
}

ssize_t cmemif_tun_read(int fd, void *buf, size_t cap) {
    ssize_t n = read(fd, buf, cap);
    return n < 0 ? -errno : n;
}

ssize_t cmemif_tun_write(int fd, const void *buf, size_t len) {
    ssize_t n = write(fd, buf, len);
    return n < 0 ? -errno : n;
}
