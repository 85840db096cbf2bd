import type { Sim } from '../../lib/engine/ops';
import { resolveMachine } from '../../lib/machine/resolve';
import { RngStreams } from '../../lib/rng';
import { TlbMachine } from '../../tlb/machine';
import type { Mm } from '../../tlb/mm/mm';
import type { Strategy } from '../../tlb/strategies/strategy';
import { STRATEGIES } from '../../tlb/strategies/index';
import { Linux615 } from '../../tlb/strategies/linux-6.15';
import type { TlbOps } from '../../tlb/hw/tlb-ops';
import type { TlbTaskEnv } from '../../tlb/task-env';

const PAGES = 64;

/**
 * A shell on CPU 0 that vforks children which exec a small program: it touches pages, mprotects
 * and unmaps a few, and exits. A second shell does the same with fork. Children land on other
 * CPUs, which go idle (lazy) on the exited mms. Returns the machine after `cycles`.
 */
function forkExecExit(strategy: Strategy, cycles: number, seed = 1) {
  const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 4 }), seed, strategy });
  const rng = new RngStreams(seed).stream('test.procs');
  const events: string[] = [];
  const program = function* ({ k, task, sched }: TlbTaskEnv): Sim {
    const mm = yield* m.procs.exec(task, `${task.name}.exe`, PAGES);
    events.push(`exec ${task.name}`);
    for (let i = 0; i < 12; i++) yield* sched.touch(task, rng.int(PAGES), rng.chance(0.5));
    yield* m.mapping.mprotect(k, sched.cpuOf(task), mm, 0, 4, false);
    yield k.compute(rng.range(1_000, 20_000));
    yield* m.mapping.munmap(k, sched.cpuOf(task), mm, 8, 12);
  };
  const shell = (kind: 'vfork' | 'fork') =>
    function* ({ k, task, sched }: TlbTaskEnv): Sim {
      for (let p = 0; p < PAGES; p++) yield* sched.touch(task, p, true);
      for (let i = 0; ; i++) {
        const child = yield* m.procs.clone(task, kind, `${kind}${i}`, program, { cpu: 1 + rng.int(3) });
        if (kind === 'vfork') events.push(`parent resumes after ${child.name}`);
        yield k.compute(rng.range(2_000, 10_000));
        yield* sched.sleepFor(task, rng.range(5_000, 30_000));
      }
    };
  const sh1 = m.createMm('sh1', PAGES);
  const sh2 = m.createMm('sh2', PAGES);
  m.sched.createTask('sh1', sh1, 0, shell('vfork'));
  m.sched.createTask('sh2', sh2, 0, shell('fork'));
  m.sched.start();
  m.engine.run({ until: cycles });
  return { m, events };
}

describe('process lifecycle: fork, vfork, exec, exit', () => {
  test('a vfork parent resumes only after its child has exec\'d', () => {
    const { events } = forkExecExit(STRATEGIES['linux-6.15'](), 3_000_000);
    const resumes = events.filter((e) => e.startsWith('parent resumes'));
    expect(resumes.length).toBeGreaterThan(5);
    for (const r of resumes) {
      const child = r.split(' ').pop() as string;
      expect(events.indexOf(`exec ${child}`)).toBeGreaterThanOrEqual(0);
      expect(events.indexOf(`exec ${child}`)).toBeLessThan(events.indexOf(r));
    }
  });

  test('exited mm_structs are freed once no CPU holds them, and reused: memory stops growing', () => {
    const { m } = forkExecExit(STRATEGIES['linux-4.20'](), 8_000_000);
    const lc = m.mmLifecycle;
    expect(lc.created.value).toBeGreaterThan(60);
    expect(lc.reused.value).toBeGreaterThan(lc.created.value / 2);
    // Live mms at any time: 2 shells + a few children + those still held lazily by the 4 CPUs.
    expect(m.mms.length).toBeLessThan(16);
    expect(m.stats.dump().procs).toMatchObject({ execs: expect.any(Number), exits: expect.any(Number) });
  });

  test('a CPU that went idle after a task exited keeps its mm (mm_count) until it runs another user mm', () => {
    const m = new TlbMachine({ config: resolveMachine('skylake-sp-2s', { sockets: 1, coresPerCcx: 2 }), seed: 1, strategy: STRATEGIES['linux-4.20']() });
    const parent = m.createMm('parent', 16);
    let childMm: Mm | null = null;
    let freedWhileLazy = -1;
    m.sched.createTask('parent', parent, 0, function* ({ k, task, sched }: TlbTaskEnv): Sim {
      yield* sched.touch(task, 0, true);
      yield* m.procs.clone(task, 'fork', 'child', function* (env: TlbTaskEnv): Sim {
        childMm = env.task.mm as Mm;
        yield* env.sched.touch(env.task, 1, true);
      }, { cpu: 1 });
      yield* sched.sleepFor(task, 200_000);
      freedWhileLazy = m.mmLifecycle.freed.value; // cpu1 is idle, lazy on the child's mm
      // Now run a user task on cpu1: its switch drops the last reference.
      yield* m.procs.clone(task, 'thread', 'worker', function* (env: TlbTaskEnv): Sim {
        yield* env.sched.touch(env.task, 2, true);
      }, { cpu: 1 });
      yield k.compute(100_000);
    });
    m.sched.start();
    m.engine.run({ until: 600_000 });
    expect(childMm).not.toBeNull();
    expect(m.mmLifecycle.live(childMm as unknown as Mm)).toBe(false);
    expect(freedWhileLazy).toBe(0);
    expect(m.mmLifecycle.freed.value).toBe(1);
  });

  test.each(Object.keys(STRATEGIES).filter((n) => !n.startsWith('rfc2016') && n !== 'linux-4.13'))(
    '%s: fork/vfork/exec/exit with mm reuse shows no violation', (name) => {
      const { m } = forkExecExit(STRATEGIES[name](), 4_000_000, 7);
      expect(m.mmLifecycle.reused.value).toBeGreaterThan(0);
      expect(m.oracle.violations).toEqual([]);
    },
  );

  test('the oracle catches a PCID reused for a new mm without a flush', () => {
    class NoFlushOnReuse extends Linux615 {
      override readonly name = 'no-flush-on-pcid-reuse';
      protected override *chooseAsid(k: TlbOps, c: number, next: Mm, nextTlbGen: number): Sim<{ asid: number; needFlush: boolean }> {
        const r = yield* super.chooseAsid(k, c, next, nextTlbGen);
        return { asid: r.asid, needFlush: false };
      }
    }
    const { m } = forkExecExit(new NoFlushOnReuse(), 4_000_000, 7);
    const owners = m.oracle.violations.filter((v) => /filled for another address space/.test(v.detail));
    expect(owners.length).toBeGreaterThan(0);
  });
});

