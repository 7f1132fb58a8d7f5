/* Sockets, epoll, eventfd and poll. Hot path: send, sendv, recv, epollWait (negative errno, no throw). */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define EPOLL_WAIT_MAX 1024 /* events per epollWait call (stack buffer) */

static void close_keep_errno(int fd) {
  int e = errno;
  close(fd);
  errno = e;
}

static int set_nodelay(int fd) {
  int one = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static napi_value throw_code(napi_env env, const char *code, const char *msg) {
  napi_value c, m, e;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, c, m, &e);
  napi_throw(env, e);
  return NULL;
}

/* host (dotted IPv4 or "localhost") + port -> sockaddr_in. `what` is "connect"/"listen" for messages. */
static bool get_addr(napi_env env, napi_value hostv, napi_value portv, const char *what,
                     struct sockaddr_in *sa, char *host, size_t hostsz, int32_t *port) {
  if (!nv_string(env, hostv, "host", host, hostsz)) return false;
  if (!nv_int32(env, portv, "port", port)) return false;
  if (*port < 0 || *port > 65535) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s %s:%d: port out of range", what, host, *port);
    nv_throw_range(env, msg);
    return false;
  }
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)*port);
  const char *h = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, h, &sa->sin_addr) != 1) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s %s:%d: not an IPv4 address", what, host, *port);
    throw_code(env, "EINVAL", msg);
    return false;
  }
  return true;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tcpConnect(host, port, timeoutMs) -> non-blocking fd with TCP_NODELAY */
napi_value nv_fn_tcp_connect(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct sockaddr_in sa;
  char host[256];
  int32_t port, timeout;
  if (!nv_args(env, info, 3, argv, NULL)) return NULL;
  if (!get_addr(env, argv[0], argv[1], "connect", &sa, host, sizeof host, &port)) return NULL;
  if (!nv_int32(env, argv[2], "timeoutMs", &timeout)) return NULL;

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return nv_throw_errno(env, errno, "socket", "connect %s:%d", host, port);
  if (set_nodelay(fd) < 0) {
    close_keep_errno(fd);
    return nv_throw_errno(env, errno, "setsockopt", "connect %s:%d", host, port);
  }
  int r;
  do r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno != EINPROGRESS) {
    close_keep_errno(fd);
    return nv_throw_errno(env, errno, "connect", "connect %s:%d", host, port);
  }
  if (r < 0) {
    int64_t deadline = timeout >= 0 ? mono_ms() + timeout : -1;
    for (;;) {
      int wait = -1;
      if (deadline >= 0) {
        int64_t left = deadline - mono_ms();
        wait = left > 0 ? (int)left : 0;
      }
      struct pollfd pfd = {.fd = fd, .events = POLLOUT, .revents = 0};
      int pr = poll(&pfd, 1, wait);
      if (pr < 0) {
        if (errno == EINTR) continue;
        close_keep_errno(fd);
        return nv_throw_errno(env, errno, "poll", "connect %s:%d", host, port);
      }
      if (pr == 0) {
        if (deadline >= 0 && mono_ms() >= deadline) {
          close(fd);
          return nv_throw_errno(env, ETIMEDOUT, "connect", "connect %s:%d", host, port);
        }
        continue;
      }
      break;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) soerr = errno;
    if (soerr != 0) {
      close(fd);
      return nv_throw_errno(env, soerr, "connect", "connect %s:%d", host, port);
    }
  }
  return nv_int(env, fd);
}

/* tcpListen(host, port, backlog) -> non-blocking listening fd */
napi_value nv_fn_tcp_listen(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct sockaddr_in sa;
  char host[256];
  int32_t port, backlog;
  if (!nv_args(env, info, 3, argv, NULL)) return NULL;
  if (!get_addr(env, argv[0], argv[1], "listen", &sa, host, sizeof host, &port)) return NULL;
  if (!nv_int32(env, argv[2], "backlog", &backlog)) return NULL;

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return nv_throw_errno(env, errno, "socket", "listen %s:%d", host, port);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    close_keep_errno(fd);
    return nv_throw_errno(env, errno, "setsockopt", "listen %s:%d", host, port);
  }
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close_keep_errno(fd);
    return nv_throw_errno(env, errno, "bind", "listen %s:%d", host, port);
  }
  if (listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
    close_keep_errno(fd);
    return nv_throw_errno(env, errno, "listen", "listen %s:%d", host, port);
  }
  return nv_int(env, fd);
}

