import type { Sim } from '../lib/engine/ops';
import { resolveMachine } from '../lib/machine/resolve';
import { MemMachine } from '../mem/machine';

/**
 * The model's cost of a contended `llist_add` (lib/llist.c: load the head, link the node, CMPXCHG,
 * retry with the value it returned), the loop every `smp_call_function_many` target queue sees:
 * N CPUs of `skylake-sp-2s` each add `adds` nodes to one list head, with `gapCycles` of other work
 * after each success. Per add: failed CMPXCHGs, line transfers and cycles, and the head line's
 * throughput. The same loop on hardware (pinned threads, counting failures) is the measurement
 * that settles docs/ARCHITECTURE.md's "The owner window": without it the model's retries queue behind every
 * requester, so failures per add grow with N; `--no-owner-window` runs it so (machine parameter
 * ownerWindow = 0). `npm run bench:contention [-- --adds N] [-- --gap C] [-- --no-owner-window]`.
 */
export interface ContentionRow {
  cpus: number;
  failedPerAdd: number;
  transfersPerAdd: number;
  cyclesPerAdd: number;
  /** Successful adds per microsecond, all CPUs together. */
  addsPerUs: number;
}

export function llistAddContention(cpus: number, adds: number, gapCycles: number, ownerWindow = 1): ContentionRow {
  const m = new MemMachine({ config: resolveMachine('skylake-sp-2s', { ownerWindow }), seed: 1 });
  const head = m.memory.allocLines('call_single_queue');
  const k = m.k;
  let lastDone = 0;
  for (let c = 0; c < cpus; c++) {
    const node = m.memory.allocLines(`csd@cpu${c}`);
    m.engine.spawn(`adder${c}`, c, (function* (): Sim {
      for (let i = 0; i < adds; i++) {
        let first = yield k.load(head);
        for (;;) {
          yield k.store(node, first); // node->next = first
          const old = yield k.cmpxchg(head, first, node);
          if (old === first) break;
          first = old;
        }
        if (gapCycles > 0) yield k.delay(gapCycles);
      }
      if (m.engine.now > lastDone) lastDone = m.engine.now;
    })());
  }
  m.engine.run({ maxEvents: 1e9 });
  const d = m.stats.dump() as { mem: { cmpxchgFailed: number; coherence: { transfers: Record<string, number> } } };
  const total = cpus * adds;
  const transfers = Object.values(d.mem.coherence.transfers).reduce((a, b) => a + b, 0);
  const ghz = m.config.params.clockGhz;
  return {
    cpus,
    failedPerAdd: d.mem.cmpxchgFailed / total,
    transfersPerAdd: transfers / total,
    cyclesPerAdd: (lastDone * cpus) / total,
    addsPerUs: total / (lastDone / (ghz * 1e3)),
  };
}

function main(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--adds' || argv[i] === '--gap') i++;
    else if (argv[i] !== '--no-owner-window') {
      console.error(`bench:contention: unknown argument '${argv[i]}' (expected --adds N, --gap C, --no-owner-window)`);
      return 2;
    }
  }
  const opt = (name: string, dflt: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
  const adds = opt('--adds', 200);
  const gap = opt('--gap', 2000);
  if (!(Number.isInteger(adds) && adds > 0) || !(Number.isInteger(gap) && gap >= 0)) {
    console.error('bench:contention: --adds expects a positive integer and --gap a non-negative integer of cycles');
    return 2;
  }
  const window = argv.includes('--no-owner-window') ? 0 : 1;
  console.log(`llist_add on one line, skylake-sp-2s (ownerWindow=${window}): ${adds} adds per CPU, ${gap} cycles of other work after each`);
  console.log('  CPUs  failed CMPXCHG/add  transfers/add  cycles/add (per CPU)  adds/µs (all)');
  for (const n of [1, 2, 4, 8, 14, 28, 56]) {
    const r = llistAddContention(n, adds, gap, window);
    console.log(`${String(n).padStart(6)}  ${r.failedPerAdd.toFixed(2).padStart(18)}  ${r.transfersPerAdd.toFixed(2).padStart(13)}  ${r.cyclesPerAdd.toFixed(0).padStart(20)}  ${r.addsPerUs.toFixed(2).padStart(13)}`);
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
