{
  "targets": [
    {
      "target_name": "nvmf_native",
      "sources": ["src/addon.c", "src/crc32c.c", "src/net.c", "src/sys.c", "src/watch.c", "src/uring.c", "src/file.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-msse4.2", "-mpclmul"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
