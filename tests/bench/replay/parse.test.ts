import * as fs from 'fs';
import * as path from 'path';
import { ParseError } from '../../../lib/errors';
import { parseTrace, type ParsedTrace } from '../../../bench/replay/parse-trace';
import type { TraceEvent } from '../../../bench/replay/trace-events';

const DATA = path.join(__dirname, '../../../bench/data/traces');

function read(file: string): string {
  return fs.readFileSync(path.join(DATA, file), 'utf8');
}

function parseFile(file: string, lenient = false): ParsedTrace {
  return parseTrace(read(file), file, { lenient });
}

/** The record of one kind on a given line, with its type narrowed. */
function at<K extends TraceEvent['kind']>(trace: ParsedTrace, line: number, kind: K): Extract<TraceEvent, { kind: K }> {
  const event = trace.events.find((e) => e.line === line);
  expect(event?.kind).toBe(kind);
  return event as Extract<TraceEvent, { kind: K }>;
}

function only<K extends TraceEvent['kind']>(trace: ParsedTrace, kind: K): Extract<TraceEvent, { kind: K }>[] {
  return trace.events.filter((e): e is Extract<TraceEvent, { kind: K }> => e.kind === kind);
}

/**
 * grep-like reference counts, written without the parser's regexes: an event line is a line with
 * "[digits]" whose event name is the first word ending in ':' after the "seconds.fraction:" token.
 */
function grepCounts(text: string): { lines: number; byName: Map<string, number>; cpus: Set<number>; times: number[] } {
  const byName = new Map<string, number>();
  const cpus = new Set<number>();
  const times: number[] = [];
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const words = line.trim().split(/\s+/);
    const cpuWord = words.find((w) => /^\[\d+\]$/.test(w));
    const timeAt = words.findIndex((w) => /^\d+\.\d+:$/.test(w));
    if (cpuWord === undefined || timeAt < 0) continue;
    lines++;
    cpus.add(Number(cpuWord.slice(1, -1)));
    times.push(Number(words[timeAt]!.slice(0, -1)));
    const name = words[timeAt + 1]!.replace(/:$/, '');
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  return { lines, byName, cpus, times };
}

function descents(times: number[]): number {
  return times.filter((t, i) => i > 0 && t < times[i - 1]!).length;
}

describe('every trace in bench/data/traces', () => {
  const files = fs.readdirSync(DATA).filter((f) => f.endsWith('.txt') && !f.startsWith('LICENSE-'));

  test('the directory holds the traces this suite knows', () => {
    expect(files.sort()).toEqual([
      'tracecompass-trace-android-sched-irq-syscall.txt',
      'tracecompass-trace-android-sched-irq.txt',
      'tracecompass-trace-android-sched.txt',
      'tracecompass-trace-critical-path.txt',
      'trappy-trace_empty.txt',
      'trappy-trace_equals.txt',
      'trappy-trace_failed_to_parse.txt',
      'trappy-trace_idle_unsorted.txt',
      'trappy-trace_no_trailing_line.txt',
      'trappy-trace_sched.txt',
      'x86-kvm-fork-exec-exit.txt',
    ]);
  });

  test.each(files)('%s: event and per-name counts match a grep of the file', (file) => {
    const text = read(file);
    const grep = grepCounts(text);
    // The unsorted file ends in a cut-off sched_switch, skipped here (tested below).
    const cutOff = file === 'trappy-trace_idle_unsorted.txt' ? 1 : 0;
    const trace = parseFile(file, cutOff > 0);
    expect(trace.skipped.count).toBe(cutOff);
    expect(trace.events.length + cutOff).toBe(grep.lines);
    const counts = new Map(trace.counts);
    if (cutOff > 0) counts.set('sched_switch', counts.get('sched_switch')! + cutOff);
    expect(counts).toEqual(grep.byName);
    expect(trace.events.map((e) => e.line)).toEqual([...trace.events.map((e) => e.line)].sort((a, b) => a - b));
  });
});

