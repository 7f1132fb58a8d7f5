/*
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78). Where the CPU has VPCLMULQDQ, buffers of 512
 * bytes and more are folded with carry-less multiplies (eight 16-byte lanes in 256-bit registers), and
 * whole chunks of 10,752 bytes run that folding and three crc32 streams side by side (hybrid_chunk); the
 * rest uses the SSE4.2 crc32 instruction, 8 bytes per step, with three interleaved
 * streams for buffers >= 768 bytes, combined with "shift by N zero bytes" tables (4 lookups per shift).
 * A slicing-by-8 table implementation is used when the CPU lacks SSE4.2. All tables and constants are
 * built once (pthread_once in addon.c) and are read-only afterwards, so they are safe to share between
 * worker threads. NVMF_NATIVE_CRC32C=vpclmul|sse42|table in the environment (read once at first load)
 * caps the implementation at that one (vpclmul: folding without the hybrid chunks).
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define NV_HAVE_X86 1
#else
#define NV_HAVE_X86 0
#endif

#define POLY 0x82F63B78u
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256
/* Hybrid chunks (hybrid_chunk): HYB_STEPS steps of 128 bytes folded with carry-less multiplies, and in
 * the same loop three crc32 streams of HYB_PER bytes a step: 10,752 bytes a chunk. (32 and 48 bytes a step
 * measured alike; 16 gained nothing.) */
#define HYB_PER 32
#define HYB_STEPS 48
#define HYB_STREAM (HYB_PER * HYB_STEPS)
#define HYB_CHUNK ((128 + 3 * HYB_PER) * HYB_STEPS)

static uint32_t tab8[8][256];         /* slicing-by-8 */
static uint32_t shift_long[4][256];   /* multiply by x^(8*LONG_BLOCK) mod P */
static uint32_t shift_short[4][256];  /* multiply by x^(8*SHORT_BLOCK) mod P */
static uint32_t shift_hyb[4][256];    /* multiply by x^(8*HYB_STREAM) mod P (see hybrid_chunk) */
static bool use_hw;
static bool use_vclmul;               /* carry-less multiply folding for long buffers (VPCLMULQDQ, 256-bit) */
static bool use_hybrid;               /* hybrid chunks: use_vclmul unless NVMF_NATIVE_CRC32C=vpclmul */
/* Folding constants for the VPCLMULQDQ path, {for the low, for the high 64 bits} of a 128-bit lane
 * (see fold_constants()): advance a lane by 1024 bits (8 lanes, 128 bytes a step) and by 128 bits. */
static uint64_t k1024[2], k128[2];

/* a*b mod P, both in the reflected representation (x^0 is bit 31). */
static uint32_t multmodp(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
  }
  return p;
}

/* x^n mod P in the reflected representation (x^0 is bit 31). */
static uint32_t xnmodp(size_t n) {
  uint32_t p = 1u << 31;
  for (size_t i = 0; i < n; i++) p = (p & 1) ? (p >> 1) ^ POLY : p >> 1;
  return p;
}

static void build_shift(uint32_t table[4][256], size_t nbytes) {
  uint32_t xn = xnmodp(8 * nbytes);
  for (int k = 0; k < 4; k++)
    for (uint32_t b = 0; b < 256; b++) table[k][b] = multmodp(xn, b << (8 * k));
}

/*
 * A 128-bit lane loaded little-endian from the message holds, bit-reversed, the polynomial
 * S = rev64(lo) * x^64 + rev64(hi). Moving it `bits` further along the message multiplies it by x^bits,
 * which modulo P is rev64(lo) * (x^(64+bits) mod P) + rev64(hi) * (x^bits mod P). A carry-less product
 * of two bit-reversed 64-bit operands is the bit-reversed product times x, so the constants are
 * x^(63+bits) and x^(bits-1) mod P, bit-reversed into 64 bits (the 32-bit reflected value, shifted up).
 */
static void fold_constants(uint64_t k[2], size_t bits) {
  k[0] = (uint64_t)xnmodp(63 + bits) << 32;
  k[1] = (uint64_t)xnmodp(bits - 1) << 32;
}

