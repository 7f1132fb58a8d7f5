/* Shared helpers of the nvmf_native addon (Node-API, C). No protocol logic lives here. */
#ifndef NVMF_NATIVE_COMMON_H
#define NVMF_NATIVE_COMMON_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-env (main thread or worker_thread) state, stored with napi_set_instance_data. */
typedef struct nvmf_env_state {
  napi_ref watch_ctor; /* constructor of the object returned by watchFd() */
} nvmf_env_state;

/* ---- argument helpers (addon.c). Each returns false after throwing a JS exception. ---- */
bool nv_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, size_t *argc);
bool nv_int32(napi_env env, napi_value v, const char *name, int32_t *out);
bool nv_uint32(napi_env env, napi_value v, const char *name, uint32_t *out);
bool nv_double(napi_env env, napi_value v, const char *name, double *out);
/* A non-negative integer a double holds exactly (<= 2^53-1); TypeError/RangeError naming "name which". */
bool nv_index(napi_env env, napi_value v, const char *name, const char *which, double *out);
bool nv_string(napi_env env, napi_value v, const char *name, char *buf, size_t bufsize);
/* buf[off, off+len) of a 1-byte-element typed array; RangeError when out of bounds. */
bool nv_bytes(napi_env env, napi_value buf, napi_value off, napi_value len, const char *name,
              uint8_t **ptr, size_t *n);
bool nv_is_nullish(napi_env env, napi_value v);
/* Segments first..first+count-1 of (bufs: array of byte arrays, desc: Float64Array of (offset, length)
 * pairs) as iovecs, bounds-checked; RangeError/TypeError naming `what` on a bad segment. */
#define NV_IOV_MAX 1024
struct iovec;
bool nv_segments(napi_env env, napi_value bufs, napi_value desc, int32_t first, int32_t count,
                 const char *what, struct iovec *iov);

/* ---- results ---- */
napi_value nv_int(napi_env env, int64_t v);
napi_value nv_num(napi_env env, double v);
napi_value nv_undefined(napi_env env);

/* ---- errors ---- */
const char *nv_errno_name(int err);
/* Throws Error{code: errno name, errno: -err, syscall}, message "<prefix>: <strerror>". Returns NULL. */
napi_value nv_throw_errno(napi_env env, int err, const char *syscall, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
napi_value nv_throw_type(napi_env env, const char *msg);
napi_value nv_throw_range(napi_env env, const char *msg);

/* ---- module parts ---- */
void nv_crc32c_init(void);
uint32_t nv_crc32c_update(uint32_t crc, const uint8_t *p, size_t len); /* raw state (pre/post inverted by caller) */
/* The CRC32C implementation in use: "vpclmul", "sse4.2" or "table". */
const char *nv_crc32c_impl(void);

napi_value nv_fn_crc32c(napi_env env, napi_callback_info info);
napi_value nv_fn_crc32cv(napi_env env, napi_callback_info info);
napi_value nv_fn_copy(napi_env env, napi_callback_info info);
napi_value nv_fn_advise_huge_pages(napi_env env, napi_callback_info info);

napi_value nv_fn_tcp_connect(napi_env env, napi_callback_info info);
napi_value nv_fn_tcp_listen(napi_env env, napi_callback_info info);
napi_value nv_fn_local_port(napi_env env, napi_callback_info info);
napi_value nv_fn_peer_address(napi_env env, napi_callback_info info);
napi_value nv_fn_accept(napi_env env, napi_callback_info info);
napi_value nv_fn_send(napi_env env, napi_callback_info info);
napi_value nv_fn_sendv(napi_env env, napi_callback_info info);
napi_value nv_fn_recv(napi_env env, napi_callback_info info);
napi_value nv_fn_recv2(napi_env env, napi_callback_info info);
napi_value nv_fn_close(napi_env env, napi_callback_info info);
napi_value nv_fn_shutdown(napi_env env, napi_callback_info info);
napi_value nv_fn_set_socket_buffers(napi_env env, napi_callback_info info);
napi_value nv_fn_not_sent_lowat(napi_env env, napi_callback_info info);
napi_value nv_fn_epoll_create(napi_env env, napi_callback_info info);
napi_value nv_fn_epoll_ctl(napi_env env, napi_callback_info info);
napi_value nv_fn_epoll_wait(napi_env env, napi_callback_info info);
napi_value nv_fn_eventfd_create(napi_env env, napi_callback_info info);
napi_value nv_fn_eventfd_write(napi_env env, napi_callback_info info);
napi_value nv_fn_eventfd_read(napi_env env, napi_callback_info info);
napi_value nv_fn_poll_fd(napi_env env, napi_callback_info info);

void nv_sys_init(void);
napi_value nv_fn_pin_thread(napi_env env, napi_callback_info info);
napi_value nv_fn_allowed_cpus(napi_env env, napi_callback_info info);
napi_value nv_fn_current_cpu(napi_env env, napi_callback_info info);
napi_value nv_fn_timer_slack_ns(napi_env env, napi_callback_info info);
napi_value nv_fn_gettid(napi_env env, napi_callback_info info);
napi_value nv_fn_exit_now(napi_env env, napi_callback_info info);
napi_value nv_fn_mono_ns(napi_env env, napi_callback_info info);
napi_value nv_fn_mono_clock_cell(napi_env env, napi_callback_info info);
napi_value nv_fn_mono_clock(napi_env env, napi_callback_info info);
napi_value nv_fn_pread(napi_env env, napi_callback_info info);
napi_value nv_fn_pwrite(napi_env env, napi_callback_info info);
napi_value nv_fn_thread_cpu_ns(napi_env env, napi_callback_info info);
napi_value nv_fn_process_cpu_ns(napi_env env, napi_callback_info info);
napi_value nv_fn_thread_cpu_ns_of(napi_env env, napi_callback_info info);

napi_value nv_fn_uring_setup(napi_env env, napi_callback_info info);
napi_value nv_fn_uring_info(napi_env env, napi_callback_info info);
napi_value nv_fn_uring_close(napi_env env, napi_callback_info info);
napi_value nv_fn_uring_register_files(napi_env env, napi_callback_info info);
napi_value nv_fn_uring_set_buffers(napi_env env, napi_callback_info info);
napi_value nv_fn_uring_register_eventfd(napi_env env, napi_callback_info info);
napi_value nv_fn_uring_pass(napi_env env, napi_callback_info info);
napi_value nv_fn_uring_wait(napi_env env, napi_callback_info info);
napi_value nv_fn_alloc_aligned(napi_env env, napi_callback_info info);
napi_value nv_fn_block_device_info(napi_env env, napi_callback_info info);
napi_value nv_fn_nvme_admin_cmd(napi_env env, napi_callback_info info);
napi_value nv_fn_nvme_nsid(napi_env env, napi_callback_info info);

bool nv_watch_init(napi_env env, nvmf_env_state *st);
napi_value nv_fn_watch_fd(napi_env env, napi_callback_info info);

#endif
