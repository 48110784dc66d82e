#include "CMemifNetns.h"
#include "CMemifLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int cmemif_netns_open(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type != CLONE_NEWNET) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

struct netns_job {
    int netns_fd;
    void (*body)(void *);
    void *context;
    int error;
};

static void *netns_thread(void *arg) {
    struct netns_job *job = arg;
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) {
        job->error = errno;
        return NULL;
    }
    if (setns(job->netns_fd, CLONE_NEWNET) != 0) {
        job->error = errno;
        close(home);
        return NULL;
    }
    job->body(job->context);
    // Back home before the thread ends, so nothing outlives the call inside the namespace.
    if (setns(home, CLONE_NEWNET) != 0) job->error = errno;
    close(home);
    return NULL;
}

int cmemif_netns_run(int netns_fd, void (*body)(void *), void *context) {
    struct netns_job job = {netns_fd, body, context, 0};
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, netns_thread, &job);
    if (rc != 0) return rc;
    pthread_join(thread, NULL);
    return job.error;
}

struct listen_job {
    const char *name;
    size_t name_len;
    int abstract;
    int backlog;
    int fd;
    int error;
};

static void listen_in_namespace(void *arg) {
    struct listen_job *job = arg;
    int fd = cmemif_seqpacket_socket();
    if (fd < 0) {
        job->error = errno;
        return;
    }
    if (cmemif_bind_unix(fd, job->name, job->name_len, job->abstract) != 0 || listen(fd, job->backlog) != 0) {
        job->error = errno;
        close(fd);
        return;
    }
    job->fd = fd;
}

int cmemif_netns_listen_unix(int netns_fd, const char *name, size_t name_len, int abstract, int backlog) {
    struct listen_job job = {name, name_len, abstract, backlog, -1, 0};
    int rc = cmemif_netns_run(netns_fd, listen_in_namespace, &job);
    if (rc != 0) {
        if (job.fd >= 0) close(job.fd);
        errno = rc;
        return -1;
    }
    if (job.fd < 0) {
        errno = job.error;
        return -1;
    }
    return job.fd;
}
