/* Threads, CPU affinity and clocks. monoNs is hot-path. */
#include "common.h"

#include <sys/mman.h>
#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 65536

/* Immutable after nv_sys_init (run once per process, before any env uses them). */
static long g_clk_tck = 100;
static int *g_allowed = NULL; /* CPUs allowed to the process when the addon was first loaded */
static int g_allowed_n = 0;
static int g_allowed_err = 0;

void nv_sys_init(void) {
  long t = sysconf(_SC_CLK_TCK);
  if (t > 0) g_clk_tck = t;

  /* The main thread's mask (tid == pid), so a thread that pinned itself does not shrink it. */
  for (int ncpu = 1024; ncpu <= MAX_CPUS; ncpu *= 2) {
    cpu_set_t *set = CPU_ALLOC(ncpu);
    size_t size = CPU_ALLOC_SIZE(ncpu);
    if (!set) {
      g_allowed_err = ENOMEM;
      return;
    }
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(getpid(), size, set) < 0) {
      int e = errno;
      CPU_FREE(set);
      if (e == EINVAL) continue; /* mask too small for this kernel */
      g_allowed_err = e;
      return;
    }
    int n = CPU_COUNT_S(size, set);
    g_allowed = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!g_allowed) {
      CPU_FREE(set);
      g_allowed_err = ENOMEM;
      return;
    }
    for (int c = 0; c < ncpu && g_allowed_n < n; c++)
      if (CPU_ISSET_S(c, size, set)) g_allowed[g_allowed_n++] = c;
    CPU_FREE(set);
    return;
  }
  g_allowed_err = EINVAL;
}

napi_value nv_fn_allowed_cpus(napi_env env, napi_callback_info info) {
  if (g_allowed_err) return nv_throw_errno(env, g_allowed_err, "sched_getaffinity", "allowedCpus");
  napi_value arr;
  napi_create_array_with_length(env, (size_t)g_allowed_n, &arr);
  for (int i = 0; i < g_allowed_n; i++) napi_set_element(env, arr, (uint32_t)i, nv_int(env, g_allowed[i]));
  return arr;
}

/* pinThread(cpu): pin the calling thread */
napi_value nv_fn_pin_thread(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t cpu;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "cpu", &cpu)) return NULL;
  if (cpu < 0 || cpu >= MAX_CPUS)
    return nv_throw_errno(env, EINVAL, "pthread_setaffinity_np", "cannot pin to CPU %d", cpu);
  cpu_set_t *set = CPU_ALLOC(cpu + 1);
  if (!set) return nv_throw_errno(env, ENOMEM, NULL, "cannot pin to CPU %d", cpu);
  size_t size = CPU_ALLOC_SIZE(cpu + 1);
  CPU_ZERO_S(size, set);
  CPU_SET_S(cpu, size, set);
  int err = pthread_setaffinity_np(pthread_self(), size, set);
  CPU_FREE(set);
  if (err) return nv_throw_errno(env, err, "pthread_setaffinity_np", "cannot pin to CPU %d", cpu);
  return nv_undefined(env);
}

/* timerSlackNs(ns): the calling thread's timer slack (prctl PR_SET_TIMERSLACK), how late the kernel may
   end its timed sleeps so that wake-ups can be merged: 50 µs by default, more than a short interrupt-mode
   sleep itself. ns >= 1 sets it; 0 only reads it. Returns the slack in force before the call. */
napi_value nv_fn_timer_slack_ns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t ns;
  if (!nv_args(env, info, 1, argv, NULL)) return NULL;
  if (napi_get_value_int64(env, argv[0], &ns) != napi_ok || ns < 0)
    return nv_throw_type(env, "ns must be a non-negative integer");
  int old = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (old < 0) return nv_throw_errno(env, errno, "prctl", "PR_GET_TIMERSLACK");
  if (ns > 0 && prctl(PR_SET_TIMERSLACK, (unsigned long)ns, 0, 0, 0) != 0)
    return nv_throw_errno(env, errno, "prctl", "PR_SET_TIMERSLACK %lld", (long long)ns);
  napi_value r;
  napi_create_int64(env, old, &r);
  return r;
}

