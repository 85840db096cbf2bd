import * as fs from 'fs';
import * as path from 'path';
import { ParseError } from '../../../lib/errors';
import { MAX_SKIP_MESSAGES, parseTrace, type ParsedTrace } from '../../../bench/replay/parse-trace';
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

describe('line forms', () => {
  const parse = (text: string): ParsedTrace => parseTrace(text, 'trace.txt');

  test('sched_switch: kernel, old numeric (no ==>) and the trace-cmd plugin form', () => {
    const trace = parse(
      [
        'version = 6',
        'cpus=6',
        '           <...>-1701  [001]    76.211513: sched_switch:          prev_comm=trace-cmd prev_pid=1701 prev_prio=120 prev_state=64 next_comm=swapper/1 next_pid=0 next_prio=120',
        '   kworker/u12:1-46    [002]    76.211715: sched_switch:          prev_comm=kworker/u12:1 prev_pid=46 prev_prio=120 prev_state=4096 next_comm=sh next_pid=1642 next_prio=120',
        '              sh-1642  [002]    76.211716: sched_switch:          prev_comm=sh prev_pid=1642 prev_prio=120 prev_state=130 ==> next_comm=sh next_pid=1642 next_prio=120',
        '              sh-1642  [002]    76.211717: sched_switch:          prev_comm=sh prev_pid=1642 prev_prio=120 prev_state=32 next_comm=sh next_pid=1643 next_prio=120',
        '          <idle>-0     [002]  2084.021659: sched_switch:         swapper/2:0 [120] R ==> kworker/2:1:2923 [120]',
        '     kworker/2:1-2923  [002]  2084.021765: sched_switch:         kworker/2:1:2923 [120] D|W ==> swapper/2:0 [120]',
        '     gnome-shell-1746  [002] d... 26186.336663: sched_switch: prev_comm=gnome-shell prev_pid=1746 prev_prio=120 prev_state=R+ ==> next_comm=kworker/2:0H next_pid=24678 next_prio=100',
      ].join('\n'),
    );
    const s = only(trace, 'sched_switch').map((e) => [e.prevComm, e.prevPid, e.prevStateText, e.prevState, e.prevStateRaw, e.nextComm, e.nextPid]);
    expect(s).toEqual([
      ['trace-cmd', 1701, '64', 'x', 64, 'swapper/1', 0],
      ['kworker/u12:1', 46, '4096', 'R+', 4096, 'sh', 1642],
      ['sh', 1642, '130', 'D|K', 130, 'sh', 1642],
      ['sh', 1642, '32', 'Z', 32, 'sh', 1643],
      ['swapper/2', 0, 'R', 'R', null, 'kworker/2:1', 2923],
      ['kworker/2:1', 2923, 'D|W', 'D|I', null, 'swapper/2', 0],
      ['gnome-shell', 1746, 'R+', 'R+', null, 'kworker/2:0H', 24678],
    ]);
    expect(trace.events[1]).toMatchObject({ comm: 'kworker/u12:1', pid: 46 });
    expect(trace.cpus).toBe(6);
  });

  test('an unknown plugin state letter is an error', () => {
    expect(() => parse('  a-1 [000] 1.0: sched_switch: a:1 [120] Q ==> b:2 [120]')).toThrow(/trace\.txt:1: expected .* in sched_switch, got 'a:1 \[120\] Q ==> b:2 \[120\]'/);
  });

  test('wakeups: kernel form with and without success, plugin form, `=` and spaces in the comm', () => {
    const trace = parse(
      [
        '  a-1 [003] d... 1.000001: sched_waking: comm=x=y pid=5 prio=120 target_cpu=001',
        '  a-1 [003] d... 1.000002: sched_wakeup: comm=rs:main Q:Reg pid=6 prio=120 success=1 target_cpu=002',
        '  a-1 [003] 1.000003: sched_wakeup_new: Web Content:7 [120] success=1 CPU:003',
        '  a-1 [003] 1.000004: sched_wakeup: kworker/2:1:2923 [120] CPU:000',
      ].join('\n'),
    );
    expect(trace.events.map((e) => e.kind === 'sched_waking' || e.kind === 'sched_wakeup' || e.kind === 'sched_wakeup_new' ? [e.kind, e.taskComm, e.taskPid, e.targetCpu, e.success] : [])).toEqual([
      ['sched_waking', 'x=y', 5, 1, null],
      ['sched_wakeup', 'rs:main Q:Reg', 6, 2, true],
      ['sched_wakeup_new', 'Web Content', 7, 3, true],
      ['sched_wakeup', 'kworker/2:1', 2923, 0, null],
    ]);
  });

  test('migrate (with a trailing running=), fork, exec with a space, exit', () => {
    const trace = parse(
      [
        '  sshd-2928  [005]  2084.200966: sched_migrate_task:   comm=kworker/u12:4 pid=310 prio=120 orig_cpu=0 dest_cpu=5',
        '  sshd-2928  [005]  2084.200967: sched_migrate_task:   comm=a b pid=311 prio=100 orig_cpu=1 dest_cpu=2 running=1',
        '  sh-10 [000] 1.0: sched_process_fork: comm=sh pid=10 child_comm=sh child_pid=11',
        '  sh-11 [000] 1.1: sched_process_exec: filename=/usr/bin/my prog pid=11 old_pid=11',
        '  sh-11 [000] 1.2: sched_process_exit: comm=my prog pid=11 prio=120 group_dead=false',
      ].join('\n'),
    );
    expect(trace.events.map(({ line, cpu, time, comm, pid, tgid, ...fields }) => fields)).toEqual([
      { kind: 'sched_migrate_task', taskComm: 'kworker/u12:4', taskPid: 310, prio: 120, origCpu: 0, destCpu: 5 },
      { kind: 'sched_migrate_task', taskComm: 'a b', taskPid: 311, prio: 100, origCpu: 1, destCpu: 2 },
      { kind: 'sched_process_fork', parentComm: 'sh', parentPid: 10, childComm: 'sh', childPid: 11 },
      { kind: 'sched_process_exec', filename: '/usr/bin/my prog', taskPid: 11, oldPid: 11 },
      { kind: 'sched_process_exit', taskComm: 'my prog', taskPid: 11, prio: 120, groupDead: false },
    ]);
  });

  test('tlb_flush: numeric code first, missing strings, plugin form, string fallback', () => {
    const trace = parse(
      [
        '|  bash-1108    [000] d..31    73.951222: tlb_flush: pages:1 reason:local mm shootdown (3)'.slice(1),
        '    stress-ng-2864907 [012] d... 17006.430111: tlb_flush: pages:-1 reason:flush on task switch (0)',
        '  a-1 [000] 1.0: tlb_flush: pages=-1 reason= (4)',
        '  a-1 [000] 1.1: tlb_flush: pages:0 reason:0x5 (5)',
        '  a-1 [000] 1.2: tlb_flush: pages:3 reason:Remote IPI send',
        '  a-1 [000] 1.3: tlb_flush: pages:0 reason:remote wrong cpu',
      ].join('\n'),
    );
    expect(only(trace, 'tlb_flush').map((f) => [f.pages, f.reason, f.reasonText])).toEqual([
      [1, 3, 'local mm shootdown'],
      [-1, 0, 'flush on task switch'],
      [-1, 4, ''],
      [0, 5, '0x5'],
      [3, 4, 'Remote IPI send'],
      [0, 5, 'remote wrong cpu'],
    ]);
    expect(trace.events[0]).toMatchObject({ comm: 'bash', pid: 1108, cpu: 0, time: 73.951222 });
    expect(trace.events[1]).toMatchObject({ comm: 'stress-ng', pid: 2864907, cpu: 12 });
  });

  test('the tgid column: a number, (-------), or absent', () => {
    const trace = parse(
      [
        '       tlbflush1-19970 (  19967) [001]  1062.186382529: tlb_flush:            pages:32 reason:remote shootdown (1)',
        '          <idle>-0     (-------) [001] d..2.  1062.186382600: reschedule_entry: vector=253',
        '     Web Content-2711  [003] d... 26186.336632: reschedule_exit: vector=253',
      ].join('\n'),
    );
    expect(trace.events.map((e) => [e.comm, e.pid, e.tgid, e.time])).toEqual([
      ['tlbflush1', 19970, 19967, 1062.186382529],
      ['<idle>', 0, null, 1062.1863826],
      ['Web Content', 2711, null, 26186.336632],
    ]);
    expect(trace.events.map((e) => e.kind)).toEqual(['tlb_flush', 'reschedule_entry', 'reschedule_exit']);
    expect(trace.format).toBe('trace-cmd');
  });

  test('the kernel trace file: # header, #P:, 5 flag characters', () => {
    const trace = parse(
      [
        '# tracer: nop',
        '#',
        '# entries-in-buffer/entries-written: 3/3   #P:8',
        '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
        '            bash-1108    [000] d..31    73.951222: tlb_flush: pages:1 reason:local mm shootdown (3)',
        '            bash-1108    [000] .....    73.951300: call_function_entry: vector=252',
        '            bash-1108    [000] .....    73.951301: call_function_exit: vector=252',
      ].join('\n'),
    );
    expect([trace.format, trace.cpus, trace.events.length]).toEqual(['ftrace', 8, 3]);
    expect(only(trace, 'call_function_entry')[0]).toMatchObject({ vector: 252, line: 6 });
  });

  test('perf script: system prefix stripped, PID/TID, comm with spaces', () => {
    const trace = parse(
      [
        '         swapper     0 [002]  9113.660136: sched:sched_switch: prev_comm=swapper/2 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=perf next_pid=77 next_prio=120',
        '     Web Content  2711/2745 [003]  9113.660200: syscalls:sys_enter_munmap: addr: 0x7f13f8c4f000, len: 0x00008773',
        '            perf    77 [002]  9113.660300: tlb:tlb_flush: pages:-1 reason:flush on task switch (0)',
        '            perf    77 [002]  9113.660400: irq_vectors:reschedule_entry: vector=253',
      ].join('\n'),
    );
    expect(trace.format).toBe('perf');
    expect(trace.events.map((e) => [e.kind, e.comm, e.pid, e.tgid, e.cpu])).toEqual([
      ['sched_switch', 'swapper', 0, null, 2],
      ['sys_enter_munmap', 'Web Content', 2745, 2711, 3],
      ['tlb_flush', 'perf', 77, null, 2],
      ['reschedule_entry', 'perf', 77, null, 2],
    ]);
    expect(trace.events[1]).toMatchObject({ addr: 0x7f13f8c4f000, len: 0x8773 });
    expect([...trace.counts.keys()]).toEqual(['sched_switch', 'sys_enter_munmap', 'tlb_flush', 'reschedule_entry']);
  });

  test('the latency format', () => {
    const trace = parse('  <idle>-0       1d...2.. 2563695126us : tlb_flush: pages:0 reason:flush on task switch (0)');
    expect(trace.events[0]).toMatchObject({ kind: 'tlb_flush', comm: '<idle>', pid: 0, cpu: 1, time: 2563.695126, pages: 0, reason: 0 });
  });

  test('syscalls: the format-file form, the kernel trace-file form, madvise len_in or len', () => {
    const trace = parse(
      [
        '  a-1 [000] .... 1.0: sys_munmap(addr: 7f13f8c4f000, len: 8773)',
        '  a-1 [000] .... 1.1: sys_munmap -> 0x0',
        '  a-1 [000] 1.2: sys_enter_madvise: start: 0x7f0000000000, len_in: 0x00020000, behavior: 0x00000004',
        '  a-1 [000] 1.3: sys_enter_madvise: start: 0x7f0000000000, len: 0x00001000, behavior: 0x00000008',
        '  a-1 [000] 1.4: sys_enter_mprotect: start: 0x55a527301000, len: 0x00002000, prot: 0x00000001',
      ].join('\n'),
    );
    expect(trace.events.map(({ line, cpu, time, comm, pid, tgid, ...fields }) => fields)).toEqual([
      { kind: 'sys_enter_munmap', addr: 0x7f13f8c4f000, len: 0x8773 },
      { kind: 'other', name: 'sys_exit_munmap', body: '0x0' },
      { kind: 'sys_enter_madvise', start: 0x7f0000000000, len: 0x20000, behavior: 4 },
      { kind: 'sys_enter_madvise', start: 0x7f0000000000, len: 0x1000, behavior: 8 },
      { kind: 'sys_enter_mprotect', start: 0x55a527301000, len: 0x2000, prot: 1 },
    ]);
  });

  test('IPIs: cpumask as hex words or a list, module symbols with a space', () => {
    const trace = parse(
      [
        '  a-1 [000] 1.0: ipi_send_cpumask: cpumask=00000000,00000006 callsite=smp_call_function_many_cond+0x1a5 callback=generic_smp_call_function_interrupt+0x0',
        '  a-1 [000] 1.1: ipi_send_cpumask: cpumask=1-2,5 callsite=native_send_call_func_ipi+0x2 callback=0x0',
        '  a-1 [000] 1.2: ipi_send_cpumask: cpumask=00000001,00000000 callsite=x+0x1 callback=0x0',
        '  a-1 [000] 1.3: ipi_send_cpu: cpu=3 callsite=kvm_vcpu_kick+0x5a/0x90 [kvm] callback=0x0',
      ].join('\n'),
    );
    expect(only(trace, 'ipi_send_cpumask').map((e) => e.targetCpus)).toEqual([[1, 2], [1, 2, 5], [32]]);
    expect(only(trace, 'ipi_send_cpu')[0]).toMatchObject({ targetCpu: 3, callsite: 'kvm_vcpu_kick+0x5a/0x90 [kvm]', callback: '0x0' });
  });

  test('headers without events, an empty text, lost events, CRLF', () => {
    expect(parse('')).toMatchObject({ events: [], cpus: 0, outOfOrder: 0, skipped: { count: 0 } });
    expect(parse('version = 6\ncpus=4\nCPU 3 is empty\n')).toMatchObject({ format: 'trace-cmd', cpus: 4, events: [] });
    const lost = parse('CPU:2 [LOST 1234 EVENTS]\nCPU:7 [204600 EVENTS DROPPED]\nCPU:1 [EVENTS DROPPED]\n');
    expect(lost.lost).toEqual({ reports: 3, events: 205834 });
    const crlf = parse('  a-1 [000] 1.0: reschedule_entry: vector=253\r\n  a-1 [000] 1.1: reschedule_exit: vector=253\r\n');
    expect(crlf.events.map((e) => e.kind)).toEqual(['reschedule_entry', 'reschedule_exit']);
  });
});

