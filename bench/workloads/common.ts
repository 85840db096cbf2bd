import type { Sim } from '../../lib/engine/ops';
import type { Rng } from '../../lib/rng';
import type { TlbTaskEnv } from '../../tlb/task-env';

/** A thread of an app that works in bursts and sleeps, so its CPU alternates with idle and kernel threads. */
export function lazyAlternator(rng: Rng, pages: number) {
  return function* ({ k, task, sched }: TlbTaskEnv): Sim {
    for (;;) {
      for (let i = 0; i < 8; i++) yield* sched.touch(task, rng.int(pages), false);
      yield k.compute(rng.range(1_000, 10_000));
      yield* sched.sleepFor(task, rng.range(5_000, 60_000));
    }
  };
}

/** A kernel thread (mm = NULL): short bursts, then sleep. */
export function kernelThread(rng: Rng) {
  return function* ({ k, task, sched }: TlbTaskEnv): Sim {
    for (;;) {
      yield k.compute(rng.range(2_000, 15_000));
      yield* sched.sleepFor(task, rng.range(10_000, 80_000));
    }
  };
}
