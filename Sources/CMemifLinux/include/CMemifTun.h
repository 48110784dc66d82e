// CMemifTun: the tun device ioctls Swift cannot call (ioctl is variadic), and opening the
// device inside another network namespace without moving the calling thread.
#ifndef CMEMIF_TUN_H
#define CMEMIF_TUN_H

#include <stddef.h>
#include <sys/types.h>

/// Longest interface name the kernel accepts, without the terminating NUL.
enum { CMEMIF_TUN_NAME_MAX = 15 };

/// Opens `/dev/net/tun` as the L3 tun `name` (IFF_TUN | IFF_NO_PI: bare IP packets, no
/// packet-information prefix), non-blocking and close-on-exec, in the network namespace at
/// `netns_path` (NULL: the caller's). The device lives as long as the descriptor (it is not
/// made persistent). The namespace switch happens on a short-lived helper thread, so the
/// caller's thread never changes namespace. Returns the descriptor, or -errno.
int cmemif_tun_open(const char *netns_path, const char *name);

/// Reads one packet into `buf`; -errno on failure (-EAGAIN when the queue is empty).
ssize_t cmemif_tun_read(int fd, void *buf, size_t cap);

/// Writes one packet; -errno on failure.
ssize_t cmemif_tun_write(int fd, const void *buf, size_t len);

#endif
