/*
 * nvmf_native: thin Node-API layer (sockets, epoll, eventfd, CPU affinity, clocks, CRC32C, fd
 * watching on the libuv loop, io_uring and block/NVMe ioctls). No protocol logic. Safe for worker_threads: the only process-wide
 * data are immutable tables initialised once with pthread_once; per-env state lives in
 * napi_set_instance_data.
 *
 * Conventions: hot-path functions (send, sendv, recv, epollWait, monoNs, crc32c, copy) take typed arrays
 * + offsets + lengths, allocate nothing but the returned number, and report kernel errors as
 * negative errno numbers. Everything else throws Error{code: 'EXXX', errno: -EXXX, syscall}.
 */
#include "common.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

/* ------------------------------------------------------------------ argument helpers */

bool nv_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, size_t *argc) {
  size_t n = want;
  if (napi_get_cb_info(env, info, &n, argv, NULL, NULL) != napi_ok) {
    nv_throw_type(env, "invalid call");
    return false;
  }
  if (argc) *argc = n;
  return true;
}

static bool type_error_for(napi_env env, const char *name, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s must be %s", name, what);
  nv_throw_type(env, msg);
  return false;
}

bool nv_int32(napi_env env, napi_value v, const char *name, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) return type_error_for(env, name, "a number");
  return true;
}

bool nv_uint32(napi_env env, napi_value v, const char *name, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) return type_error_for(env, name, "a number");
  return true;
}

bool nv_double(napi_env env, napi_value v, const char *name, double *out) {
  if (napi_get_value_double(env, v, out) != napi_ok) return type_error_for(env, name, "a number");
  return true;
}

bool nv_string(napi_env env, napi_value v, const char *name, char *buf, size_t bufsize) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, bufsize, &len) != napi_ok)
    return type_error_for(env, name, "a string");
  if (len + 1 >= bufsize) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s is too long", name);
    nv_throw_range(env, msg);
    return false;
  }
  return true;
}

bool nv_is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return true;
  return t == napi_undefined || t == napi_null;
}

/* A non-negative integer that is exactly representable (<= 2^53-1). Errors name it `name`, followed by
 * `which` when that is not NULL ("buf offset"); the message is only formatted on error, as this runs
 * several times per I/O. */
bool nv_index(napi_env env, napi_value v, const char *name, const char *which, double *out) {
  double d;
  const bool is_number = napi_get_value_double(env, v, &d) == napi_ok;
  if (is_number && d >= 0 && d <= 9007199254740991.0 && d == floor(d)) {
    *out = d;
    return true;
  }
  char msg[200];
  snprintf(msg, sizeof msg, "%s%s%s must be %s", name, which ? " " : "", which ? which : "",
           is_number ? "a non-negative integer" : "a number");
  if (is_number) nv_throw_range(env, msg);
  else nv_throw_type(env, msg);
  return false;
}

bool nv_bytes(napi_env env, napi_value buf, napi_value offv, napi_value lenv, const char *name,
              uint8_t **ptr, size_t *n) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, buf, &type, &length, &data, NULL, NULL) != napi_ok ||
      !(type == napi_uint8_array || type == napi_int8_array || type == napi_uint8_clamped_array))
    return type_error_for(env, name, "a Uint8Array");
  double off, len;
  if (!nv_index(env, offv, name, "offset", &off)) return false;
  if (!nv_index(env, lenv, name, "length", &len)) return false;
  if (off + len > (double)length) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s: offset %.0f + length %.0f is beyond byteLength %zu", name, off, len,
             length);
    nv_throw_range(env, msg);
    return false;
  }
  *ptr = (uint8_t *)data + (size_t)off;
  *n = (size_t)len;
  return true;
}