describe('x86-kvm-fork-exec-exit.txt against the counts published in its .md', () => {
  const file = 'x86-kvm-fork-exec-exit.txt';
  const md = read('x86-kvm-fork-exec-exit.md');
  const trace = parseFile(file);

  /** The rows `| a | b | ... |` of the markdown table right after `heading`, as cell arrays. */
  function table(heading: string): string[][] {
    const start = md.indexOf(heading);
    expect(start).toBeGreaterThanOrEqual(0);
    const rows: string[][] = [];
    for (const line of md.slice(start).split('\n').slice(1)) {
      if (line.startsWith('|')) rows.push(line.split('|').slice(1, -1).map((c) => c.trim().replace(/\*/g, '')));
      else if (rows.length > 0) break;
    }
    return rows.slice(2); // header and |---|
  }

  test('cpus=2, 21190 events, none skipped, none out of order, trace-cmd format', () => {
    expect(trace.format).toBe('trace-cmd');
    expect(trace.cpus).toBe(2);
    expect(trace.events).toHaveLength(21190);
    expect(trace.skipped).toEqual({ count: 0, messages: [] });
    expect(trace.outOfOrder).toBe(0);
    expect(trace.lost).toEqual({ reports: 0, events: 0 });
  });

  test('per-event and per-CPU counts', () => {
    const rows = table('Event counts per type and CPU:');
    expect(rows.length).toBe(20);
    for (const [name, total, cpu0, cpu1] of rows) {
      const events = name === 'all' ? trace.events : trace.events.filter((e) => (e.kind === 'other' ? e.name : e.kind) === name);
      expect([name, events.length]).toEqual([name, Number(total)]);
      expect([name, events.filter((e) => e.cpu === 0).length]).toEqual([name, Number(cpu0)]);
      expect([name, events.filter((e) => e.cpu === 1).length]).toEqual([name, Number(cpu1)]);
    }
    // The brief's figures, in case the table above ever stops parsing.
    expect(trace.counts.get('sched_switch')).toBe(1992);
    expect(trace.counts.get('ipi_send_cpu')).toBe(289);
    expect(trace.counts.get('csd_queue_cpu')).toBe(176);
    expect(trace.counts.get('sys_enter_mmap')).toBe(4413);
  });

  test('tlb_flush by numeric reason, CPU and pages', () => {
    const flushes = only(trace, 'tlb_flush');
    const rows = table('tlb_flush by reason');
    expect(rows.map((r) => r[0]!.split(' ')[0])).toEqual(['0', '1', '2', '3', '4', '5']);
    for (const [label, total, cpu0, cpu1, full, zero, ranged] of rows) {
      const of = flushes.filter((f) => f.reason === Number(label!.split(' ')[0]));
      expect([label, of.length, of.filter((f) => f.cpu === 0).length, of.filter((f) => f.cpu === 1).length]).toEqual([
        label,
        Number(total),
        Number(cpu0),
        Number(cpu1),
      ]);
      expect([label, of.filter((f) => f.pages === -1).length, of.filter((f) => f.pages === 0).length]).toEqual([
        label,
        Number(full),
        Number(zero),
      ]);
      expect([label, of.filter((f) => f.pages > 0).length]).toEqual([label, Number(ranged)]);
    }
    const byReason = [0, 1, 2, 3, 4, 5].map((r) => flushes.filter((f) => f.reason === r).length);
    expect(byReason).toEqual([1791, 0, 0, 7148, 581, 33]);
  });

  test('IPI sends by callback and callsite, csd_queue_cpu by function', () => {
    const sends = only(trace, 'ipi_send_cpu');
    const tally = (values: string[]): Record<string, number> =>
      values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});
    const published = (heading: string): Record<string, number> =>
      Object.fromEntries(table(heading).map((r) => [r[1]!, Number(r[2])]));
    expect(tally(sends.map((s) => s.callback))).toEqual(published('IPI send events, raw `callback=` field'));
    expect(tally(sends.map((s) => s.callsite))).toEqual(published('IPI send events by callsite:'));
    const queued = Object.fromEntries(table('csd_queue_cpu by function').map((r) => [r[0]!, Number(r[1])]));
    expect(tally(only(trace, 'csd_queue_cpu').map((c) => c.func))).toEqual(queued);
  });

  test('threads, time span and idle switches', () => {
    expect(new Set(trace.events.map((e) => e.pid)).size).toBe(384);
    expect(new Set(trace.events.map((e) => e.tgid)).size).toBe(384);
    expect(trace.events[0]!.time).toBeCloseTo(1063.620923, 6);
    expect(trace.events[trace.events.length - 1]!.time).toBeCloseTo(1064.057465, 6);
    const switches = only(trace, 'sched_switch');
    const intoIdle = (cpu: number) => switches.filter((s) => s.cpu === cpu && s.nextPid === 0).length;
    const outOfIdle = (cpu: number) => switches.filter((s) => s.cpu === cpu && s.prevPid === 0).length;
    expect([intoIdle(0), intoIdle(1), outOfIdle(0), outOfIdle(1)]).toEqual([124, 199, 125, 0]);
  });

  test('the .md sample lines decode to their own text', () => {
    const block = md.slice(md.indexOf('Sample lines (first 3'));
    const samples = block.slice(block.indexOf('```\n') + 4, block.indexOf('\n```', block.indexOf('```\n') + 4)).split('\n');
    const present = table('Event counts per type and CPU:').filter((r) => r[0] !== 'all' && Number(r[1]) > 0);
    expect(samples.length).toBe(3 * present.length);
    const byText = new Map(read(file).split('\n').map((l, i) => [l, i + 1]));
    for (const sample of samples) {
      const line = byText.get(sample)!;
      const event = trace.events.find((e) => e.line === line)!;
      const words = sample.trim().split(/\s+/);
      expect(event.time).toBe(Number(words.find((w) => /^\d+\.\d{9}:$/.test(w))!.slice(0, -1)));
      expect(`${event.comm}-${event.pid}`).toBe(sample.slice(0, sample.indexOf(' (')).trim());
    }
  });

  test('the first lines, field by field', () => {
    expect(at(trace, 2, 'sched_wakeup')).toEqual({
      kind: 'sched_wakeup',
      line: 2,
      cpu: 1,
      time: 1063.620922636,
      comm: 'forkexec.sh',
      pid: 19981,
      tgid: 19981,
      taskComm: 'migration/1',
      taskPid: 21,
      prio: 0,
      targetCpu: 1,
      success: null,
    });
    expect(at(trace, 5, 'ipi_send_cpu')).toMatchObject({ targetCpu: 0, callsite: 'wakeup_preempt+0x55', callback: '0x0' });
    expect(at(trace, 7, 'tlb_flush')).toMatchObject({ pages: 0, reason: 0, reasonText: 'flush on task switch' });
    expect(at(trace, 13, 'csd_queue_cpu')).toMatchObject({
      targetCpu: 1,
      callsite: 'on_each_cpu_cond_mask+0x20',
      func: 'flush_tlb_func',
      csd: '0xffff888627d2e420',
    });
    expect(at(trace, 16, 'call_function_single_entry')).toMatchObject({ comm: '<idle>', pid: 0, tgid: 0, vector: 251 });
    expect(at(trace, 21, 'sched_process_exec')).toMatchObject({ filename: './forkexec.sh', taskPid: 19981, oldPid: 19981 });
    expect(at(trace, 27, 'sys_enter_mmap')).toMatchObject({ addr: 0, len: 0x2000, prot: 3, flags: 0x22, fd: 0xffffffff, off: 0 });
  });

  test('addresses above 2^32 stay exact', () => {
    const mprotect = only(trace, 'sys_enter_mprotect')[0]!;
    expect(mprotect).toMatchObject({ start: 0x7f13f8c3c000, len: 0x4000, prot: 1 });
    expect(only(trace, 'sys_enter_munmap')[0]).toMatchObject({ addr: 0x7f13f8c4f000, len: 0x8773 });
  });

  test("trace-cmd's plugin state letters become the kernel's: X is a zombie, W an idle kthread", () => {
    const switches = only(trace, 'sched_switch');
    const exits = only(trace, 'sched_process_exit');
    // Every exiting task switches out for the last time dead (zombie, or EXIT_DEAD when reaped).
    for (const exit of exits) {
      const last = switches.filter((s) => s.prevPid === exit.taskPid && s.time > exit.time).pop();
      expect([exit.taskPid, last?.prevState === 'Z' || last?.prevState === 'X']).toEqual([exit.taskPid, true]);
    }
    expect(exits.every((e) => e.groupDead === true)).toBe(true);
    const idle = switches.filter((s) => s.prevStateText === 'W');
    expect(idle.length).toBe(146);
    expect(idle.every((s) => s.prevState === 'I' && /^(kworker\/|rcu_preempt$)/.test(s.prevComm))).toBe(true);
    expect(at(trace, 1468, 'sched_switch')).toMatchObject({ comm: 'memfd:sealed-91', pid: 16812, prevComm: 'memfd:sealed-91' });
  });

  test('parses in well under a second', () => {
    const text = read(file);
    const start = process.hrtime.bigint();
    parseTrace(text, file);
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(1000);
  });
});

