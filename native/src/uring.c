/*
 * io_uring through raw syscalls (<linux/io_uring.h>, no liburing), plus the few block/NVMe ioctls a
 * local device needs. No protocol logic: NVMe command fields come from JS as numbers and are copied
 * into struct nvme_uring_cmd unchanged.
 *
 * A ring is a small integer handle (index into a process-wide table; create/destroy under a mutex,
 * the hot path only reads its own slot). One ring belongs to one thread.
 *
 * Hot path (uringPass): fill SQEs from a Float64Array of descriptors (DESC_STRIDE numbers each, see
 * below), one io_uring_enter for all of them (none when nothing is to be submitted and the ring is not
 * IOPOLL), copy CQEs into an Int32Array as (user_data, res, dw0) triples. Allocates nothing; kernel
 * errors come back as negative errno numbers.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/nvme_ioctl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Descriptor layout (Float64Array, DESC_STRIDE numbers per SQE). */
enum {
  D_OP = 0,       /* IORING_OP_* */
  D_FD = 1,       /* fd, or registered file index with IOSQE_FIXED_FILE */
  D_SQE_FLAGS = 2,
  D_OFF = 3,      /* file offset in bytes */
  D_BUF = 4,      /* buffer table index, -1 = none */
  D_BUF_OFF = 5,  /* byte offset in that buffer */
  D_LEN = 6,      /* bytes */
  D_USER = 7,     /* user_data (a tag, < 2^31) */
  D_OP_FLAGS = 8, /* rw_flags / fsync_flags */
  D_NVME_OPC = 9, /* URING_CMD: NVMe opcode */
  D_NSID = 10,
  D_CDW10 = 11,   /* .. D_CDW15 = 16 */
  D_TIMEOUT = 17,
  DESC_STRIDE = 20,
};

#define MAX_RINGS 1024
#define MAX_BUFS 64

typedef struct nv_ring {
  int fd;
  unsigned setup_flags;
  unsigned features;
  size_t sqe_size, cqe_size;
  void *sq_ptr, *cq_ptr;
  size_t sq_sz, cq_sz, sqes_sz;
  _Atomic unsigned *sq_head, *sq_tail;
  unsigned *sq_flags;
  unsigned sq_mask, sq_entries;
  uint8_t *sqes;
  _Atomic unsigned *cq_head, *cq_tail;
  unsigned *cq_flags;
  unsigned cq_mask, cq_entries;
  uint8_t *cqes;
  unsigned unsubmitted; /* SQEs in the ring the kernel has not been told about */
  int efd;              /* the registered eventfd, or -1 */
  int nbufs;
  uint8_t *buf_addr[MAX_BUFS];
  size_t buf_len[MAX_BUFS];
  bool bufs_registered;
} nv_ring;

static nv_ring *g_rings[MAX_RINGS];
static pthread_mutex_t g_rings_lock = PTHREAD_MUTEX_INITIALIZER;

static int sys_setup(unsigned entries, struct io_uring_params *p) {
  return (int)syscall(__NR_io_uring_setup, entries, p);
}
static int sys_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, void *arg, size_t argsz) {
  return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz);
}
static int sys_register(int fd, unsigned op, const void *arg, unsigned nr) {
  return (int)syscall(__NR_io_uring_register, fd, op, arg, nr);
}

static void ring_free(nv_ring *r) {
  if (r->sqes && r->sqes != MAP_FAILED) munmap(r->sqes, r->sqes_sz);
  if (r->cq_ptr && r->cq_ptr != MAP_FAILED && r->cq_ptr != r->sq_ptr) munmap(r->cq_ptr, r->cq_sz);
  if (r->sq_ptr && r->sq_ptr != MAP_FAILED) munmap(r->sq_ptr, r->sq_sz);
  if (r->fd >= 0) close(r->fd);
  free(r);
}