napi_value nv_fn_local_port(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd)) return NULL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
    return nv_throw_errno(env, errno, "getsockname", "localPort fd %d", fd);
  if (ss.ss_family == AF_INET) return nv_int(env, ntohs(((struct sockaddr_in *)&ss)->sin_port));
  if (ss.ss_family == AF_INET6) return nv_int(env, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
  return nv_throw_errno(env, EAFNOSUPPORT, "getsockname", "localPort fd %d", fd);
}

napi_value nv_fn_peer_address(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd)) return NULL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
    return nv_throw_errno(env, errno, "getpeername", "peerAddress fd %d", fd);
  char addr[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN + 16];
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &s->sin_addr, addr, sizeof addr);
    snprintf(out, sizeof out, "%s:%u", addr, ntohs(s->sin_port));
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &s->sin6_addr, addr, sizeof addr);
    snprintf(out, sizeof out, "[%s]:%u", addr, ntohs(s->sin6_port));
  } else {
    return nv_throw_errno(env, EAFNOSUPPORT, "getpeername", "peerAddress fd %d", fd);
  }
  napi_value r;
  napi_create_string_utf8(env, out, NAPI_AUTO_LENGTH, &r);
  return r;
}

/* accept(fd) -> new non-blocking fd with TCP_NODELAY, or -1 when nothing is pending */
napi_value nv_fn_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd)) return NULL;
  for (;;) {
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
      set_nodelay(c); /* best effort: fails only for non-TCP listeners */
      return nv_int(env, c);
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return nv_int(env, -1);
    if (errno == EINTR || errno == ECONNABORTED) continue;
    return nv_throw_errno(env, errno, "accept4", "accept fd %d", fd);
  }
}

/* send(fd, buf, off, len) -> bytes sent or -errno */
napi_value nv_fn_send(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd;
  uint8_t *p;
  size_t n;
  if (!nv_args(env, info, 4, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_bytes(env, argv[1], argv[2], argv[3], "buf", &p, &n))
    return NULL;
  ssize_t r;
  do r = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  return nv_int(env, r < 0 ? -errno : r);
}

/*
 * sendv(fd, bufs, desc, first, count) -> bytes sent or -errno: one sendmsg over segments
 * first..first+count-1 (at most NV_IOV_MAX), segment i being bufs[i][desc[2i], desc[2i]+desc[2i+1]).
 * bufs is a JS array of byte arrays and desc a Float64Array, both owned and reused by the caller, so
 * nothing is allocated per call. The caller resumes a partial send itself.
 */
napi_value nv_fn_sendv(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t fd, first, count;
  if (!nv_args(env, info, 5, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_int32(env, argv[3], "first", &first) || !nv_int32(env, argv[4], "count", &count))
    return NULL;
  if (first < 0 || count < 0) return nv_throw_range(env, "sendv: first and count must be >= 0");
  if (count > NV_IOV_MAX) count = NV_IOV_MAX;
  struct iovec iov[NV_IOV_MAX];
  if (!nv_segments(env, argv[1], argv[2], first, count, "sendv", iov)) return NULL;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = (size_t)count;
  ssize_t r;
  do r = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  return nv_int(env, r < 0 ? -errno : r);
}

/* recv2(fd, a, aOff, aLen, b, bOff, bLen) -> bytes (0 = peer closed) or -errno: one readv into two
 * places (a PDU's data straight into its destination, whatever follows into the receive buffer). */
napi_value nv_fn_recv2(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int32_t fd;
  uint8_t *pa, *pb;
  size_t na, nb;
  if (!nv_args(env, info, 7, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_bytes(env, argv[1], argv[2], argv[3], "a", &pa, &na) ||
      !nv_bytes(env, argv[4], argv[5], argv[6], "b", &pb, &nb))
    return NULL;
  struct iovec iov[2] = {{.iov_base = pa, .iov_len = na}, {.iov_base = pb, .iov_len = nb}};
  ssize_t r;
  do r = readv(fd, iov, nb ? 2 : 1);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EWOULDBLOCK) return nv_int(env, -EAGAIN);
  return nv_int(env, r < 0 ? -errno : r);
}

/* recv(fd, buf, off, len) -> bytes (0 = peer closed) or -errno */
napi_value nv_fn_recv(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd;
  uint8_t *p;
  size_t n;
  if (!nv_args(env, info, 4, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_bytes(env, argv[1], argv[2], argv[3], "buf", &p, &n))
    return NULL;
  ssize_t r;
  do r = recv(fd, p, n, MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  return nv_int(env, r < 0 ? -errno : r);
}

napi_value nv_fn_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd)) return NULL;
  /* On Linux the fd is released even when close fails with EINTR: never retry. */
  if (close(fd) < 0 && errno != EINTR) return nv_throw_errno(env, errno, "close", "close fd %d", fd);
  return nv_undefined(env);
}

napi_value nv_fn_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd)) return NULL;
  shutdown(fd, SHUT_RDWR);
  return nv_undefined(env);
}

