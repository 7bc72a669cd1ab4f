import { setFlagsFromString } from 'node:v8';

// V8 allocates an allocation site's objects straight into the old generation ("pretenures" it)
// once nearly all of them outlive a scavenge. Under load a dozen of a request's sites did
// (`--trace-pretenuring-statistics`: every object found alive at the scavenge), and their objects
// died soon after in the old generation: it grew by ~1 MB per scavenge (a mark-compact every ~12
// of them), and every scavenge walked their pointers into the young generation (3-4 ms each
// instead of 1.0-1.4). Without it the old generation grows ~0.15 MB per scavenge, and a
// get's or a list's server CPU is ~10 % lower (bench/README.md, session 14). Set here, by the first
// module main.ts imports, rather than as a node flag, so that every way of starting dist/main.js
// has it before a request is served; V8 reads it at each scavenge.
setFlagsFromString('--no-allocation-site-pretenuring');
