/**
 * One simulation in a fresh process, for the server suite: `node server-child.js CONFIG_JSON
 * [warm]` prints `{ wallMs, events, maxRssKb, result }` where `result` is the run's JSON without
 * its host section. A process of its own gives each run its own peak RSS; `warm` first runs 2
 * simulated ms of the same configuration, untimed, so that the JIT has compiled the hot paths.
 */
import { simulate, type SimulateConfig } from '../experiment/api';

const config = JSON.parse(process.argv[2] ?? '{}') as SimulateConfig;
if (process.argv[3] === 'warm') simulate({ ...config, ms: 2 });
const t0 = process.hrtime.bigint();
const r = simulate(config);
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
const { host, ...result } = r;
process.stdout.write(JSON.stringify({ wallMs, events: host.events, maxRssKb: process.resourceUsage().maxRSS, result }));