napi_value nv_fn_set_socket_buffers(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, snd, rcv;
  if (!nv_args(env, info, 3, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_int32(env, argv[1], "sndBytes", &snd) || !nv_int32(env, argv[2], "rcvBytes", &rcv))
    return NULL;
  if (snd < 0 || rcv < 0) return nv_throw_range(env, "socket buffer sizes must be >= 0");
  if (snd > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd) < 0)
    return nv_throw_errno(env, errno, "setsockopt", "setSocketBuffers fd %d SO_SNDBUF %d", fd, snd);
  if (rcv > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) < 0)
    return nv_throw_errno(env, errno, "setsockopt", "setSocketBuffers fd %d SO_RCVBUF %d", fd, rcv);
  return nv_undefined(env);
}

/* notSentLowat(fd, bytes): TCP_NOTSENT_LOWAT, how many bytes not yet sent may wait in the socket; a send
   beyond that returns short (EAGAIN) and the socket reports writable again once it drains below. bytes > 0
   sets it; 0 only reads it. Returns the value in force before the call. */
napi_value nv_fn_not_sent_lowat(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, bytes;
  if (!nv_args(env, info, 2, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) || !nv_int32(env, argv[1], "bytes", &bytes))
    return NULL;
  if (bytes < 0) return nv_throw_range(env, "bytes must be >= 0");
  int old = 0;
  socklen_t len = sizeof old;
  if (getsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &old, &len) < 0)
    return nv_throw_errno(env, errno, "getsockopt", "notSentLowat fd %d", fd);
  if (bytes > 0 && setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof bytes) < 0)
    return nv_throw_errno(env, errno, "setsockopt", "notSentLowat fd %d TCP_NOTSENT_LOWAT %d", fd, bytes);
  return nv_int(env, old);
}

/* ------------------------------------------------------------------ epoll */

napi_value nv_fn_epoll_create(napi_env env, napi_callback_info info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return nv_throw_errno(env, errno, "epoll_create1", "epollCreate");
  return nv_int(env, fd);
}

napi_value nv_fn_epoll_ctl(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t epfd, op, fd;
  uint32_t events, data;
  if (!nv_args(env, info, 5, argv, NULL) || !nv_int32(env, argv[0], "epfd", &epfd) ||
      !nv_int32(env, argv[1], "op", &op) || !nv_int32(env, argv[2], "fd", &fd) ||
      !nv_uint32(env, argv[3], "events", &events) || !nv_uint32(env, argv[4], "data", &data))
    return NULL;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.u32 = data;
  if (epoll_ctl(epfd, op, fd, &ev) < 0)
    return nv_throw_errno(env, errno, "epoll_ctl", "epollCtl epfd %d op %d fd %d", epfd, op, fd);
  return nv_undefined(env);
}

