import { ConfigError } from '../../lib/errors';
import { unknownKeyMessage } from '../../lib/config-text';
import { isFileSpec, loadUserModule } from '../load-module';
import { exploreMix } from './explore-mix';
import { forkCow } from './fork-cow';
import { hackbench } from './hackbench';
import { kbuild } from './kbuild';
import { madviseMix } from './madvise-mix';
import { memcache } from './memcache';
import { munmapMicro } from './munmap-micro';
import { netperfRr } from './netperf-rr';
import { pcidPingPong } from './pcid-pingpong';
import { tlbFlush1, tlbFlush2, tlbFlush3 } from './will-it-scale';
import { checkSpecs, type WorkloadParamValues } from './params';
import type { StatsOfWorkload, Workload } from './workload';

// Keyed by literal names (a test checks each is its workload's own name), so WorkloadName is a
// union; each keeps its own type, so that its parameters and its stats type `simulate`.
const SHIPPED = {
  'memcache': memcache,
  'netperf-rr': netperfRr,
  'hackbench': hackbench,
  'kbuild': kbuild,
  'tlb-flush1': tlbFlush1,
  'tlb-flush2': tlbFlush2,
  'tlb-flush3': tlbFlush3,
  'munmap-micro': munmapMicro,
  'pcid-pingpong': pcidPingPong,
  'madvise-mix': madviseMix,
  'fork-cow': forkCow,
  'explore-mix': exploreMix,
};

/** A shipped workload's name. */
export type WorkloadName = keyof typeof SHIPPED;

/** The `workload` section of a shipped workload's result, typed from its declared `stats` (the run checks them). */
export type WorkloadStats<N extends WorkloadName> = StatsOfWorkload<(typeof SHIPPED)[N]>;

/** `workloadParams` for a shipped workload: any subset of its parameters, numbers as numbers and choices as their names. */
export type WorkloadParamsOf<N extends WorkloadName> = N extends WorkloadName ? Partial<WorkloadParamValues<(typeof SHIPPED)[N]['params']>> : never;

/** Every shipped workload; names are what `--workload` takes. */
export const WORKLOADS: Readonly<Record<string, Workload>> = Object.freeze(SHIPPED);

/** The workload `run` and `compare` use unless told: the one with published rates. */
export const DEFAULT_WORKLOAD = 'memcache' satisfies WorkloadName;

export function workloadNames(): string[] {
  return Object.keys(WORKLOADS);
}

export function workloadByName(name: string): Workload {
  const w = Object.prototype.hasOwnProperty.call(WORKLOADS, name) ? WORKLOADS[name] : undefined;
  if (w === undefined) throw new ConfigError(`${unknownKeyMessage('workload', name, workloadNames())}; or a path to a .ts/.js file`);
  return w;
}

/**
 * `--workload NAME` or `--workload ./file.ts|.js|.cjs|.mjs`. A file exports (as `default` or
 * `workload`) a workload object, as `defineWorkload` returns, or a class whose instances are one.
 */
export function loadWorkload(spec: string): Workload {
  if (!isFileSpec(spec)) return workloadByName(spec);
  const exported = loadUserModule(spec, '--workload');
  let w = (exported.default ?? exported.workload ?? exported) as unknown;
  if (typeof w === 'function') w = new (w as new () => unknown)();
  const c = w as Partial<Workload> | null;
  if (c === null || typeof c !== 'object' || typeof c.name !== 'string' || typeof c.setup !== 'function') {
    throw new ConfigError(`${spec}: expected a default (or 'workload') export with a 'name' and a 'setup' function (see defineWorkload)`);
  }
  const full: Workload = { description: '', sources: [], params: {}, ...c } as Workload;
  checkSpecs(spec, full.params);
  return full;
}
