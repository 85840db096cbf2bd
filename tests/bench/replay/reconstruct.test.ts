import * as fs from 'fs';
import * as path from 'path';
import { kernelCounts } from '../../../bench/replay/kernel-counts';
import { parseTrace } from '../../../bench/replay/parse-trace';
import { forkOf, reconstruct } from '../../../bench/replay/reconstruct';
import { cloneKind } from '../../../bench/replay/replay-workload';

const TRACES = path.join(__dirname, '../../../bench/data/traces');

/** A small trace-cmd trace with a known story (times in seconds). */
const STORY = [
  'cpus=2',
  '            sh-100   ( 100) [000]  10.000100: sched_process_fork:   comm=sh pid=100 child_comm=sh child_pid=101',
  '            sh-100   ( 100) [000]  10.000200: sched_switch:         sh:100 [120] D ==> sh:101 [120]',
  '            sh-101   ( 101) [000]  10.000300: sys_enter_munmap:     addr: 0x7f0000001000, len: 0x00002000',
  '            sh-101   ( 101) [000]  10.000400: sched_process_exec:   filename=/bin/true pid=101 old_pid=101',
  '            sh-101   ( 101) [000]  10.000500: sched_switch:         true:101 [120] S ==> sh:100 [120]',
  '        <idle>-0     (   0) [001]  10.000600: sched_wakeup:         true:101 [120] CPU:001',
  '          true-101   ( 101) [001]  10.000700: sys_enter_mprotect:   start: 0x7f0000003000, len: 0x00001000, prot: 0x00000001',
  '          true-101   ( 101) [001]  10.000800: sched_process_exit:   comm=true pid=101 prio=120 group_dead=true',
  '          true-101   ( 101) [001]  10.000900: sched_switch:         true:101 [120] Z ==> swapper/1:0 [120]',
].join('\n');

describe('trace reconstruction', () => {
  test('per-task segments with their CPU, end state and ops; a missing switch-in is inferred', () => {
    const model = reconstruct(parseTrace(STORY, 'story.txt'));
    expect(model.cpus).toBe(2);
    const sh = model.tasks.get(100);
    const child = model.tasks.get(101);
    expect(sh?.segments.map((s) => [s.cpu, s.start, s.end, s.endState])).toEqual([[0, 10.0001, 10.0002, 'D'], [0, 10.0005, 10.0009, 'end']]);
    expect(sh?.segments[0].ops).toEqual([{ kind: 'fork', time: 10.0001, childPid: 101 }]);
    // CPU 1 never switched out of idle: the child's events there mean it ran from the first (10.000700).
    // (trace-cmd's plugin prints EXIT_DEAD as 'Z': the parser gives the kernel's letter, 'X'.)
    expect(child?.segments.map((s) => [s.cpu, s.start, s.end, s.endState])).toEqual([[0, 10.0002, 10.0005, 'S'], [1, 10.0007, 10.0009, 'X']]);
    expect(child?.segments[0].ops.map((o) => o.kind)).toEqual(['munmap', 'exec']);
    expect(child?.segments[1].ops.map((o) => o.kind)).toEqual(['mprotect', 'exit']);
    expect(model.inferred).toBe(1);
    expect(child?.parentPid).toBe(100);
    // The parent slept in D from the fork until after the child's exec: a vfork.
    const f = forkOf(model, child as NonNullable<typeof child>);
    expect(f?.time).toBe(10.0001);
    expect(cloneKind(sh as NonNullable<typeof sh>, child as NonNullable<typeof child>, 10.0001)).toBe('vfork');
  });

  test('events out of file order are taken in time order', () => {
    const model = reconstruct(parseTrace(fs.readFileSync(path.join(TRACES, 'trappy-trace_idle_unsorted.txt'), 'utf8'), 'unsorted', { lenient: true }));
    for (const t of model.tasks.values()) for (const s of t.segments) expect(s.end).toBeGreaterThanOrEqual(s.start);
  });
});

describe("the kernel's own counts", () => {
  test('x86-kvm-fork-exec-exit: the 31 flush IPIs and 581 remote-flush decisions its notes count', () => {
    const trace = parseTrace(fs.readFileSync(path.join(TRACES, 'x86-kvm-fork-exec-exit.txt'), 'utf8'), 'x86');
    const k = kernelCounts(trace.events, trace.cpus);
    expect(k.flushIpis).toBe(31);
    expect(k.remoteFlushes).toBe(581);
    // Every local-mm flush is one call, and a remote decision without its local partner is one more.
    expect(k.flushes).toBeGreaterThanOrEqual(7148);
    expect(k.flushes).toBeLessThanOrEqual(7148 + 581);
    expect(k.ipisPerFlush).toBeCloseTo(31 / (k.flushes as number), 4);
  });

  test('a trace without tlb_flush or csd events has no counts, not zeros', () => {
    const trace = parseTrace(fs.readFileSync(path.join(TRACES, 'tracecompass-trace-android-sched.txt'), 'utf8'), 'android');
    expect(kernelCounts(trace.events, trace.cpus)).toEqual({ flushes: null, remoteFlushes: null, flushIpis: null, ipisPerFlush: null });
  });
});
