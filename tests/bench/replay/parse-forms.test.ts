/** The parser's line forms and its errors (parse.test.ts covers every shipped trace file). */
import { ParseError } from '../../../lib/errors';
import { MAX_SKIP_MESSAGES, parseTrace, type ParsedTrace } from '../../../bench/replay/parse-trace';
import type { TraceEvent } from '../../../bench/replay/trace-events';

function only<K extends TraceEvent['kind']>(trace: ParsedTrace, kind: K): Extract<TraceEvent, { kind: K }>[] {
  return trace.events.filter((e): e is Extract<TraceEvent, { kind: K }> => e.kind === kind);
}

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

  // Found by the fuzz test (tests/bench/replay/fuzz.test.ts): 'cpus=0' made every event vanish
  // (the replay then said no task ran), and an event beyond the header was dropped unnamed.
  test("a header's CPU count and the events' CPUs must agree: named at the line, lenient leaves it out", () => {
    const ev = (cpu: string) => `  a-1 [${cpu}] 1.0: reschedule_entry: vector=253`;
    expect(() => parseTrace(['cpus=0', ev('000')].join('\n'), 't.txt')).toThrow(new ParseError('t.txt', 1, 'cpus=0: expected at least one CPU'));
    expect(() => parseTrace(['cpus=2', ev('000'), ev('002')].join('\n'), 't.txt')).toThrow(new ParseError('t.txt', 3, 'an event on CPU 2, but the header at line 1 gives 2 CPUs'));
    expect(() => parseTrace(['# tracer: nop', ev('003'), '#P:2'].join('\n'), 't.txt')).toThrow(new ParseError('t.txt', 3, '#P:2, but line 2 has an event on CPU 3'));
    const lenient = parseTrace(['cpus=2', ev('000'), ev('002')].join('\n'), 't.txt', { lenient: true });
    expect(lenient).toMatchObject({ cpus: 2, cpusLine: 1, skipped: { count: 1 } });
    expect(lenient.events.map((e) => e.cpu)).toEqual([0]);
    // Without a header the CPUs are counted, from the first event on the highest.
    expect(parseTrace([ev('001'), ev('003'), ev('003')].join('\n'), 't.txt')).toMatchObject({ cpus: 4, cpusLine: 2 });
  });

  test('a CPU count past what a machine can have is named at its line', () => {
    // Found by the fuzz test (2000 runs, seed 7): 'cpus=90071992547409935' passed the parser and
    // the replay's per-CPU array threw 'RangeError: Invalid typed array length', exit 3.
    const ev = (cpu: string) => `  a-1 [${cpu}] 1.0: reschedule_entry: vector=253`;
    expect(() => parseTrace(['cpus=90071992547409935', ev('000')].join('\n'), 't.txt')).toThrow(
      new ParseError('t.txt', 1, 'cpus=90071992547409935: more CPUs than a machine can have (4096)'),
    );
    expect(() => parseTrace(ev('4096'), 't.txt')).toThrow(new ParseError('t.txt', 1, 'an event on CPU 4096, beyond the 4096 CPUs a machine can have'));
    expect(parseTrace([ev('000'), ev('999999999')].join('\n'), 't.txt', { lenient: true })).toMatchObject({ cpus: 1, skipped: { count: 1 } });
  });

  test('events we do not decode never fail', () => {
    const trace = parseTrace('  a-1 [000] 1.0: anything_at_all: !!! not key=value ::: at all\n', 'o.txt');
    expect(trace.events[0]).toMatchObject({ kind: 'other', name: 'anything_at_all', body: '!!! not key=value ::: at all' });
  });
});
