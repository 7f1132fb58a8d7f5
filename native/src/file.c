/* Positioned file I/O for the target's synchronous file path (--file-io sync): one pread(2) or
 * pwrite(2) per call, returning bytes or -errno (hot path: I/O errors are results, not exceptions),
 * allocating nothing; fs.readSync/writeSync build a context object on every call. */
#include <errno.h>
#include <unistd.h>

#include "common.h"

/* A file offset: a non-negative integer that a double holds exactly. */
static bool file_pos(napi_env env, napi_value v, off_t *out) {
  double d;
  if (!nv_index(env, v, "pos", NULL, &d)) return false;
  *out = (off_t)d;
  return true;
}

/* (fd, buf, off, len, pos) -> one pread(2) or pwrite(2) of buf[off, off+len) at file offset pos:
 * bytes (0 from a read = end of file) or -errno. */
static napi_value positioned_io(napi_env env, napi_callback_info info, bool write) {
  napi_value argv[5];
  int32_t fd;
  uint8_t *p;
  size_t n;
  off_t pos;
  if (!nv_args(env, info, 5, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_bytes(env, argv[1], argv[2], argv[3], "buf", &p, &n) || !file_pos(env, argv[4], &pos))
    return NULL;
  ssize_t r;
  do r = write ? pwrite(fd, p, n, pos) : pread(fd, p, n, pos);
  while (r < 0 && errno == EINTR);
  return nv_int(env, r < 0 ? -errno : r);
}

napi_value nv_fn_pread(napi_env env, napi_callback_info info) { return positioned_io(env, info, false); }

napi_value nv_fn_pwrite(napi_env env, napi_callback_info info) { return positioned_io(env, info, true); }
