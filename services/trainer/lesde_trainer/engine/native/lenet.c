/* The LeNet of lesde_trainer.models, R independent trials at a time, batch size 1.
 *
 * Why by hand: with one image per step every layer is tiny, and a batched library kernel
 * spends its time on per-call overhead, layout copies and passes over R trials' weights in
 * memory. Here each thread takes one trial at a time and runs all of a block's steps on it,
 * so the trial's weights (61k parameters: 240 KB in float32, 480 KB in float64) stay in the
 * core's L2 cache for the whole block, and every loop is a fixed, short, vectorisable one.
 *
 * Determinism: a trial's arithmetic is a fixed sequence that does not depend on the thread
 * running it, the thread count or the other trials, so the results are bit-identical for a
 * given binary (machine and flags) whatever the split of trials between threads.
 *
 * The body (lenet_body.inc) is included once per precision: functions *_f32 and *_f64.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REAL float
#define SUFFIX(name) name##_f32
#include "lenet_body.inc"
#undef REAL
#undef SUFFIX

#define REAL double
#define SUFFIX(name) name##_f64
#include "lenet_body.inc"
#undef REAL
#undef SUFFIX

/* Version of the calling convention; the Python side refuses a library that differs. */
int lenet_abi_version(void) { return 1; }
