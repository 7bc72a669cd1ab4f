// Loaded with `node --expose-gc --import <this file>`: when the process exits, reports on stderr
// how much of the young generation 2,000 new objects took, from an allocation site whose every
// object outlived the scavenges before them: one JSON line, `{"pretenuring":{"young":…}}`. With
// allocation-site pretenuring on, V8 has by then marked the site and allocates its objects in the
// old generation, so the young one takes only what is not pretenured. (The old generation's own
// figure is no measure: V8's concurrent threads change it meanwhile.)
import { getHeapSpaceStatistics } from 'node:v8';

const young = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_used_size;
const make = (i) => ({ a: i, b: [i, i], c: { d: i } });

process.on('exit', () => {
  const kept = [];
  for (let i = 0; i < 600_000; i++) kept.push(make(i));
  // A full collection moves every survivor out of the young generation: the 2,000 below then
  // fit in it without a scavenge, which would move objects out of it meanwhile.
  globalThis.gc();
  const before = young();
  for (let i = 0; i < 2_000; i++) kept.push(make(i));
  process.stderr.write(`${JSON.stringify({ pretenuring: { young: young() - before } })}\n`);
});
