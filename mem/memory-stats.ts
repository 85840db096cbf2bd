import { OP_NAMES, isLockedRmw } from '../lib/engine/ops';
import type { Counter } from '../lib/stats/counter';
import type { StatGroup } from '../lib/stats/group';

/** The memory system's counters (the `mem` stats group), registered in their dump order. */
export class MemoryStats {
  readonly loads: Counter;
  readonly forwarded: Counter;
  readonly stores: Counter;
  readonly drains: Counter;
  readonly rmws: Counter[];
  readonly cmpxchgFailed: Counter;
  readonly sbStalls: Counter;
  readonly sbStallCycles: Counter;
  readonly fences: Counter;
  readonly fenceWaitCycles: Counter;
  readonly spinParks: Counter;
  readonly spinCycles: Counter;

  constructor(stats: StatGroup) {
    this.loads = stats.counter('loads', 'loads executed');
    this.forwarded = stats.counter('forwarded', 'loads served from the own store buffer');
    this.stores = stats.counter('stores', 'stores retired into a store buffer');
    this.drains = stats.counter('drains', 'store-buffer entries made globally visible');
    const rmw = stats.group('rmw');
    this.rmws = OP_NAMES.map((name, op) => (isLockedRmw(op) ? rmw.counter(name.replace('lock ', ''), `locked ${name}`) : (null as unknown as Counter)));
    this.cmpxchgFailed = stats.counter('cmpxchgFailed', 'CMPXCHGs whose comparison failed');
    this.sbStalls = stats.counter('sbStalls', 'stores that found the store buffer full');
    this.sbStallCycles = stats.counter('sbStallCycles', 'cycles stores waited for a store-buffer entry');
    this.fences = stats.counter('fences', 'MFENCEs and serializing operations');
    this.fenceWaitCycles = stats.counter('fenceWaitCycles', 'cycles fences and locked RMWs waited for the store buffer to drain');
    this.spinParks = stats.counter('spinParks', 'spin-waits that found their condition false and parked on the line');
    this.spinCycles = stats.counter('spinCycles', 'cycles spent spinning');
  }
}