/* epollWait(epfd, out: Int32Array, timeoutMs) -> count (out[2i] = tag, out[2i+1] = events), -errno */
napi_value nv_fn_epoll_wait(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t epfd, timeout;
  if (!nv_args(env, info, 3, argv, NULL) || !nv_int32(env, argv[0], "epfd", &epfd)) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      !(type == napi_int32_array || type == napi_uint32_array))
    return nv_throw_type(env, "out must be an Int32Array");
  double timeoutMs;
  if (napi_get_value_double(env, argv[2], &timeoutMs) != napi_ok) return nv_throw_type(env, "timeoutMs must be a number");
  timeout = timeoutMs < 0 ? -1 : (int32_t)timeoutMs;
  size_t max = length / 2;
  if (max == 0) return nv_throw_range(env, "out must hold at least one event (length >= 2)");
  if (max > EPOLL_WAIT_MAX) max = EPOLL_WAIT_MAX;
  struct epoll_event evs[EPOLL_WAIT_MAX];
  int n;
  if (timeoutMs > 0 && timeoutMs != (double)timeout) {
    /* Fractional milliseconds (an open-loop schedule's next arrival): epoll_pwait2 sleeps with ns
       precision; kernels before 5.11 lack it, so round up to whole ms there. */
    struct timespec ts;
    ts.tv_sec = (time_t)(timeoutMs / 1000);
    ts.tv_nsec = (long)((timeoutMs - (double)ts.tv_sec * 1000) * 1e6);
    n = epoll_pwait2(epfd, evs, (int)max, &ts, NULL);
    if (n < 0 && errno == ENOSYS) n = epoll_wait(epfd, evs, (int)max, timeout + 1);
  } else {
    n = epoll_wait(epfd, evs, (int)max, timeout < 0 ? -1 : timeout);
  }
  if (n < 0) return nv_int(env, errno == EINTR ? 0 : -errno);
  int32_t *out = data;
  for (int i = 0; i < n; i++) {
    out[2 * i] = (int32_t)evs[i].data.u32;
    out[2 * i + 1] = (int32_t)evs[i].events;
  }
  return nv_int(env, n);
}

/* ------------------------------------------------------------------ eventfd */

napi_value nv_fn_eventfd_create(napi_env env, napi_callback_info info) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return nv_throw_errno(env, errno, "eventfd", "eventfdCreate");
  return nv_int(env, fd);
}

napi_value nv_fn_eventfd_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  double v;
  if (!nv_args(env, info, 2, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_double(env, argv[1], "value", &v))
    return NULL;
  if (!(v >= 0 && v <= 9007199254740991.0) || v != (double)(uint64_t)v)
    return nv_throw_range(env, "eventfd value must be a non-negative integer");
  uint64_t u = (uint64_t)v;
  ssize_t r;
  do r = write(fd, &u, sizeof u);
  while (r < 0 && errno == EINTR);
  /* EAGAIN: the counter would overflow, so a reader is already due to wake up. */
  if (r < 0 && errno != EAGAIN) return nv_throw_errno(env, errno, "write", "eventfdWrite fd %d", fd);
  return nv_undefined(env);
}

napi_value nv_fn_eventfd_read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd)) return NULL;
  uint64_t u = 0;
  ssize_t r;
  do r = read(fd, &u, sizeof u);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN) return nv_int(env, 0);
    return nv_throw_errno(env, errno, "read", "eventfdRead fd %d", fd);
  }
  return nv_num(env, (double)u);
}

/* pollFd(fd, events, timeoutMs) -> revents (0 on timeout or EINTR) */
napi_value nv_fn_poll_fd(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, events, timeout;
  if (!nv_args(env, info, 3, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_int32(env, argv[1], "events", &events) || !nv_int32(env, argv[2], "timeoutMs", &timeout))
    return NULL;
  struct pollfd pfd = {.fd = fd, .events = (short)events, .revents = 0};
  int r = poll(&pfd, 1, timeout < 0 ? -1 : timeout);
  if (r < 0) {
    if (errno == EINTR) return nv_int(env, 0);
    return nv_throw_errno(env, errno, "poll", "pollFd fd %d", fd);
  }
  return nv_int(env, r == 0 ? 0 : pfd.revents);
}
