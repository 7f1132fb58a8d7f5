// A zero that V8 keeps as a double, for counters of bytes and nanoseconds.
//
// V8 stores a field that starts at 0 as a small integer (Smi, below 2^30). A counter that grows past
// that mid-run changes the field's representation. The object then gets a new hidden class, and every
// optimized function that touches the object is deoptimized and compiled again: seen as a burst of
// "overflow" and "wrong map" deopts in the host's send path, one to three seconds into a 128 KiB run.
// A field that starts at -0 is a double from the start and never changes. -0 equals 0, -0 + n is n and
// JSON writes it as 0, but Intl formats it as "-0": where a counter leaves its object (totals,
// snapshots), `+ 0` turns a never-incremented -0 into 0.
export const DOUBLE_ZERO = -0;