static nv_ring *get_ring(napi_env env, napi_value v) {
  int32_t h;
  if (!nv_int32(env, v, "ring", &h)) return NULL;
  nv_ring *r = (h >= 0 && h < MAX_RINGS) ? g_rings[h] : NULL;
  if (!r) {
    nv_throw_range(env, "ring: not an open io_uring handle");
    return NULL;
  }
  return r;
}

/* uringSetup(entries, flags, sqThreadIdleMs) -> handle.
 * flags: IORING_SETUP_* bits as the kernel defines them (IOPOLL, SQPOLL, SQE128, CQE32, ...). */
napi_value nv_fn_uring_setup(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint32_t entries, flags, idle;
  if (!nv_args(env, info, 3, argv, NULL) || !nv_uint32(env, argv[0], "entries", &entries) ||
      !nv_uint32(env, argv[1], "flags", &flags) || !nv_uint32(env, argv[2], "sqThreadIdleMs", &idle))
    return NULL;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = flags;
  if (flags & IORING_SETUP_SQPOLL) p.sq_thread_idle = idle;
  nv_ring *r = calloc(1, sizeof *r);
  if (!r) return nv_throw_errno(env, ENOMEM, NULL, "io_uring_setup");
  r->fd = -1;
  r->efd = -1;
  int fd = sys_setup(entries, &p);
  if (fd < 0) {
    int e = errno;
    free(r);
    return nv_throw_errno(env, e, "io_uring_setup", "io_uring_setup");
  }
  r->fd = fd;
  r->setup_flags = flags;
  r->features = p.features;
  r->sqe_size = (flags & IORING_SETUP_SQE128) ? 128 : 64;
  r->cqe_size = (flags & IORING_SETUP_CQE32) ? 32 : 16;
  r->sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r->cq_sz = p.cq_off.cqes + p.cq_entries * r->cqe_size;
  bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single) {
    if (r->cq_sz > r->sq_sz) r->sq_sz = r->cq_sz;
    r->cq_sz = r->sq_sz;
  }
  r->sq_ptr = mmap(NULL, r->sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (r->sq_ptr == MAP_FAILED) goto fail;
  r->cq_ptr = single ? r->sq_ptr
                     : mmap(NULL, r->cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
  if (r->cq_ptr == MAP_FAILED) goto fail;
  r->sqes_sz = p.sq_entries * r->sqe_size;
  r->sqes = mmap(NULL, r->sqes_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) goto fail;

  uint8_t *sq = r->sq_ptr, *cq = r->cq_ptr;
  r->sq_head = (_Atomic unsigned *)(sq + p.sq_off.head);
  r->sq_tail = (_Atomic unsigned *)(sq + p.sq_off.tail);
  r->sq_flags = (unsigned *)(sq + p.sq_off.flags);
  r->sq_mask = *(unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_entries = *(unsigned *)(sq + p.sq_off.ring_entries);
  unsigned *array = (unsigned *)(sq + p.sq_off.array);
  for (unsigned i = 0; i < r->sq_entries; i++) array[i] = i; /* SQ slot i always holds SQE i */
  r->cq_head = (_Atomic unsigned *)(cq + p.cq_off.head);
  r->cq_tail = (_Atomic unsigned *)(cq + p.cq_off.tail);
  r->cq_flags = p.cq_off.flags ? (unsigned *)(cq + p.cq_off.flags) : NULL;
  r->cq_mask = *(unsigned *)(cq + p.cq_off.ring_mask);
  r->cq_entries = *(unsigned *)(cq + p.cq_off.ring_entries);
  r->cqes = cq + p.cq_off.cqes;

  pthread_mutex_lock(&g_rings_lock);
  int h = -1;
  for (int i = 0; i < MAX_RINGS; i++)
    if (!g_rings[i]) {
      g_rings[i] = r;
      h = i;
      break;
    }
  pthread_mutex_unlock(&g_rings_lock);
  if (h < 0) {
    ring_free(r);
    return nv_throw_errno(env, EMFILE, NULL, "io_uring_setup: more than %d rings", MAX_RINGS);
  }
  return nv_int(env, h);
fail: {
  int e = errno;
  ring_free(r);
  return nv_throw_errno(env, e, "mmap", "io_uring mmap");
}
}

/* uringInfo(ring) -> [sqEntries, cqEntries, features, setupFlags, ringFd] */
napi_value nv_fn_uring_info(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!nv_args(env, info, 1, argv, NULL)) return NULL;
  nv_ring *r = get_ring(env, argv[0]);
  if (!r) return NULL;
  napi_value arr;
  napi_create_array_with_length(env, 5, &arr);
  napi_set_element(env, arr, 0, nv_int(env, r->sq_entries));
  napi_set_element(env, arr, 1, nv_int(env, r->cq_entries));
  napi_set_element(env, arr, 2, nv_int(env, r->features));
  napi_set_element(env, arr, 3, nv_int(env, r->setup_flags));
  napi_set_element(env, arr, 4, nv_int(env, r->fd));
  return arr;
}

/* uringClose(ring): unmaps and closes; idempotent per handle value is NOT guaranteed (handles are reused). */
napi_value nv_fn_uring_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t h;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "ring", &h)) return NULL;
  nv_ring *r = NULL;
  pthread_mutex_lock(&g_rings_lock);
  if (h >= 0 && h < MAX_RINGS) {
    r = g_rings[h];
    g_rings[h] = NULL;
  }
  pthread_mutex_unlock(&g_rings_lock);
  if (r) ring_free(r);
  return nv_undefined(env);
}

