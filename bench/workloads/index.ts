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
import { checkSpecs } from './params';
import type { Workload } from './workload';

// Keyed by literal names (a test checks each is its workload's own name), so WorkloadName is a union.
const SHIPPED = {
  'memcache': memcache as Workload,
  'netperf-rr': netperfRr as Workload,
  'hackbench': hackbench as Workload,
  'kbuild': kbuild as Workload,
  'tlb-flush1': tlbFlush1 as Workload,
  'tlb-flush2': tlbFlush2 as Workload,
  'tlb-flush3': tlbFlush3 as Workload,
  'munmap-micro': munmapMicro as Workload,
  'pcid-pingpong': pcidPingPong as Workload,
  'madvise-mix': madviseMix as Workload,
  'fork-cow': forkCow as Workload,
  'explore-mix': exploreMix as Workload,
};

/** A shipped workload's name. */
export type WorkloadName = keyof typeof SHIPPED;

/** Every shipped workload; names are what `--workload` takes. */
export const WORKLOADS: Readonly<Record<string, Workload>> = Object.freeze(SHIPPED);

/** The workload `run` and `compare` use unless told: the one with published rates. */
export const DEFAULT_WORKLOAD = memcache.name;

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
