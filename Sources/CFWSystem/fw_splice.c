#define _GNU_SOURCE
#include "fw_splice.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int fw_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int fw_epoll_control(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = {.events = events, .data.u64 = token};
    return epoll_ctl(epfd, op, fd, &event);
}

int fw_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event ready[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epfd, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        tokens[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return count;
}

int fw_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

long fw_splice(int from, int to, size_t length) {
    return (long)splice(from, NULL, to, NULL, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

int fw_pipe_nonblocking(int fds[2], int size) {
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    int capacity = fcntl(fds[1], F_SETPIPE_SZ, size);
    if (capacity < 0) capacity = fcntl(fds[1], F_GETPIPE_SZ);
    return capacity;
}

long fw_raise_open_file_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    }
    return (long)limit.rlim_cur;
}

int fw_tcp_connect(const void *address, unsigned length, unsigned timeout_ms, int *in_progress) {
    const struct sockaddr *target = address;
    int fd = socket(target->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return -1;
    /* The SYN goes first, the options after it: none of them changes the SYN, and the service starts accepting
       while they are set. TCP_USER_TIMEOUT is read when the kernel would send the SYN again (a second later at
       the earliest), so it still bounds this connect; a connect done at once needs none. */
    *in_progress = 0;
    if (connect(fd, target, (socklen_t)length) != 0) {
        if (errno != EINPROGRESS) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        *in_progress = 1;
    }
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0 ||
        (*in_progress && timeout_ms > 0 && setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof timeout_ms) != 0)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int fw_socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
    return error;
}

int fw_tcp_listen(const void *address, unsigned length, int backlog) {
    const struct sockaddr *local = address;
    int fd = socket(local->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return -1;
    int one = 1;
    /* TCP_NODELAY and SO_KEEPALIVE are set here, once: every accepted socket inherits them (two system calls
       fewer per client, on the way to its Connect frame). */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0 || bind(fd, local, (socklen_t)length) != 0 ||
        listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int fw_tcp_accept(int listener, void *address, unsigned *length) {
    socklen_t size = (socklen_t)*length;
    int fd = accept4(listener, (struct sockaddr *)address, &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return -1;
    *length = (unsigned)size;
    return fd;
}

int fw_tcp_connected(int fd) {
    int error = fw_socket_error(fd);
    if (error != 0) return error;
    unsigned none = 0;
    if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &none, sizeof none) != 0) return errno;
    return 0;
}

int fw_writable(int fd) {
    struct pollfd entry = {.fd = fd, .events = POLLOUT};
    return poll(&entry, 1, 0) == 1 && (entry.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
}