/* uringRegisterFiles(ring, fds: number[]) */
napi_value nv_fn_uring_register_files(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!nv_args(env, info, 2, argv, NULL)) return NULL;
  nv_ring *r = get_ring(env, argv[0]);
  if (!r) return NULL;
  uint32_t n = 0;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok || n == 0 || n > 1024) {
    nv_throw_type(env, "fds must be an array of 1 to 1024 file descriptors");
    return NULL;
  }
  int fds[1024];
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, argv[1], i, &v);
    if (!nv_int32(env, v, "fd", &fds[i])) return NULL;
  }
  if (sys_register(r->fd, IORING_REGISTER_FILES, fds, n) < 0)
    return nv_throw_errno(env, errno, "io_uring_register", "IORING_REGISTER_FILES");
  return nv_undefined(env);
}

/* uringSetBuffers(ring, bufs: Uint8Array[], register: boolean) -> 0 or -errno of the registration.
 * The table is kept either way (plain READ/WRITE use it); the caller keeps the arrays alive. */
napi_value nv_fn_uring_set_buffers(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!nv_args(env, info, 3, argv, NULL)) return NULL;
  nv_ring *r = get_ring(env, argv[0]);
  if (!r) return NULL;
  uint32_t n = 0;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok || n > MAX_BUFS) {
    nv_throw_type(env, "bufs must be an array of at most 64 Uint8Arrays");
    return NULL;
  }
  bool reg = false;
  napi_get_value_bool(env, argv[2], &reg);
  struct iovec iov[MAX_BUFS];
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_typedarray_type type;
    size_t len = 0;
    void *data = NULL;
    napi_get_element(env, argv[1], i, &v);
    if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
      nv_throw_type(env, "bufs must hold Uint8Arrays");
      return NULL;
    }
    iov[i].iov_base = data;
    iov[i].iov_len = len;
  }
  if (r->bufs_registered) {
    sys_register(r->fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
    r->bufs_registered = false;
  }
  for (uint32_t i = 0; i < n; i++) {
    r->buf_addr[i] = iov[i].iov_base;
    r->buf_len[i] = iov[i].iov_len;
  }
  r->nbufs = (int)n;
  if (reg && n > 0) {
    if (sys_register(r->fd, IORING_REGISTER_BUFFERS, iov, n) < 0) return nv_int(env, -errno);
    r->bufs_registered = true;
  }
  return nv_int(env, 0);
}