static inline uint32_t shift_crc(const uint32_t table[4][256], uint32_t crc) {
  return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^
         table[3][crc >> 24];
}

void nv_crc32c_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
    tab8[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++)
    for (int k = 1; k < 8; k++) tab8[k][n] = (tab8[k - 1][n] >> 8) ^ tab8[0][tab8[k - 1][n] & 0xff];
  build_shift(shift_long, LONG_BLOCK);
  build_shift(shift_short, SHORT_BLOCK);
  build_shift(shift_hyb, HYB_STREAM);
  fold_constants(k1024, 1024);
  fold_constants(k128, 128);
#if NV_HAVE_X86
  __builtin_cpu_init();
  use_hw = __builtin_cpu_supports("sse4.2");
  use_vclmul = use_hw && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("vpclmulqdq");
#endif
  /* Lets tests and benchmarks exercise the other paths: table (portable), sse42 (crc32 instruction only),
   * vpclmul (folding without hybrid chunks). */
  const char *force = getenv("NVMF_NATIVE_CRC32C");
  if (force && strcmp(force, "table") == 0) use_hw = use_vclmul = false;
  if (force && strcmp(force, "sse42") == 0) use_vclmul = false;
  use_hybrid = use_vclmul && !(force && strcmp(force, "vpclmul") == 0);
}

const char *nv_crc32c_impl(void) {
  return use_hybrid ? "hybrid" : use_vclmul ? "vpclmul" : use_hw ? "sse4.2" : "table";
}

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static uint32_t sw_update(uint32_t crc, const uint8_t *p, size_t len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  while (len && ((uintptr_t)p & 7)) {
    crc = (crc >> 8) ^ tab8[0][(crc ^ *p++) & 0xff];
    len--;
  }
  while (len >= 8) {
    uint64_t w = load64(p) ^ crc;
    crc = tab8[7][w & 0xff] ^ tab8[6][(w >> 8) & 0xff] ^ tab8[5][(w >> 16) & 0xff] ^
          tab8[4][(w >> 24) & 0xff] ^ tab8[3][(w >> 32) & 0xff] ^ tab8[2][(w >> 40) & 0xff] ^
          tab8[1][(w >> 48) & 0xff] ^ tab8[0][w >> 56];
    p += 8;
    len -= 8;
  }
#endif
  while (len--) crc = (crc >> 8) ^ tab8[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if NV_HAVE_X86
/* Three independent crc32 streams over consecutive blocks of `block` bytes, then combined. */
#define HW_3WAY(block, table)                                   \
  while (len >= 3 * (size_t)(block)) {                          \
    uint64_t c1 = 0, c2 = 0;                                    \
    const uint8_t *end = p + (block);                           \
    do {                                                        \
      c0 = _mm_crc32_u64(c0, load64(p));                        \
      c1 = _mm_crc32_u64(c1, load64(p + (block)));              \
      c2 = _mm_crc32_u64(c2, load64(p + 2 * (block)));          \
      p += 8;                                                   \
    } while (p < end);                                          \
    c0 = shift_crc(table, (uint32_t)c0) ^ (uint32_t)c1;         \
    c0 = shift_crc(table, (uint32_t)c0) ^ (uint32_t)c2;         \
    p += 2 * (block);                                           \
    len -= 3 * (size_t)(block);                                 \
  }

__attribute__((target("sse4.2"))) static uint32_t hw_update(uint32_t crc, const uint8_t *p,
                                                             size_t len) {
  uint64_t c0 = crc;
  while (len && ((uintptr_t)p & 7)) {
    c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    len--;
  }
  HW_3WAY(LONG_BLOCK, shift_long)
  HW_3WAY(SHORT_BLOCK, shift_short)
  while (len >= 8) {
    c0 = _mm_crc32_u64(c0, load64(p));
    p += 8;
    len -= 8;
  }
  while (len) {
    c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    len--;
  }
  return (uint32_t)c0;
}
#endif

#if NV_HAVE_X86
/* One 128-bit lane moved along by the distance k is built for, plus the data it lands on. */
__attribute__((target("sse4.2,pclmul"))) static inline __m128i fold(__m128i x, __m128i k, __m128i d) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), d);
}

