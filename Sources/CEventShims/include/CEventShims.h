#ifndef CEVENTSHIMS_H
#define CEVENTSHIMS_H
/// Linux APIs Swift's Glibc module does not expose: epoll, eventfd, and the _GNU_SOURCE calls accept4 and
/// pthread_setname_np.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// `accept4(2)`: accepts with `SOCK_NONBLOCK | SOCK_CLOEXEC` set atomically.
int cshim_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// Names the calling thread (at most 15 bytes are kept), as `top -H` and `/proc/PID/task/TID/comm` show it.
void cshim_set_thread_name(const char *name);
#endif