bool nv_segments(napi_env env, napi_value bufs, napi_value desc, int32_t first, int32_t count,
                 const char *what, struct iovec *iov) {
  napi_typedarray_type type;
  size_t dlen = 0;
  void *ddata = NULL;
  if (napi_get_typedarray_info(env, desc, &type, &dlen, &ddata, NULL, NULL) != napi_ok ||
      type != napi_float64_array) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s: desc must be a Float64Array", what);
    nv_throw_type(env, msg);
    return false;
  }
  if (((size_t)first + (size_t)count) * 2 > dlen) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: segments %d..%d are beyond desc (%zu pairs)", what, first,
             first + count - 1, dlen / 2);
    nv_throw_range(env, msg);
    return false;
  }
  const double *d = (const double *)ddata;
  for (int32_t i = 0; i < count; i++) {
    uint32_t k = (uint32_t)(first + i);
    napi_value b;
    size_t blen = 0;
    void *bdata = NULL;
    if (napi_get_element(env, bufs, k, &b) != napi_ok ||
        napi_get_typedarray_info(env, b, &type, &blen, &bdata, NULL, NULL) != napi_ok ||
        !(type == napi_uint8_array || type == napi_int8_array || type == napi_uint8_clamped_array)) {
      char msg[120];
      snprintf(msg, sizeof msg, "%s: segment %u is not a Uint8Array", what, k);
      nv_throw_type(env, msg);
      return false;
    }
    double off = d[2 * k], len = d[2 * k + 1];
    if (!(off >= 0 && len >= 0) || off + len > (double)blen) {
      char msg[200];
      snprintf(msg, sizeof msg, "%s: segment %u (offset %.0f, length %.0f) is beyond byteLength %zu", what,
               k, off, len, blen);
      nv_throw_range(env, msg);
      return false;
    }
    iov[i].iov_base = (uint8_t *)bdata + (size_t)off;
    iov[i].iov_len = (size_t)len;
  }
  return true;
}

/* ------------------------------------------------------------------ memory */

/* copy(dst, dstOff, src, srcOff, len): memmove between byte arrays (overlap allowed), allocating
 * nothing, unlike dst.set(src.subarray(...)) which creates a view per call. Returns undefined. */
napi_value nv_fn_copy(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  uint8_t *d, *s;
  size_t dn, sn;
  if (!nv_args(env, info, 5, argv, NULL)) return NULL;
  if (!nv_bytes(env, argv[0], argv[1], argv[4], "dst", &d, &dn)) return NULL;
  if (!nv_bytes(env, argv[2], argv[3], argv[4], "src", &s, &sn)) return NULL;
  if (dn) memmove(d, s, dn);
  return nv_undefined(env);
}

/* ------------------------------------------------------------------ results */

napi_value nv_int(napi_env env, int64_t v) {
  napi_value r = NULL;
  if (v >= INT32_MIN && v <= INT32_MAX)
    napi_create_int32(env, (int32_t)v, &r);
  else
    napi_create_double(env, (double)v, &r);
  return r;
}

napi_value nv_num(napi_env env, double v) {
  napi_value r = NULL;
  napi_create_double(env, v, &r);
  return r;
}

napi_value nv_undefined(napi_env env) {
  napi_value r = NULL;
  napi_get_undefined(env, &r);
  return r;
}

/* ------------------------------------------------------------------ errors */

const char *nv_errno_name(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

static void throw_with_code(napi_env env, const char *code, const char *msg, bool range) {
  napi_value c = NULL, m = NULL, e = NULL;
  if (code) napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  if (range)
    napi_create_range_error(env, c, m, &e);
  else
    napi_create_type_error(env, c, m, &e);
  napi_throw(env, e);
}

napi_value nv_throw_type(napi_env env, const char *msg) {
  throw_with_code(env, "ERR_INVALID_ARG_TYPE", msg, false);
  return NULL;
}

napi_value nv_throw_range(napi_env env, const char *msg) {
  throw_with_code(env, "ERR_OUT_OF_RANGE", msg, true);
  return NULL;
}

napi_value nv_throw_errno(napi_env env, int err, const char *syscall, const char *fmt, ...) {
  char prefix[256], ebuf[128], msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  const char *desc = strerror_r(err, ebuf, sizeof ebuf); /* GNU variant */
  snprintf(msg, sizeof msg, "%s: %s", prefix, desc);

  napi_value code = NULL, m = NULL, e = NULL, num = NULL, sc = NULL;
  napi_create_string_utf8(env, nv_errno_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, code, m, &e);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, e, "errno", num);
  if (syscall) {
    napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
    napi_set_named_property(env, e, "syscall", sc);
  }
  napi_throw(env, e);
  return NULL;
}

/* ------------------------------------------------------------------ module init */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void global_init(void) {
  nv_crc32c_init();
  nv_sys_init();
}

static void env_state_finalize(napi_env env, void *data, void *hint) {
  nvmf_env_state *st = data;
  if (!st) return;
  if (st->watch_ctor) napi_delete_reference(env, st->watch_ctor);
  free(st);
}

