/**
 * One simulation in a fresh process, for the server suite: `node server-child.js CONFIG_JSON
 * [warm|alloc]` prints `{ wallMs, events, maxRssKb, allocBytes, result }` where `result` is the
 * run's JSON without its host section. A process of its own gives each run its own peak RSS;
 * `warm` first runs 2 simulated ms of the same configuration, untimed, so that the JIT has
 * compiled the hot paths. `alloc` warms up too, then counts the bytes the run allocates on the
 * JavaScript heap (`allocBytes`, else 0): V8's GC profiler gives the heap in use before and after
 * every collection, so what was allocated is the growth between collections. `marginal` warms up
 * for a fifth of the window, then runs the configuration for a fifth of its window and for the
 * whole of it, and reports the difference (wall time and events): the cost of the window's last
 * four fifths, without building the machine and filling its caches.
 */
import v8 from 'node:v8';
import { simulate, type SimulateConfig } from '../experiment/api';

const config = JSON.parse(process.argv[2] ?? '{}') as SimulateConfig;
const mode = process.argv[3];
if (mode === 'warm' || mode === 'alloc') simulate({ ...config, ms: 2 });
// The marginal mode's untimed warm-up is as long as its timed base, so that the base's time is
// not mostly the JIT's and GC's first pass (on 56 CPUs the first 10 ms took 2.8 times the second).
if (mode === 'marginal') simulate({ ...config, ms: (config.ms ?? 1) / 5 });
let baseMs = 0;
let baseEvents = 0;
if (mode === 'marginal') {
  const t = process.hrtime.bigint();
  baseEvents = simulate({ ...config, ms: (config.ms ?? 1) / 5 }).host.events;
  baseMs = Number(process.hrtime.bigint() - t) / 1e6;
}
const profiler = mode === 'alloc' ? new v8.GCProfiler() : null;
const used0 = v8.getHeapStatistics().used_heap_size;
profiler?.start();
const t0 = process.hrtime.bigint();
const r = simulate(config);
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6 - baseMs;
let allocBytes = 0;
if (profiler !== null) {
  const { statistics } = profiler.stop();
  let after = used0;
  for (const gc of statistics) {
    allocBytes += gc.beforeGC.heapStatistics.usedHeapSize - after;
    after = gc.afterGC.heapStatistics.usedHeapSize;
  }
  allocBytes += v8.getHeapStatistics().used_heap_size - after;
}
const { host, ...result } = r;
process.stdout.write(JSON.stringify({ wallMs, events: host.events - baseEvents, maxRssKb: process.resourceUsage().maxRSS, allocBytes, result }));