/* uringRegisterEventfd(ring, efd): completions signal efd (interrupt mode). */
napi_value nv_fn_uring_register_eventfd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t efd;
  if (!nv_args(env, info, 2, argv, NULL)) return NULL;
  nv_ring *r = get_ring(env, argv[0]);
  if (!r || !nv_int32(env, argv[1], "efd", &efd)) return NULL;
  if (sys_register(r->fd, IORING_REGISTER_EVENTFD, &efd, 1) < 0)
    return nv_throw_errno(env, errno, "io_uring_register", "IORING_REGISTER_EVENTFD");
  r->efd = efd;
  return nv_undefined(env);
}

/* Fills one SQE from desc[i*STRIDE..]. Returns 0 or -EINVAL (bad buffer reference). */
static int fill_sqe(nv_ring *r, uint8_t *slot, const double *d) {
  struct io_uring_sqe *sqe = (struct io_uring_sqe *)slot;
  memset(slot, 0, r->sqe_size);
  int op = (int)d[D_OP];
  sqe->opcode = (uint8_t)op;
  sqe->fd = (int32_t)d[D_FD];
  sqe->flags = (uint8_t)d[D_SQE_FLAGS];
  sqe->user_data = (uint64_t)d[D_USER];
  uint8_t *addr = NULL;
  size_t len = (size_t)d[D_LEN];
  int bi = (int)d[D_BUF];
  if (bi >= 0) {
    size_t boff = (size_t)d[D_BUF_OFF];
    if (bi >= r->nbufs || boff + len > r->buf_len[bi]) return -EINVAL;
    addr = r->buf_addr[bi] + boff;
  }
  switch (op) {
  case IORING_OP_URING_CMD: {
    sqe->cmd_op = (uint32_t)d[D_OFF];
    struct nvme_uring_cmd *c = (struct nvme_uring_cmd *)sqe->cmd;
    c->opcode = (uint8_t)d[D_NVME_OPC];
    c->nsid = (uint32_t)d[D_NSID];
    c->addr = (uint64_t)(uintptr_t)addr;
    c->data_len = (uint32_t)len;
    c->cdw10 = (uint32_t)d[D_CDW10];
    c->cdw11 = (uint32_t)d[D_CDW10 + 1];
    c->cdw12 = (uint32_t)d[D_CDW10 + 2];
    c->cdw13 = (uint32_t)d[D_CDW10 + 3];
    c->cdw14 = (uint32_t)d[D_CDW10 + 4];
    c->cdw15 = (uint32_t)d[D_CDW10 + 5];
    c->timeout_ms = (uint32_t)d[D_TIMEOUT];
    if (bi >= 0 && r->bufs_registered && ((uint32_t)d[D_OP_FLAGS] & IORING_URING_CMD_FIXED)) {
      sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
      sqe->buf_index = (uint16_t)bi;
    }
    break;
  }
  case IORING_OP_READ_FIXED:
  case IORING_OP_WRITE_FIXED:
    if (bi < 0 || !r->bufs_registered) return -EINVAL;
    sqe->buf_index = (uint16_t)bi;
    /* fall through */
  case IORING_OP_READ:
  case IORING_OP_WRITE:
    sqe->off = (uint64_t)d[D_OFF];
    sqe->addr = (uint64_t)(uintptr_t)addr;
    sqe->len = (uint32_t)len;
    sqe->rw_flags = (int)d[D_OP_FLAGS];
    break;
  case IORING_OP_FSYNC:
    sqe->fsync_flags = (uint32_t)d[D_OP_FLAGS];
    break;
  case IORING_OP_NOP:
    break;
  default:
    return -EINVAL;
  }
  return 0;
}

static inline unsigned cq_ready(nv_ring *r) {
  return atomic_load_explicit(r->cq_tail, memory_order_acquire) - atomic_load_explicit(r->cq_head, memory_order_relaxed);
}

