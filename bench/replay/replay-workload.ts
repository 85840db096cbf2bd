import type { Sim } from '../../lib/engine/ops';
import type { Counter } from '../../lib/stats/counter';
import { CpuSet } from '../../cpu/cpuset';
import type { Task } from '../../cpu/task';
import type { TlbMachine } from '../../tlb/machine';
import type { Mm } from '../../tlb/mm/mm';
import { MAX_MM_PAGES } from '../../tlb/mm/mm-lifecycle';
import type { CloneKind } from '../../tlb/mm/process';
import { defineWorkload, type Workload } from '../workloads/workload';
import { AddressMap } from './address-map';
import { forkOf, type ReplayOp, type ReplayTask, type TraceModel } from './reconstruct';
import type { TlbTaskEnv } from '../../tlb/task-env';

/** Simulated time before the trace's first event: the tasks alive at its start settle on their CPUs. */
export const LEAD_IN_CYCLES = 100_000;
const MAP_FIXED = 0x10;
/** madvise behaviours that drop pages and flush: MADV_DONTNEED (4), MADV_FREE (8), MADV_REMOVE (9). */
const DROPPING_MADVISE = new Set([4, 8, 9]);
const SLOTS = MAX_MM_PAGES / 512;

interface ReplayStats {
  readonly mappingOps: Counter;
  readonly ignored: Counter;
  readonly forks: Counter;
  readonly execs: Counter;
  readonly exits: Counter;
  readonly tasks: Counter;
  readonly clipped: Counter;
}

/**
 * A trace as a workload: every task of the trace becomes a task that runs where and when the trace
 * says, and does there what the trace says it did. For each of its segments it is allowed on that
 * segment's CPU only and sleeps until the segment starts (the hrtimer wake-up places it there); it
 * then runs until the segment's end, doing the segment's mapping changes, forks, execs and exit
 * at their times, each through the model (flush_tlb_mm_range under the strategy, fork/exec/exit
 * on address spaces). Tasks alive at the start share an mm by tgid (or, without tgids, by name);
 * a child whose parent sleeps in D until the child's exec was a vfork. The trace has no page
 * faults, so the pages a munmap, mprotect or madvise covers are taken to be present.
 */
export function replayWorkload(name: string, model: TraceModel): Workload {
  return defineWorkload({
    name,
    description: `replay of ${name}: ${model.tasks.size} tasks on ${model.cpus} CPUs over ${((model.end - model.start) * 1e3).toFixed(1)} ms`,
    sources: [name],
    params: {},
    warmupMs: 0,
    stats: { mappingOps: 'counter', ignoredOps: 'counter', forks: 'counter', execs: 'counter', exits: 'counter', tasks: 'counter', clippedRanges: 'counter' },
    setup({ m, stats }): void {
      new Replayer(m, model, {
        mappingOps: stats.counter('mappingOps', 'munmap, mprotect, dropping madvise and MAP_FIXED mmap calls replayed'),
        ignored: stats.counter('ignoredOps', 'mapping calls that cannot flush (madvise hints, mmap without MAP_FIXED) or by tasks without an mm'),
        forks: stats.counter('forks', 'forks replayed (children that ran in the trace)'),
        execs: stats.counter('execs', 'execs replayed'),
        exits: stats.counter('exits', 'exits replayed'),
        tasks: stats.counter('tasks', 'trace tasks that ran'),
        clipped: stats.counter('clippedRanges', 'ranges cut at the end of their 2 MiB region (see AddressMap)'),
      }).start();
    },
  });
}

class Replayer {
  private readonly m: TlbMachine;
  private readonly model: TraceModel;
  private readonly st: ReplayStats;
  private readonly cpuSets: CpuSet[];
  private readonly hz: number;
  /** Per address-space incarnation (ctx_id): its address placement. */
  private readonly maps: Map<number, AddressMap>;

  constructor(m: TlbMachine, model: TraceModel, st: ReplayStats) {
    this.m = m;
    this.model = model;
    this.st = st;
    const n = m.topology.nCpus;
    this.cpuSets = Array.from({ length: n }, (_, c) => CpuSet.of(n, [c]));
    this.hz = m.config.params.clockGhz * 1e9;
    this.maps = new Map();
  }

  /** The cycle of a trace time. */
  at(time: number): number {
    return LEAD_IN_CYCLES + Math.round((time - this.model.start) * this.hz);
  }

  /** Creates the tasks alive at the trace's start; the others are forked by their parents. */
  start(): void {
    // Tasks done with their part of the trace sleep past its end (see body), so the machine can go
    // idle before the trace's last event, which the engine would take for a deadlock: an event just
    // past the run's last cycle (the trace's end, `at(end)`) keeps the queue from running dry.
    const engine = this.m.engine;
    engine.schedule(this.at(this.model.end) + 2, engine.registerHandler({ onEvent: () => {} }), 0);
    const mms = new Map<string, Mm>();
    for (const t of this.model.tasks.values()) {
      if (t.segments.length === 0 || forkOf(this.model, t) !== null) continue;
      let mm: Mm | null = null;
      if (!t.kernelThread) {
        const key = t.tgid !== null ? `tgid ${t.tgid}` : `comm ${t.comm}`;
        mm = mms.get(key) ?? null;
        if (mm === null) mms.set(key, (mm = this.m.createMm(key, MAX_MM_PAGES)));
        else this.m.mmLifecycle.addUser(mm);
      }
      const cpu = t.segments[0].cpu;
      this.m.sched.createTask(`${t.comm}-${t.pid}`, mm, cpu, this.body(t), this.cpuSets[cpu]);
      this.st.tasks.value++;
    }
  }

