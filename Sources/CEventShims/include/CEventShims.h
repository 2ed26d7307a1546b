#ifndef CEVENTSHIMS_H
#define CEVENTSHIMS_H
/// Linux event APIs Swift's Glibc module does not expose: epoll, eventfd, accept4 (a _GNU_SOURCE call).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// `accept4(2)`: accepts with `SOCK_NONBLOCK | SOCK_CLOEXEC` set atomically.
int cshim_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
#endif