describe('the smaller traces', () => {
  test('tracecompass android sched-irq-syscall: raw sys_enter/sys_exit, #P:2, 4 flag characters', () => {
    const trace = parseFile('tracecompass-trace-android-sched-irq-syscall.txt');
    expect([trace.format, trace.cpus]).toEqual(['ftrace', 2]);
    expect(at(trace, 12, 'sys_enter')).toMatchObject({
      comm: 'Binder:2030_3',
      pid: 2053,
      tgid: null,
      cpu: 1,
      time: 652.762396,
      nr: 172,
      args: ['29', 'c350', '805', 'ffffffff', '81', 'a508c6e8'],
    });
    expect(at(trace, 13, 'sys_exit')).toMatchObject({ nr: 172, ret: 0 });
    expect(at(trace, 28, 'sys_exit')).toMatchObject({ nr: 295, ret: -2 });
    expect(at(trace, 23, 'sched_switch')).toMatchObject({ prevComm: 'Binder:2030_3', nextComm: 'IntentService[E', nextPid: 3866 });
    expect(at(trace, 24, 'sys_exit')).toMatchObject({ comm: 'IntentService[E', pid: 3866 });
  });

  test('tracecompass android sched-irq: <...> owners, R+ and irq-context flags', () => {
    const trace = parseFile('tracecompass-trace-android-sched-irq.txt');
    expect(trace.cpus).toBe(2);
    expect(at(trace, 12, 'sched_wakeup')).toMatchObject({ comm: '<...>', pid: 1252, taskComm: 'android.display', success: true, targetCpu: 0 });
    expect(at(trace, 15, 'sched_switch')).toMatchObject({ prevComm: 'logd.auditd', prevPrio: 130, prevState: 'R+', prevStateRaw: null, nextPid: 1338 });
    expect(at(trace, 18, 'other')).toMatchObject({ name: 'softirq_raise', body: 'vec=1 [action=TIMER]' });
  });

  test('tracecompass android sched: #P:4 and six-digit seconds', () => {
    const trace = parseFile('tracecompass-trace-android-sched.txt');
    expect(trace.cpus).toBe(4);
    expect(trace.events[0]).toMatchObject({ comm: 'sh', pid: 12958, cpu: 2, time: 365761.623995, taskComm: 'rcu_preempt' });
    expect(trace.events[trace.events.length - 1]).toMatchObject({ comm: 'ksoftirqd/1', taskComm: 'VosMCThread', prio: 118 });
  });

  test('tracecompass critical path: no #P (cpus from the events), comm with a space, sched_waking', () => {
    const text = read('tracecompass-trace-critical-path.txt');
    const trace = parseTrace(text, 'cp.txt');
    expect(trace.cpus).toBe(Math.max(...grepCounts(text).cpus) + 1);
    expect(at(trace, 11, 'sched_waking')).toMatchObject({ comm: 'Web Content', pid: 2711, taskComm: 'Timer', taskPid: 2745, targetCpu: 1, success: null });
    const webContentOut = trace.events.find((e) => e.kind === 'sched_switch' && e.prevComm === 'Web Content');
    expect(webContentOut).toMatchObject({ comm: 'Web Content', prevPid: 2711, prevState: 'S', nextComm: 'CompositorTileW' });
    expect(at(trace, 17, 'sched_switch')).toMatchObject({ comm: 'kworker/2:0H', pid: 24678, prevState: 'D' });
    expect(at(trace, 61, 'sched_switch')).toMatchObject({ prevState: 't' });
  });

  test('trappy empty: no event of trappy\'s classes; exit without group_dead; header cpus=5', () => {
    const trace = parseFile('trappy-trace_empty.txt');
    expect([trace.format, trace.cpus]).toEqual(['trace-cmd', 5]);
    expect(only(trace, 'sched_process_exit').map((e) => [e.taskComm, e.taskPid, e.prio, e.groupDead])).toEqual([
      ['trace-cmd', 2461, 120, null],
      ['bash', 2459, 120, null],
    ]);
    expect(trace.events.find((e) => e.kind === 'other' && e.body.startsWith('comm=rs:main Q:Reg'))).toBeDefined();
  });

  test('trappy equals: `=` inside values is kept in the body', () => {
    const trace = parseFile('trappy-trace_equals.txt');
    expect(trace.events.map((e) => (e.kind === 'other' ? e.body.split('equals_event: ')[1] : ''))).toEqual([
      'my_field=foo',
      'my_field=foo=bar',
      'my_field=foo=bar=baz',
      'my_field=1',
      'my_field=1=2',
      'my_field=1=foo',
      'my_field=1foo=2',
    ]);
    expect(trace.events[0]).toMatchObject({ comm: 'systemd-journal', pid: 1662, name: 'bputs' });
  });

  test('trappy failed_to_parse: [FAILED TO PARSE] bodies become `other`, nothing is skipped', () => {
    const trace = parseFile('trappy-trace_failed_to_parse.txt');
    expect(trace.skipped.count).toBe(0);
    expect(trace.events.every((e) => e.kind === 'other')).toBe(true);
    expect(at(trace, 2, 'other')).toMatchObject({ name: 'thermal_power_cpu_get_power', comm: 'kworker/5:2', pid: 1497 });
    // A decoded event the tracer could not format is not a malformed line either.
    const failed = parseTrace('  sh-1 [000] 1.000000: sched_switch: [FAILED TO PARSE] prev_comm=ARRAY[73]\n', 'f.txt');
    expect(failed.events[0]).toMatchObject({ kind: 'other', name: 'sched_switch' });
  });

  test('trappy idle_unsorted: out-of-order count, old numeric prev_state, and the cut-off last line', () => {
    const file = 'trappy-trace_idle_unsorted.txt';
    expect(() => parseFile(file)).toThrow(
      new ParseError(
        file,
        17,
        "expected 'prev_comm=COMM prev_pid=PID prev_prio=PRIO prev_state=STATE ==> next_comm=COMM next_pid=PID next_prio=PRIO' " +
          "or 'COMM:PID [PRIO] STATE ==> COMM:PID [PRIO]' in sched_switch, got 'prev_comm=bash prev_pid=14840'",
      ),
    );
    const trace = parseFile(file, true);
    expect(trace.skipped.count).toBe(1);
    expect(trace.skipped.messages[0]).toMatch(/^trappy-trace_idle_unsorted\.txt:17: expected /);
    const times = grepCounts(read(file)).times.slice(0, -1);
    expect(trace.outOfOrder).toBe(descents(times));
    expect(trace.outOfOrder).toBe(1);
    expect(trace.events.map((e) => e.time)).toEqual(times); // file order, not sorted
    expect(at(trace, 3, 'sched_switch')).toMatchObject({ comm: '<...>', prevComm: 'trace-cmd', prevStateRaw: 64, prevState: 'x', prevStateText: '64' });
    expect(at(trace, 5, 'sched_switch')).toMatchObject({ prevStateRaw: 256, prevState: 'W', nextComm: 'swapper/6' });
    expect(trace.cpus).toBe(8);
  });

  test('trappy no_trailing_line: the last line still parses', () => {
    const text = read('trappy-trace_no_trailing_line.txt');
    expect(text.endsWith('\n')).toBe(false);
    const trace = parseTrace(text, 'n.txt');
    expect(trace.format).toBe('ftrace');
    expect(trace.events).toHaveLength(10);
    expect(trace.events[9]).toMatchObject({ line: 10, kind: 'other', name: 'cpu_idle', body: 'state=4294967295 cpu_id=0' });
    expect(at(trace, 3, 'sched_switch')).toMatchObject({ comm: 'chrome', pid: 2804, cpu: 3, prevPrio: 112, nextComm: 'swapper/3' });
  });

  test('trappy sched: success=1 on sched_wakeup_new, cpus=6', () => {
    const trace = parseFile('trappy-trace_sched.txt');
    expect(trace.cpus).toBe(6);
    expect(only(trace, 'sched_wakeup_new')[0]).toMatchObject({ comm: '<...>', pid: 19427, taskComm: 'shutils', taskPid: 19428, success: true, targetCpu: 2 });
  });
});
