import { ConfigError } from '../../lib/errors';
import { exploreMix } from './explore-mix';
import { forkCow } from './fork-cow';
import { madviseMix } from './madvise-mix';
import type { Workload } from './workload';

export const WORKLOADS: Readonly<Record<string, Workload>> = Object.freeze({
  [madviseMix.name]: madviseMix,
  [forkCow.name]: forkCow,
  [exploreMix.name]: exploreMix,
});

export const DEFAULT_WORKLOAD = madviseMix.name;

export function workloadByName(name: string): Workload {
  const w = Object.prototype.hasOwnProperty.call(WORKLOADS, name) ? WORKLOADS[name] : undefined;
  if (w === undefined) throw new ConfigError(`unknown workload '${name}' (known: ${Object.keys(WORKLOADS).join(', ')})`);
  return w;
}
