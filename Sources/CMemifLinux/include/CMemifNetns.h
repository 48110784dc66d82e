// Network namespaces for memifd: a memif server socket is bound inside a pod's network
// namespace (so its abstract name is visible there only) by a short-lived thread that joins
// the namespace, while the process and its event loop stay in the node's namespace.
#ifndef CMEMIF_NETNS_H
#define CMEMIF_NETNS_H

#include <stddef.h>

/// Opens a network namespace file (`/run/netns/NAME`, `/proc/PID/ns/net`) close-on-exec and
/// checks that it is one. Returns the fd, or -1 with errno set (EINVAL: not a network namespace).
int cmemif_netns_open(const char *path);

/// Runs `body(context)` on a new thread that has joined the network namespace `netns_fd`,
/// and waits for it. The thread returns to the caller's namespace before it ends.
/// Returns 0, or an errno value when the thread or the namespace switch failed (then `body`
/// did not run).
int cmemif_netns_run(int netns_fd, void (*body)(void *context), void *context);

/// Creates a close-on-exec SOCK_SEQPACKET unix socket, binds it to `name` (abstract when
/// `abstract` is non-zero, exact address length) and listens, all inside the network
/// namespace `netns_fd`. Returns the listening fd, or -1 with errno set.
int cmemif_netns_listen_unix(int netns_fd, const char *name, size_t name_len, int abstract, int backlog);

#endif