/* uringPass(ring, desc, count, out, maxOut) -> CQEs copied, or -errno.
 * Puts desc entries 0..count-1 in the SQ ring (all or none: -EOVERFLOW when they do not fit, -EINVAL
 * for a bad buffer reference), one io_uring_enter for them (IOPOLL rings also enter to reap), then copies
 * up to maxOut CQEs into out as (user_data, res, dw0) triples.
 * When desc has room past `count` descriptors, its last element receives the number of SQEs in the ring
 * the kernel has not taken yet (io_uring_enter returned EAGAIN/EBUSY, or took fewer): the caller must
 * not sleep on the ring's eventfd while that is > 0, since no completion will come for them; the next
 * pass retries them. */
napi_value nv_fn_uring_pass(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t count, maxOut;
  if (!nv_args(env, info, 5, argv, NULL)) return NULL;
  nv_ring *r = get_ring(env, argv[0]);
  if (!r || !nv_int32(env, argv[2], "count", &count) || !nv_int32(env, argv[4], "maxOut", &maxOut)) return NULL;
  napi_typedarray_type type;
  size_t dlen = 0, olen = 0;
  void *ddata = NULL, *odata = NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &dlen, &ddata, NULL, NULL) != napi_ok || type != napi_float64_array)
    return nv_throw_type(env, "desc must be a Float64Array");
  if (napi_get_typedarray_info(env, argv[3], &type, &olen, &odata, NULL, NULL) != napi_ok || type != napi_int32_array)
    return nv_throw_type(env, "out must be an Int32Array");
  if (count < 0 || (size_t)count * DESC_STRIDE > dlen) return nv_throw_range(env, "count is beyond desc");
  if (maxOut < 0 || (size_t)maxOut * 3 > olen) return nv_throw_range(env, "maxOut is beyond out");

  const double *d = ddata;
  unsigned tail = atomic_load_explicit(r->sq_tail, memory_order_relaxed);
  unsigned head = atomic_load_explicit(r->sq_head, memory_order_acquire);
  unsigned space = r->sq_entries - (tail - head);
  /* The caller keeps in-flight <= SQ entries, so this only happens when the kernel stopped taking
   * SQEs (an earlier enter failed): nothing is queued, the error is the caller's to report. */
  if ((unsigned)count > space) return nv_int(env, -EOVERFLOW);
  for (int32_t i = 0; i < count; i++) {
    /* A bad descriptor: none of this batch is published (the tail is only stored below). */
    int e = fill_sqe(r, r->sqes + (size_t)((tail + (unsigned)i) & r->sq_mask) * r->sqe_size, d + (size_t)i * DESC_STRIDE);
    if (e < 0) return nv_int(env, e);
  }
  tail += (unsigned)count;
  atomic_store_explicit(r->sq_tail, tail, memory_order_release);
  r->unsubmitted += (unsigned)count;

  bool iopoll = (r->setup_flags & IORING_SETUP_IOPOLL) != 0;
  bool sqpoll = (r->setup_flags & IORING_SETUP_SQPOLL) != 0;
  bool muted = false;
  if (sqpoll) {
    if (r->unsubmitted > 0) {
      r->unsubmitted = 0;
      atomic_thread_fence(memory_order_seq_cst);
      if (*(volatile unsigned *)r->sq_flags & IORING_SQ_NEED_WAKEUP) {
        if (sys_enter(r->fd, 0, 0, IORING_ENTER_SQ_WAKEUP, NULL, 0) < 0) return nv_int(env, -errno);
      }
    }
  } else {
    /* Enter to reap when the kernel flags, in the SQ ring's flags, completions that wait for us:
     * ones that found the CQ ring full (IORING_FEAT_NODROP keeps them until an enter with GETEVENTS),
     * or deferred completion work (IORING_SETUP_DEFER_TASKRUN runs it only in such an enter). */
    unsigned sqf = *(volatile unsigned *)r->sq_flags;
    bool waiting = maxOut > 0 && (sqf & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
    bool reap = (iopoll && maxOut > 0 && cq_ready(r) == 0) || waiting;
    if (r->unsubmitted > 0 || reap) {
      unsigned want = r->unsubmitted;
      /* With deferred task work, CQEs are posted only in this thread's enters, and each posting (and
       * each completion queued for it) signals the eventfd: a waiter would wake once more for the CQEs
       * this very pass copies out. The eventfd is muted for the enter (IORING_CQ_EVENTFD_DISABLED in the
       * CQ ring's flags); what arrived meanwhile unsignalled is signalled below. */
      muted = r->efd >= 0 && r->cq_flags != NULL && (r->setup_flags & IORING_SETUP_DEFER_TASKRUN);
      if (muted) __atomic_fetch_or(r->cq_flags, IORING_CQ_EVENTFD_DISABLED, __ATOMIC_SEQ_CST);
      int ret = sys_enter(r->fd, want, 0, reap ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
      if (muted) __atomic_fetch_and(r->cq_flags, ~(unsigned)IORING_CQ_EVENTFD_DISABLED, __ATOMIC_SEQ_CST);
      if (ret < 0) {
        int e = errno;
        if (e != EAGAIN && e != EBUSY && e != EINTR) return nv_int(env, -e);
      } else {
        r->unsubmitted -= (unsigned)ret > want ? want : (unsigned)ret;
      }
    }
  }
  if ((size_t)count * DESC_STRIDE < dlen) ((double *)ddata)[dlen - 1] = (double)r->unsubmitted;

  int32_t *o = odata;
  int32_t n = 0;
  unsigned ch = atomic_load_explicit(r->cq_head, memory_order_relaxed);
  unsigned ct = atomic_load_explicit(r->cq_tail, memory_order_acquire);
  while (ch != ct && n < maxOut) {
    const struct io_uring_cqe *cqe = (const struct io_uring_cqe *)(r->cqes + (size_t)(ch & r->cq_mask) * r->cqe_size);
    o[3 * n] = (int32_t)cqe->user_data;
    o[3 * n + 1] = cqe->res;
    o[3 * n + 2] = r->cqe_size == 32 ? (int32_t)cqe->big_cqe[0] : (int32_t)cqe->flags;
    n++;
    ch++;
  }
  atomic_store_explicit(r->cq_head, ch, memory_order_release);
  /* Muted above: completion work queued during the enter (the kernel flags it in the SQ ring), or CQEs
   * left in the ring, got no signal; give them one so a waiter on the eventfd does not sleep past them. */
  if (muted && ((*(volatile unsigned *)r->sq_flags & IORING_SQ_TASKRUN) || cq_ready(r) > 0)) {
    uint64_t one = 1;
    ssize_t wr = write(r->efd, &one, sizeof one);
    (void)wr;
  }
  return nv_int(env, n);
}

/* uringWait(ring, minComplete, timeoutMs) -> 0, or -errno (-ETIME on timeout). Blocks in
 * io_uring_enter(GETEVENTS) until minComplete CQEs are in the CQ ring (not reaped here). */
napi_value nv_fn_uring_wait(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t minc;
  double ms;
  if (!nv_args(env, info, 3, argv, NULL)) return NULL;
  nv_ring *r = get_ring(env, argv[0]);
  if (!r || !nv_int32(env, argv[1], "minComplete", &minc) || !nv_double(env, argv[2], "timeoutMs", &ms)) return NULL;
  if (minc <= 0 || cq_ready(r) >= (unsigned)minc) return nv_int(env, 0);
  struct __kernel_timespec ts = {.tv_sec = (long long)(ms / 1000), .tv_nsec = (long long)((ms - (long long)(ms / 1000) * 1000) * 1e6)};
  struct io_uring_getevents_arg arg;
  memset(&arg, 0, sizeof arg);
  arg.ts = (uint64_t)(uintptr_t)&ts;
  unsigned want = r->unsubmitted;
  int ret = sys_enter(r->fd, want, (unsigned)minc, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
  if (ret < 0) return nv_int(env, errno == EINTR ? 0 : -errno);
  r->unsubmitted -= (unsigned)ret > want ? want : (unsigned)ret;
  return nv_int(env, 0);
}

/* ------------------------------------------------------------------ memory and device queries */

static void free_aligned(napi_env env, void *data, void *hint) { free(data); }

/* allocAligned(size, align) -> ArrayBuffer whose memory starts at a multiple of align (O_DIRECT,
 * registered buffers). Zero-filled; freed with the ArrayBuffer. */
napi_value nv_fn_alloc_aligned(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  double size;
  uint32_t align;
  if (!nv_args(env, info, 2, argv, NULL) || !nv_double(env, argv[0], "size", &size) ||
      !nv_uint32(env, argv[1], "align", &align))
    return NULL;
  if (!(size >= 1 && size <= 1099511627776.0)) return nv_throw_range(env, "size must be from 1 byte to 1 TiB");
  if (align < sizeof(void *) || (align & (align - 1))) return nv_throw_range(env, "align must be a power of two >= 8");
  void *p = NULL;
  int e = posix_memalign(&p, align, (size_t)size);
  if (e) return nv_throw_errno(env, e, "posix_memalign", "allocAligned(%.0f)", size);
  memset(p, 0, (size_t)size);
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, (size_t)size, free_aligned, NULL, &ab) != napi_ok) {
    free(p);
    napi_throw_error(env, NULL, "allocAligned: external ArrayBuffers are not allowed in this runtime");
    return NULL;
  }
  return ab;
}