#define METHOD(jsname, fn) \
  { jsname, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }

static napi_value Init(napi_env env, napi_value exports) {
  pthread_once(&g_once, global_init);

  nvmf_env_state *st = calloc(1, sizeof *st);
  if (!st) {
    napi_throw_error(env, "ENOMEM", "nvmf_native: out of memory");
    return NULL;
  }
  if (napi_set_instance_data(env, st, env_state_finalize, NULL) != napi_ok) {
    free(st);
    napi_throw_error(env, NULL, "nvmf_native: napi_set_instance_data failed");
    return NULL;
  }
  if (!nv_watch_init(env, st)) return NULL;

  napi_value impl;
  napi_create_string_utf8(env, nv_crc32c_impl(), NAPI_AUTO_LENGTH, &impl);

  napi_property_descriptor props[] = {
      METHOD("tcpConnect", nv_fn_tcp_connect),
      METHOD("tcpListen", nv_fn_tcp_listen),
      METHOD("localPort", nv_fn_local_port),
      METHOD("peerAddress", nv_fn_peer_address),
      METHOD("accept", nv_fn_accept),
      METHOD("send", nv_fn_send),
      METHOD("sendv", nv_fn_sendv),
      METHOD("recv2", nv_fn_recv2),
      METHOD("recv", nv_fn_recv),
      METHOD("close", nv_fn_close),
      METHOD("shutdown", nv_fn_shutdown),
      METHOD("setSocketBuffers", nv_fn_set_socket_buffers),
      METHOD("notSentLowat", nv_fn_not_sent_lowat),
      METHOD("epollCreate", nv_fn_epoll_create),
      METHOD("epollCtl", nv_fn_epoll_ctl),
      METHOD("epollWait", nv_fn_epoll_wait),
      METHOD("eventfdCreate", nv_fn_eventfd_create),
      METHOD("eventfdWrite", nv_fn_eventfd_write),
      METHOD("eventfdRead", nv_fn_eventfd_read),
      METHOD("pollFd", nv_fn_poll_fd),
      METHOD("pinThread", nv_fn_pin_thread),
      METHOD("allowedCpus", nv_fn_allowed_cpus),
      METHOD("currentCpu", nv_fn_current_cpu),
      METHOD("timerSlackNs", nv_fn_timer_slack_ns),
      METHOD("gettid", nv_fn_gettid),
      METHOD("exitNow", nv_fn_exit_now),
      METHOD("monoNs", nv_fn_mono_ns),
      METHOD("monoClockCell", nv_fn_mono_clock_cell),
      METHOD("monoClock", nv_fn_mono_clock),
      METHOD("pread", nv_fn_pread),
      METHOD("pwrite", nv_fn_pwrite),
      METHOD("threadCpuNs", nv_fn_thread_cpu_ns),
      METHOD("processCpuNs", nv_fn_process_cpu_ns),
      METHOD("threadCpuNsOf", nv_fn_thread_cpu_ns_of),
      METHOD("crc32c", nv_fn_crc32c),
      METHOD("crc32cv", nv_fn_crc32cv),
      METHOD("copy", nv_fn_copy),
      METHOD("adviseHugePages", nv_fn_advise_huge_pages),
      METHOD("watchFd", nv_fn_watch_fd),
      METHOD("uringSetup", nv_fn_uring_setup),
      METHOD("uringInfo", nv_fn_uring_info),
      METHOD("uringClose", nv_fn_uring_close),
      METHOD("uringRegisterFiles", nv_fn_uring_register_files),
      METHOD("uringSetBuffers", nv_fn_uring_set_buffers),
      METHOD("uringRegisterEventfd", nv_fn_uring_register_eventfd),
      METHOD("uringPass", nv_fn_uring_pass),
      METHOD("uringWait", nv_fn_uring_wait),
      METHOD("allocAligned", nv_fn_alloc_aligned),
      METHOD("blockDeviceInfo", nv_fn_block_device_info),
      METHOD("nvmeAdminCmd", nv_fn_nvme_admin_cmd),
      METHOD("nvmeNsid", nv_fn_nvme_nsid),
      {"crc32cImpl", NULL, NULL, NULL, NULL, impl, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) {
    napi_throw_error(env, NULL, "nvmf_native: napi_define_properties failed");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