napi_value nv_fn_current_cpu(napi_env env, napi_callback_info info) {
  int c = sched_getcpu();
  if (c < 0) return nv_throw_errno(env, errno, "sched_getcpu", "currentCpu");
  return nv_int(env, c);
}

napi_value nv_fn_gettid(napi_env env, napi_callback_info info) { return nv_int(env, gettid()); }

/* exitNow(code): _exit(2) at once. process.exit() joins every worker thread first, and a thread
   blocked in a system call never joins; a stop that has given up on such a thread ends here. */
napi_value nv_fn_exit_now(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t code;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "code", &code)) return NULL;
  _exit(code & 0xff);
}

/* adviseHugePages(view): madvise(MADV_HUGEPAGE) over the whole pages of a typed array's memory, so a
   large buffer (a RAM namespace) is backed by transparent huge pages where the kernel allows it
   (THP "madvise" mode): fewer TLB misses on random access. Call before touching the memory.
   Returns 0 or -errno (EINVAL: THP not available); advisory, never throws on a kernel refusal. */
napi_value nv_fn_advise_huge_pages(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!nv_args(env, info, 1, argv, NULL)) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array)
    return nv_throw_type(env, "view must be a Uint8Array");
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)data + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
  uintptr_t end = ((uintptr_t)data + length) & ~((uintptr_t)page - 1);
  if (end <= start) return nv_int(env, 0);
  if (madvise((void *)start, end - start, MADV_HUGEPAGE) != 0) return nv_int(env, -errno);
  return nv_int(env, 0);
}

static double clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

napi_value nv_fn_mono_ns(napi_env env, napi_callback_info info) {
  return nv_num(env, clock_ns(CLOCK_MONOTONIC));
}

/*
 * The calling thread's clock cell: 8 bytes of thread-local storage. monoClockCell() returns a
 * Float64Array over it (every call on one thread gives a view of the same cell, so all code on the
 * thread shares it), and monoClock() writes CLOCK_MONOTONIC in ns into it. monoClock() has no argument
 * to look up (an N-API typed-array lookup per call costs as much as the clock read itself, on a loop
 * that reads the clock every pass), and nothing is allocated (a double above 2^31 returned from a
 * native call is a heap number in V8). The cell lives as long as the thread, and so as long as its isolate.
 */
static _Thread_local double clock_cell[1];

static void no_finalize(napi_env env, void *data, void *hint) { (void)env; (void)data; (void)hint; }

napi_value nv_fn_mono_clock_cell(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value ab, arr;
  if (napi_create_external_arraybuffer(env, clock_cell, sizeof clock_cell, no_finalize, NULL, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, 1, ab, 0, &arr) != napi_ok)
    return nv_throw_type(env, "monoClockCell: cannot create a view of the clock cell");
  clock_cell[0] = clock_ns(CLOCK_MONOTONIC);
  return arr;
}

napi_value nv_fn_mono_clock(napi_env env, napi_callback_info info) {
  (void)env; (void)info;
  clock_cell[0] = clock_ns(CLOCK_MONOTONIC);
  return NULL;
}

napi_value nv_fn_thread_cpu_ns(napi_env env, napi_callback_info info) {
  return nv_num(env, clock_ns(CLOCK_THREAD_CPUTIME_ID));
}

napi_value nv_fn_process_cpu_ns(napi_env env, napi_callback_info info) {
  return nv_num(env, clock_ns(CLOCK_PROCESS_CPUTIME_ID));
}

/* threadCpuNsOf(tid): utime+stime of a thread of this process from /proc, in ns; -1 if gone */
napi_value nv_fn_thread_cpu_ns_of(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t tid;
  if (!nv_args(env, info, 1, argv, NULL) || !nv_int32(env, argv[0], "tid", &tid)) return NULL;
  if (tid <= 0) return nv_int(env, -1);
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nv_int(env, -1);
  ssize_t n;
  do n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return nv_int(env, -1);
  buf[n] = 0;
  /* comm (field 2) may contain spaces and parentheses: parse after the last ')'. */
  char *rp = strrchr(buf, ')');
  if (!rp) return nv_int(env, -1);
  unsigned long long utime = 0, stime = 0;
  /* fields 3..15: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
  if (sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return nv_int(env, -1);
  return nv_num(env, (double)(utime + stime) * (1e9 / (double)g_clk_tck));
}