  private body(t: ReplayTask) {
    const self = this;
    return function* (env: TlbTaskEnv): Sim {
      const { k, task, sched } = env;
      const engine = self.m.engine;
      const segs = t.segments;
      for (let i = 0; i < segs.length; i++) {
        const seg = segs[i];
        const begin = self.at(seg.start);
        if (engine.now < begin) {
          task.cpusAllowed = self.cpuSets[seg.cpu];
          yield* sched.sleepFor(task, begin - engine.now);
        }
        for (const op of seg.ops) {
          const when = self.at(op.time);
          if (when > engine.now) yield k.compute(when - engine.now);
          yield* self.apply(env, t, op);
        }
        const end = self.at(seg.end);
        if (end > engine.now) yield k.compute(end - engine.now);
      }
      yield* sched.block(task); // alive at the end of the trace: it sleeps past it
    };
  }

  /** One op of the trace, in the task's context. */
  private *apply(env: TlbTaskEnv, t: ReplayTask, op: ReplayOp): Sim {
    const { k, task, sched } = env;
    const m = this.m;
    switch (op.kind) {
      case 'fork':
        return yield* this.fork(task, t, op.childPid, op.time);
      case 'exec':
        this.st.execs.value++;
        yield* m.procs.exec(task, op.filename.split('/').pop() ?? op.filename, MAX_MM_PAGES);
        return;
      case 'exit':
        this.st.exits.value++;
        yield* m.procs.exit(task);
        return;
      default:
        break;
    }
    const mm = task.mm as Mm | null;
    const flushes = op.kind === 'munmap' || op.kind === 'mprotect' || (op.kind === 'madvise' && DROPPING_MADVISE.has(op.arg)) || (op.kind === 'mmap' && (op.arg & MAP_FIXED) !== 0);
    const range = mm === null || !flushes ? null : this.mapOf(mm).range(op.addr, op.len);
    if (mm === null || range === null) {
      this.st.ignored.value++;
      return;
    }
    this.st.mappingOps.value++;
    const [s, e] = range;
    mm.populate(m.memory, s, e); // present: the trace shows no faults, the kernel flushed them
    const cpu = sched.cpuOf(task);
    const tk = k;
    if (op.kind === 'mprotect') yield* m.mapping.mprotect(tk, cpu, mm, s, e, (op.arg & 2) !== 0);
    else if (op.kind === 'madvise') yield* m.mapping.madviseDontneed(tk, cpu, mm, s, e);
    else yield* m.mapping.munmap(tk, cpu, mm, s, e); // munmap, or mmap MAP_FIXED over a mapping
  }

  /** sched_process_fork: the child, if it ran in the trace, is cloned (or, for kthreadd, spawned). */
  private *fork(parentTask: Task, parent: ReplayTask, childPid: number, time: number): Sim {
    const child = this.model.tasks.get(childPid);
    if (child === undefined || child.segments.length === 0) return;
    this.st.forks.value++;
    this.st.tasks.value++;
    const cpu = child.segments[0].cpu;
    const name = `${child.comm}-${child.pid}`;
    if (parentTask.mm === null || child.kernelThread) {
      yield* this.m.sched.spawnTask(parentTask, name, null, cpu, this.body(child), this.cpuSets[cpu]);
      return;
    }
    yield* this.m.procs.clone(parentTask, cloneKind(parent, child, time), name, this.body(child), { cpu, allowed: this.cpuSets[cpu] });
  }

  private mapOf(mm: Mm): AddressMap {
    let map = this.maps.get(mm.ctxId);
    if (map === undefined) this.maps.set(mm.ctxId, (map = new AddressMap(SLOTS, this.st.clipped)));
    return map;
  }
}

/**
 * The clone kind the trace implies: a thread when the tgids agree; a vfork when the parent
 * switched out in D after the fork and the child exec'd before the parent ran again; else fork.
 */
export function cloneKind(parent: ReplayTask, child: ReplayTask, forkTime: number): CloneKind {
  if (child.tgid !== null && child.tgid === parent.tgid) return 'thread';
  const i = parent.segments.findIndex((s) => s.start <= forkTime && forkTime <= s.end);
  const seg = parent.segments[i];
  const resumed = parent.segments[i + 1]?.start ?? Infinity;
  const exec = child.segments.flatMap((s) => s.ops).find((o) => o.kind === 'exec');
  if (seg !== undefined && seg.endState === 'D' && exec !== undefined && exec.time <= resumed) return 'vfork';
  return 'fork';
}