#define CLMUL_MIN 512
/*
 * Long buffers (len >= CLMUL_MIN): eight 16-byte lanes, two per 256-bit register, folded forward by 128
 * bytes per step with carry-less multiplies (independent, so the multiplier pipelines them), then
 * folded into one lane, whose 16 bytes the crc32 instruction finishes from a zero state (the folded lane
 * is congruent to everything before it modulo P). The running crc enters as an XOR into the first four
 * bytes. (PCLMULQDQ on 128-bit registers alone was slower than the three crc32 streams on the AMD EPYC
 * we measured, so CPUs without VPCLMULQDQ use those.)
 */
__attribute__((target("sse4.2,pclmul,avx2,vpclmulqdq"))) static inline __m256i vfold(__m256i y, __m256i k, __m256i d) {
  return _mm256_xor_si256(_mm256_xor_si256(_mm256_clmulepi64_epi128(y, k, 0x00), _mm256_clmulepi64_epi128(y, k, 0x11)), d);
}

/* The CRC state after the bytes folded into the eight lanes y0..y3: the lanes folded into one, whose
 * 16 bytes the crc32 instruction finishes from a zero state. */
__attribute__((target("sse4.2,pclmul,avx2,vpclmulqdq"))) static inline uint32_t lanes_to_crc(__m256i y0, __m256i y1, __m256i y2, __m256i y3) {
  const __m128i k1 = _mm_set_epi64x((long long)k128[1], (long long)k128[0]);
  __m128i x = _mm256_castsi256_si128(y0);
  x = fold(x, k1, _mm256_extracti128_si256(y0, 1));
  x = fold(x, k1, _mm256_castsi256_si128(y1));
  x = fold(x, k1, _mm256_extracti128_si256(y1, 1));
  x = fold(x, k1, _mm256_castsi256_si128(y2));
  x = fold(x, k1, _mm256_extracti128_si256(y2, 1));
  x = fold(x, k1, _mm256_castsi256_si128(y3));
  x = fold(x, k1, _mm256_extracti128_si256(y3, 1));
  uint64_t c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(x));
  c = _mm_crc32_u64(c, (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x)));
  return (uint32_t)c;
}

#define LOADY(q) _mm256_loadu_si256((const __m256i *)(q))
__attribute__((target("sse4.2,pclmul,avx2,vpclmulqdq"))) static uint32_t vclmul_update(uint32_t crc, const uint8_t *p, size_t len) {
  __m256i y0 = _mm256_xor_si256(LOADY(p), _mm256_inserti128_si256(_mm256_setzero_si256(), _mm_cvtsi32_si128((int)crc), 0));
  __m256i y1 = LOADY(p + 32), y2 = LOADY(p + 64), y3 = LOADY(p + 96);
  p += 128;
  len -= 128;
  const __m256i k = _mm256_set_epi64x((long long)k1024[1], (long long)k1024[0], (long long)k1024[1], (long long)k1024[0]);
  while (len >= 128) {
    y0 = vfold(y0, k, LOADY(p));
    y1 = vfold(y1, k, LOADY(p + 32));
    y2 = vfold(y2, k, LOADY(p + 64));
    y3 = vfold(y3, k, LOADY(p + 96));
    p += 128;
    len -= 128;
  }
  return hw_update(lanes_to_crc(y0, y1, y2, y3), p, len);
}

/*
 * The carry-less multiplies and the crc32 instruction each run at about 8 bytes a cycle alone on the AMD
 * EPYC we measured; issued side by side they overlap in part (bench/crc32c.mjs: 128 KiB and 1 MiB ~20 %
 * faster than folding alone). A chunk of HYB_CHUNK bytes: its first 128*HYB_STEPS bytes are folded as in
 * vclmul_update, and the three HYB_STREAM-byte blocks after them go through three crc32 streams in the
 * same loop. The parts are joined as in HW_3WAY: the state after a part, moved over the next part's
 * length (shift_hyb), XOR the next part's CRC from zero.
 */
