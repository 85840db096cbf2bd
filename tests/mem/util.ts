import { Engine } from '../../lib/engine/engine';
import { Topology, type TopologyParams } from '../../lib/machine/topology';
import type { Counter } from '../../lib/stats/counter';
import { StatGroup } from '../../lib/stats/group';
import { SimMemory } from '../../mem/memory';
import { MemorySystem, type MemoryParams } from '../../mem/memory-system';

/** Distinct costs, so a test can tell which one was charged. */
export const PARAMS: MemoryParams = {
  l1Hit: 4,
  llcHit: 50,
  memLatency: 300,
  transferSmt: 18,
  transferCcx: 120,
  transferSocket: 250,
  transferRemote: 340,
  hopCycles: 200,
  rmwLocal: 19,
  storeBufferEntries: 4,
  storeIssue: 1,
  mfence: 33,
  ownerWindow: 0,
};

/** 2 sockets x 2 CCX x 2 cores x 2 threads = 16 CPUs: cpu c and c+8 are SMT siblings. */
export const TOPO: TopologyParams = { sockets: 2, ccxPerSocket: 2, coresPerCcx: 2, threadsPerCore: 2 };

export function build(topo: TopologyParams = TOPO, params: MemoryParams = PARAMS) {
  const engine = new Engine();
  const topology = new Topology(topo);
  const stats = new StatGroup('');
  const memory = new SimMemory();
  const mem = new MemorySystem(engine, topology, params, memory, stats.group('mem'));
  engine.setExecutor(mem);
  return { engine, topology, stats, memory, mem, k: engine.ops, coh: mem.coherence };
}

/** The value of a counter by its path, e.g. 'mem.sbStalls'. */
export function counter(stats: StatGroup, path: string): number {
  const c = stats.find(path);
  if (c === undefined || !('value' in c)) throw new Error(`no counter ${path}`);
  return (c as Counter).value;
}
