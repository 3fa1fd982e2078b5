#ifndef FWCTL_SPLICE_H
#define FWCTL_SPLICE_H

#include <stddef.h>
#include <stdint.h>

/* The tunnel's in-kernel relay: splice(2) through a pipe, driven by epoll. Thin wrappers, because Swift's Glibc
   module exposes neither splice nor epoll (and epoll_event is a packed struct Swift cannot lay out). */

enum {
    FW_EPOLL_IN = 0x001,
    FW_EPOLL_OUT = 0x004,
    FW_EPOLL_ERR = 0x008,
    FW_EPOLL_HUP = 0x010,
    FW_EPOLL_RDHUP = 0x2000,
    FW_EPOLL_ONESHOT = 0x40000000,
};

/* epoll_create1(EPOLL_CLOEXEC). */
int fw_epoll_create(void);

/* Adds (op 1), changes (op 3) or removes (op 2) `fd` with `events` (FW_EPOLL_* bits), level-triggered; `token`
   comes back from fw_epoll_wait. Returns 0, or -1 with errno set. */
int fw_epoll_control(int epfd, int op, int fd, uint32_t events, uint64_t token);

/* Waits up to `timeout_ms` (-1: no limit) for at most `capacity` events; stores their tokens and event bits.
   Returns the count, or -1 with errno set (EINTR included). */
int fw_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms);

/* eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC): how other threads wake an epoll loop. */
int fw_eventfd(void);

/* splice(from, NULL, to, NULL, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK). One of the two must be a pipe.
   Returns the bytes moved, 0 at end of input, or -1 with errno set (EAGAIN: try again when ready). */
long fw_splice(int from, int to, size_t length);

/* pipe2(O_NONBLOCK | O_CLOEXEC), then asks for `size` bytes of capacity (kept at the default when refused).
   Returns the capacity, or -1 with errno set. */
int fw_pipe_nonblocking(int fds[2], int size);

/* Raises the soft limit on open files to the hard limit (a relay holds six descriptors); returns the new soft
   limit, or -1. */
long fw_raise_open_file_limit(void);

/* A TCP socket (non-blocking, close-on-exec, TCP_NODELAY and SO_KEEPALIVE set) connecting to `address`: the
   descriptor, with *in_progress 1 while the connect is still under way (its end shows as writable, and
   fw_tcp_connected says how it went); -1 with errno set when the socket cannot be made or refuses at once.
   `timeout_ms` > 0 bounds the connect (TCP_USER_TIMEOUT: the kernel gives up on the SYN's retries after it and
   the connect ends with ETIMEDOUT; it checks when it would send the SYN again, the first time after its initial
   retransmission timeout of 1 s, so a limit under a second acts as about one). */
int fw_tcp_connect(const void *address, unsigned length, unsigned timeout_ms, int *in_progress);

/* 1 when `fd` is writable (or in error) right now, else 0: whether a connect under way has ended. */
int fw_writable(int fd);

/* How a connect under way ended: 0 when connected (its TCP_USER_TIMEOUT is then cleared, so that it does not
   bound the connection's later life), else the error. */
int fw_tcp_connected(int fd);

/* A listening TCP socket (non-blocking, close-on-exec, SO_REUSEADDR; TCP_NODELAY and SO_KEEPALIVE, which the
   sockets it accepts inherit) bound to `address`; -1 with errno set. */
int fw_tcp_listen(const void *address, unsigned length, int backlog);

/* accept4 (non-blocking, close-on-exec; TCP_NODELAY and SO_KEEPALIVE come from `fw_tcp_listen`); its peer's
   address in `address` (room for `*length` bytes, updated). -1 with errno set (EAGAIN: no one waiting). */
int fw_tcp_accept(int listener, void *address, unsigned *length);

/* The socket's pending error (SO_ERROR, cleared by reading it): 0 when a connect succeeded. */
int fw_socket_error(int fd);

#endif
