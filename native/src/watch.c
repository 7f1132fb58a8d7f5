/*
 * watchFd(fd, events, cb): a uv_poll_t on the calling thread's libuv loop (main or worker).
 *
 * Lifetime: the C struct is freed when both (a) the uv handle has been closed (user close() or env
 * teardown via an async cleanup hook) and (b) the JS handle object has been finalized. While open,
 * the callback and the JS handle object are held by strong references.
 */
#include "common.h"

#include <stdlib.h>
#include <uv.h>

typedef struct watch {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;   /* strong while open */
  napi_ref self; /* strong while open: the JS handle object (also `this` of cb) */
  napi_async_context actx;
  napi_async_cleanup_hook_handle hook;
  bool closing;   /* uv_close requested */
  bool uv_closed; /* close callback ran */
  bool js_gone;   /* JS handle object finalized */
} watch;

static void on_closed(uv_handle_t *h) {
  watch *w = h->data;
  napi_env env = w->env;
  napi_handle_scope scope = NULL;
  napi_open_handle_scope(env, &scope);
  if (w->cb) napi_delete_reference(env, w->cb);
  if (w->self) napi_delete_reference(env, w->self);
  if (w->actx) napi_async_destroy(env, w->actx);
  if (scope) napi_close_handle_scope(env, scope);
  w->cb = w->self = NULL;
  w->actx = NULL;
  w->uv_closed = true;
  /* Unregisters the hook, or tells Node that the teardown we were asked for is complete. */
  if (w->hook) napi_remove_async_cleanup_hook(w->hook);
  w->hook = NULL;
  if (w->js_gone) free(w);
}

static void start_close(watch *w) {
  if (w->closing) return;
  w->closing = true;
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  start_close(arg); /* completion is signalled from on_closed */
}

static void on_finalize(napi_env env, void *data, void *hint) {
  watch *w = data;
  w->js_gone = true;
  if (w->uv_closed) free(w);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  watch *w = h->data;
  if (w->closing) return;
  int rev = 0;
  if (status < 0) {
    rev = 8; /* libuv stops the handle after reporting an error (POLLERR) */
  } else {
    if (events & UV_READABLE) rev |= 1;
    if (events & UV_WRITABLE) rev |= 4;
    if (events & UV_DISCONNECT) rev |= 8;
  }
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, self, arg, result;
  if (napi_get_reference_value(env, w->cb, &cb) == napi_ok &&
      napi_get_reference_value(env, w->self, &self) == napi_ok &&
      napi_create_int32(env, rev, &arg) == napi_ok) {
    /* make_callback: runs process.nextTick / microtasks after cb, like any libuv callback. */
    napi_make_callback(env, w->actx, self, cb, 1, &arg, &result);
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static watch *this_watch(napi_env env, napi_callback_info info) {
  napi_value self;
  void *data = NULL;
  size_t argc = 0;
  if (napi_get_cb_info(env, info, &argc, NULL, &self, NULL) != napi_ok ||
      napi_unwrap(env, self, &data) != napi_ok || !data) {
    nv_throw_type(env, "not a watchFd handle");
    return NULL;
  }
  return data;
}

static napi_value m_close(napi_env env, napi_callback_info info) {
  watch *w = this_watch(env, info);
  if (!w) return NULL;
  start_close(w);
  return nv_undefined(env);
}

static napi_value m_ref(napi_env env, napi_callback_info info) {
  watch *w = this_watch(env, info);
  if (!w) return NULL;
  if (!w->closing) uv_ref((uv_handle_t *)&w->poll);
  return nv_undefined(env);
}

static napi_value m_unref(napi_env env, napi_callback_info info) {
  watch *w = this_watch(env, info);
  if (!w) return NULL;
  if (!w->closing) uv_unref((uv_handle_t *)&w->poll);
  return nv_undefined(env);
}

static napi_value m_ctor(napi_env env, napi_callback_info info) {
  napi_value self;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, NULL, &self, NULL);
  return self;
}

bool nv_watch_init(napi_env env, nvmf_env_state *st) {
  napi_property_descriptor props[] = {
      {"close", NULL, m_close, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, m_ref, NULL, NULL, NULL, napi_default, NULL},
      {"unref", NULL, m_unref, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value ctor;
  if (napi_define_class(env, "WatchHandle", NAPI_AUTO_LENGTH, m_ctor, NULL, 3, props, &ctor) !=
          napi_ok ||
      napi_create_reference(env, ctor, 1, &st->watch_ctor) != napi_ok) {
    napi_throw_error(env, NULL, "nvmf_native: cannot create WatchHandle class");
    return false;
  }
  return true;
}

/* watchFd(fd, events, cb) -> WatchHandle */
napi_value nv_fn_watch_fd(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, events;
  if (!nv_args(env, info, 3, argv, NULL) || !nv_int32(env, argv[0], "fd", &fd) ||
      !nv_int32(env, argv[1], "events", &events))
    return NULL;
  napi_valuetype t;
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function)
    return nv_throw_type(env, "cb must be a function");
  int uvev = 0;
  if (events & 1) uvev |= UV_READABLE;
  if (events & 4) uvev |= UV_WRITABLE;
  if (uvev == 0 || (events & ~5)) return nv_throw_range(env, "events must be 1 (readable), 4 (writable) or 5");

  nvmf_env_state *st = NULL;
  uv_loop_t *loop = NULL;
  napi_value ctor, obj, name;
  if (napi_get_instance_data(env, (void **)&st) != napi_ok || !st ||
      napi_get_reference_value(env, st->watch_ctor, &ctor) != napi_ok ||
      napi_get_uv_event_loop(env, &loop) != napi_ok || !loop)
    return nv_throw_errno(env, EINVAL, NULL, "watchFd fd %d: no event loop", fd);
  if (napi_new_instance(env, ctor, 0, NULL, &obj) != napi_ok) return NULL;

  watch *w = calloc(1, sizeof *w);
  if (!w) return nv_throw_errno(env, ENOMEM, NULL, "watchFd fd %d", fd);
  w->env = env;
  int err = uv_poll_init(loop, &w->poll, fd);
  if (err < 0) {
    free(w); /* not registered with the loop */
    return nv_throw_errno(env, -err, "uv_poll_init", "watchFd fd %d", fd);
  }
  w->poll.data = w;
  /* From here on, w is released through uv_close + finalizer. */
  if (napi_wrap(env, obj, w, on_finalize, NULL, NULL) != napi_ok) {
    w->js_gone = true;
    start_close(w);
    napi_throw_error(env, NULL, "watchFd: napi_wrap failed");
    return NULL;
  }
  napi_create_string_utf8(env, "nvmf_native.watchFd", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[2], 1, &w->cb) != napi_ok ||
      napi_create_reference(env, obj, 1, &w->self) != napi_ok ||
      napi_async_init(env, obj, name, &w->actx) != napi_ok ||
      napi_add_async_cleanup_hook(env, on_env_teardown, w, &w->hook) != napi_ok) {
    start_close(w);
    napi_throw_error(env, NULL, "watchFd: setup failed");
    return NULL;
  }
  err = uv_poll_start(&w->poll, uvev, on_poll);
  if (err < 0) {
    start_close(w);
    return nv_throw_errno(env, -err, "uv_poll_start", "watchFd fd %d", fd);
  }
  return obj;
}