__attribute__((target("sse4.2,pclmul,avx2,vpclmulqdq"))) static uint32_t hybrid_chunk(uint32_t crc, const uint8_t *p) {
  __m256i y0 = _mm256_xor_si256(LOADY(p), _mm256_inserti128_si256(_mm256_setzero_si256(), _mm_cvtsi32_si128((int)crc), 0));
  __m256i y1 = LOADY(p + 32), y2 = LOADY(p + 64), y3 = LOADY(p + 96);
  const __m256i k = _mm256_set_epi64x((long long)k1024[1], (long long)k1024[0], (long long)k1024[1], (long long)k1024[0]);
  const uint8_t *s = p + 128 * HYB_STEPS;
  uint64_t c1 = 0, c2 = 0, c3 = 0;
  for (int i = 0; i < HYB_STEPS; i++) {
    if (i > 0) {
      const uint8_t *q = p + 128 * i;
      y0 = vfold(y0, k, LOADY(q));
      y1 = vfold(y1, k, LOADY(q + 32));
      y2 = vfold(y2, k, LOADY(q + 64));
      y3 = vfold(y3, k, LOADY(q + 96));
    }
    for (int j = 0; j < HYB_PER; j += 8) {
      c1 = _mm_crc32_u64(c1, load64(s + j));
      c2 = _mm_crc32_u64(c2, load64(s + HYB_STREAM + j));
      c3 = _mm_crc32_u64(c3, load64(s + 2 * HYB_STREAM + j));
    }
    s += HYB_PER;
  }
  uint32_t r = shift_crc(shift_hyb, lanes_to_crc(y0, y1, y2, y3)) ^ (uint32_t)c1;
  r = shift_crc(shift_hyb, r) ^ (uint32_t)c2;
  return shift_crc(shift_hyb, r) ^ (uint32_t)c3;
}
#undef LOADY
#endif

uint32_t nv_crc32c_update(uint32_t crc, const uint8_t *p, size_t len) {
#if NV_HAVE_X86
  if (use_hybrid && len >= HYB_CHUNK) {
    do {
      crc = hybrid_chunk(crc, p);
      p += HYB_CHUNK;
      len -= HYB_CHUNK;
    } while (len >= HYB_CHUNK);
  }
  if (use_vclmul && len >= CLMUL_MIN) return vclmul_update(crc, p, len);
  if (use_hw) return hw_update(crc, p, len);
#endif
  return sw_update(crc, p, len);
}

/* crc32c(buf, off, len, seed = 0) -> uint32 */
napi_value nv_fn_crc32c(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc;
  uint8_t *p;
  size_t n;
  uint32_t seed = 0;
  if (!nv_args(env, info, 4, argv, &argc)) return NULL;
  if (!nv_bytes(env, argv[0], argv[1], argv[2], "buf", &p, &n)) return NULL;
  if (argc >= 4 && !nv_is_nullish(env, argv[3]) && !nv_uint32(env, argv[3], "seed", &seed))
    return NULL;
  napi_value r;
  napi_create_uint32(env, ~nv_crc32c_update(~seed, p, n), &r);
  return r;
}

/* crc32cv(bufs, desc, first, count, seed?): CRC32C over segments first..first+count-1 (as sendv
 * describes them) as if they were one byte string; no copy. */
napi_value nv_fn_crc32cv(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  size_t argc;
  int32_t first, count;
  uint32_t seed = 0;
  if (!nv_args(env, info, 5, argv, &argc)) return NULL;
  if (!nv_int32(env, argv[2], "first", &first) || !nv_int32(env, argv[3], "count", &count)) return NULL;
  if (first < 0 || count < 0 || count > NV_IOV_MAX) {
    nv_throw_range(env, "crc32cv: first must be >= 0 and count 0..1024");
    return NULL;
  }
  if (argc >= 5 && !nv_is_nullish(env, argv[4]) && !nv_uint32(env, argv[4], "seed", &seed)) return NULL;
  struct iovec iov[NV_IOV_MAX];
  if (!nv_segments(env, argv[0], argv[1], first, count, "crc32cv", iov)) return NULL;
  uint32_t c = ~seed;
  for (int32_t i = 0; i < count; i++) c = nv_crc32c_update(c, iov[i].iov_base, iov[i].iov_len);
  napi_value r;
  napi_create_uint32(env, ~c, &r);
  return r;
}