describe('errors', () => {
  const bad = ['  a-1 [000] 1.0: reschedule_entry: vector=253', '  a-1 [000] 1.1: reschedule_exit: vector=253', '  a-1 [000] 1.2: tlb_flush: pages:x'].join('\n');

  test('strict: a malformed decoded event names file, line, expected form and the text', () => {
    expect(() => parseTrace(bad, 'trace.txt')).toThrow(new ParseError('trace.txt', 3, "expected 'pages:N reason:TEXT (CODE)' in tlb_flush, got 'pages:x'"));
    try {
      parseTrace(bad, 'trace.txt');
    } catch (e) {
      expect((e as Error).message).toBe("trace.txt:3: expected 'pages:N reason:TEXT (CODE)' in tlb_flush, got 'pages:x'");
      expect((e as Error).message).not.toContain('\n');
    }
  });

  test('strict: a line with no known prefix', () => {
    expect(() => parseTrace('hello world\n', 'trace.txt')).toThrow(
      "trace.txt:1: expected 'COMM-PID [CPU] TIMESTAMP: EVENT: FIELDS' (ftrace, trace-cmd) or 'COMM PID [CPU] TIMESTAMP: SYSTEM:EVENT: FIELDS' (perf), got 'hello world'",
    );
  });

  test('lenient: malformed lines are skipped and counted, the first messages kept', () => {
    const trace = parseTrace(bad, 'trace.txt', { lenient: true });
    expect(trace.events).toHaveLength(2);
    expect(trace.skipped).toEqual({ count: 1, messages: ["trace.txt:3: expected 'pages:N reason:TEXT (CODE)' in tlb_flush, got 'pages:x'"] });
    const many = Array.from({ length: MAX_SKIP_MESSAGES + 5 }, (_, i) => `  a-1 [000] 1.${i}: reschedule_entry: vector=x`).join('\n');
    const skipped = parseTrace(many, 'm.txt', { lenient: true }).skipped;
    expect(skipped.count).toBe(MAX_SKIP_MESSAGES + 5);
    expect(skipped.messages).toHaveLength(MAX_SKIP_MESSAGES);
    expect(skipped.messages[1]).toBe("m.txt:2: expected 'vector=N' in reschedule_entry, got 'vector=x'");
  });

  test('events we do not decode never fail', () => {
    const trace = parseTrace('  a-1 [000] 1.0: anything_at_all: !!! not key=value ::: at all\n', 'o.txt');
    expect(trace.events[0]).toMatchObject({ kind: 'other', name: 'anything_at_all', body: '!!! not key=value ::: at all' });
  });
});