/* blockDeviceInfo(fd) -> [sizeBytes, logicalBlockSize] (BLKGETSIZE64, BLKSSZGET). */
napi_value nv_fn_block_device_info(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd)) return NULL;
  uint64_t size = 0;
  int lbs = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) < 0) return nv_throw_errno(env, errno, "ioctl", "BLKGETSIZE64");
  if (ioctl(fd, BLKSSZGET, &lbs) < 0) return nv_throw_errno(env, errno, "ioctl", "BLKSSZGET");
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, nv_num(env, (double)size));
  napi_set_element(env, arr, 1, nv_int(env, lbs));
  return arr;
}

/* nvmeAdminCmd(fd, opcode, nsid, cdw10, cdw11, buf|null, timeoutMs) -> status (>= 0, NVMe status
 * field as the kernel returns it) or -errno. NVME_IOCTL_ADMIN_CMD on /dev/nvmeX (or /dev/ngXnY). */
napi_value nv_fn_nvme_admin_cmd(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int32_t fd;
  uint32_t opc, nsid, cdw10, cdw11, tmo;
  if (!nv_args(env, info, 7, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_uint32(env, argv[1], "opcode", &opc) || !nv_uint32(env, argv[2], "nsid", &nsid) ||
      !nv_uint32(env, argv[3], "cdw10", &cdw10) || !nv_uint32(env, argv[4], "cdw11", &cdw11) ||
      !nv_uint32(env, argv[6], "timeoutMs", &tmo))
    return NULL;
  struct nvme_admin_cmd c;
  memset(&c, 0, sizeof c);
  c.opcode = (uint8_t)opc;
  c.nsid = nsid;
  c.cdw10 = cdw10;
  c.cdw11 = cdw11;
  c.timeout_ms = tmo;
  if (!nv_is_nullish(env, argv[5])) {
    napi_typedarray_type type;
    size_t len = 0;
    void *data = NULL;
    if (napi_get_typedarray_info(env, argv[5], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array)
      return nv_throw_type(env, "buf must be a Uint8Array or null");
    c.addr = (uint64_t)(uintptr_t)data;
    c.data_len = (uint32_t)len;
  }
  int ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c);
  if (ret < 0) return nv_int(env, -errno);
  return nv_int(env, ret);
}

/* nvmeNsid(fd) -> namespace ID of an NVMe namespace device (NVME_IOCTL_ID) or -errno. */
napi_value nv_fn_nvme_nsid(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd)) return NULL;
  int ret = ioctl(fd, NVME_IOCTL_ID);
  return nv_int(env, ret < 0 ? -errno : ret);
}
