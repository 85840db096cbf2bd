/**
 * Parser for Linux kernel trace text, the input of trace replay: the kernel's own `trace` file
 * (ftrace), `trace-cmd report` and `perf script` output, told apart line by line. Text in, typed
 * events out (bench/replay/trace-events.ts); what the events mean is the replayer's business.
 *
 * A line that does not parse, or an event we decode whose fields have none of their known forms,
 * throws a ParseError naming file, line and the expected form; with `lenient` it is skipped and
 * counted instead. Events we do not decode never fail: they become `other` records.
 */
import { ParseError } from '../../lib/errors';
import { MAX_CPUS } from '../../lib/machine/topology';
import { clip, decodeEvent } from './parse-fields';
import type { TraceEvent, TraceEventBase } from './trace-events';

export type TraceFormat = 'ftrace' | 'trace-cmd' | 'perf';

export interface ParseOptions {
  /** Skip and count malformed lines instead of throwing. */
  lenient?: boolean;
}

export interface ParsedTrace {
  /** From the header (`cpus=`, `version =`, `# tracer:`) or else the first event line. */
  format: TraceFormat;
  /** trace-cmd's `cpus=N`, else ftrace's `#P:N`, else 1 + the highest CPU of any event. */
  cpus: number;
  /** The line `cpus` comes from: the header's, else the first event on the highest CPU (0 without either). */
  cpusLine: number;
  /** In file order, which is not always time order (see outOfOrder). */
  events: TraceEvent[];
  /** Events per name (the kind, or an `other` record's name). */
  counts: Map<string, number>;
  /** Events whose timestamp is earlier than that of the event before them in the file. */
  outOfOrder: number;
  /** Lines skipped in lenient mode, and the first MAX_SKIP_MESSAGES of their messages. */
  skipped: { count: number; messages: string[] };
  /** Reports of lost events (`CPU:N [LOST N EVENTS]`, trace-cmd `[N EVENTS DROPPED]`) and the events they count. */
  lost: { reports: number; events: number };
}

export const MAX_SKIP_MESSAGES = 10;

/*
 * Line prefixes. Each is one regex, so a line costs one match for its prefix and one for its
 * fields. A comm may hold spaces and dashes ("Web Content-2711", "memfd:sealed-91-16812"): the lazy
 * `(.+?)-(\d+)` only succeeds where the rest of the prefix follows, i.e. at the last '-' before it.
 */

/**
 * Kernel `trace` file (kernel/trace/trace_output.c: "%16s-%-7d", with record-tgid "(%7d)" or
 * "(-------)", "[%03d]", the latency flags, then the timestamp) and `trace-cmd report` (same shape,
 * usually without flags). Flags are 4 characters, 5 since 5.13 (migrate-disable). The kernel's
 * syscall events print `sys_NAME(args)` and `sys_NAME -> 0xRET` instead of `name: fields`.
 */
const TASK_LINE =
  /^\s*(.+?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:([^\s:[\]]{4,5})\s+)?(\d+\.\d+):\s+(\w+)(:\s*|\(| -> )(.*)$/;

/** `perf script` (tools/perf/builtin-script.c): "COMM TID [CPU] TIME: SYSTEM:EVENT: FIELDS", or "COMM PID/TID ...". */
const PERF_LINE = /^\s*(.+?)\s+(\d+)(?:\/(\d+))?\s+\[(\d+)\]\s+(\d+\.\d+):\s+\w+:(\w+):\s*(.*)$/;

/** The `latency-format` option: "COMM-PID CPU#FLAGS TIMEus[MARK]: EVENT: FIELDS", timestamps in microseconds. */
const LATENCY_LINE = /^\s*(.+?)-(\d+)\s+(\d+)[^\s\d]\S*\s+(\d+)us\S?\s*:\s+(\w+)(:\s*|\(| -> )(.*)$/;

const TRACE_CMD_HEADER = /^(?:version = \d+|CPU \d+ is empty)$/;
const CPUS_HEADER = /^cpus=(\d+)$/;
const FTRACE_CPUS = /#P:(\d+)/;
/** kernel/trace/trace.c print_trace_line and trace-cmd's trace-read.c. */
const LOST_EVENTS = /^CPU:\s*\d+ \[(?:LOST (\d+) EVENTS|(\d+) EVENTS DROPPED|EVENTS DROPPED)\]$/;

const EXPECTED_LINE =
  "expected 'COMM-PID [CPU] TIMESTAMP: EVENT: FIELDS' (ftrace, trace-cmd) or 'COMM PID [CPU] TIMESTAMP: SYSTEM:EVENT: FIELDS' (perf)";

/** A line's prefix, split off before the event's fields are decoded. */
interface LineParts {
  base: TraceEventBase;
  name: string;
  body: string;
  format: TraceFormat;
}

export function parseTrace(text: string, fileName: string, options: ParseOptions = {}): ParsedTrace {
  const events: TraceEvent[] = [];
  const counts = new Map<string, number>();
  const skipped = { count: 0, messages: [] as string[] };
  const lost = { reports: 0, events: 0 };
  let format: TraceFormat | undefined;
  let header: { cpus: number; line: number } | undefined;
  let maxCpu = -1;
  let maxCpuLine = 0;
  let outOfOrder = 0;
  let lastTime = -Infinity;

  const fail = (line: number, detail: string): void => {
    if (!options.lenient) throw new ParseError(fileName, line, detail);
    if (skipped.count++ < MAX_SKIP_MESSAGES) skipped.messages.push(`${fileName}:${line}: ${detail}`);
  };

  /*
   * A header's CPU count is what the replay builds, so the events must keep within it: a header
   * of no CPU or fewer than an event before it names, or an event beyond it, is malformed (and,
   * lenient, left out) rather than silently replayed on the wrong machine. Neither may go past
   * the CPUs a machine can have, which the reconstruction allocates per CPU.
   */
  const setHeader = (cpus: number, line: number, text: string): void => {
    if (cpus < 1) fail(line, `${text}: expected at least one CPU`);
    else if (cpus > MAX_CPUS) fail(line, `${text}: more CPUs than a machine can have (${MAX_CPUS})`);
    else if (cpus <= maxCpu) fail(line, `${text}, but line ${maxCpuLine} has an event on CPU ${maxCpu}`);
    else header = { cpus, line };
  };

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      if (trimmed.startsWith('# tracer:')) format ??= 'ftrace';
      const p = FTRACE_CPUS.exec(trimmed);
      if (p !== null && header === undefined) setHeader(Number(p[1]), lineNo, p[0]);
      continue;
    }
    const cpusHeader = CPUS_HEADER.exec(trimmed);
    if (cpusHeader !== null || TRACE_CMD_HEADER.test(trimmed)) {
      format ??= 'trace-cmd';
      if (cpusHeader !== null) setHeader(Number(cpusHeader[1]), lineNo, cpusHeader[0]);
      continue;
    }
    const lostEvents = LOST_EVENTS.exec(trimmed);
    if (lostEvents !== null) {
      lost.reports++;
      lost.events += Number(lostEvents[1] ?? lostEvents[2] ?? 0);
      continue;
    }

    const parts = splitLine(line, lineNo);
    if (typeof parts === 'string') {
      fail(lineNo, parts);
      continue;
    }
    const event = decodeEvent(parts.name, parts.body, parts.base);
    if (typeof event === 'string') {
      fail(lineNo, event);
      continue;
    }
    if (header !== undefined && event.cpu >= header.cpus) {
      fail(lineNo, `an event on CPU ${event.cpu}, but the header at line ${header.line} gives ${header.cpus} CPUs`);
      continue;
    }
    if (event.cpu >= MAX_CPUS) {
      fail(lineNo, `an event on CPU ${event.cpu}, beyond the ${MAX_CPUS} CPUs a machine can have`);
      continue;
    }
    format ??= parts.format;
    events.push(event);
    const name = event.kind === 'other' ? event.name : event.kind;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (event.cpu > maxCpu) [maxCpu, maxCpuLine] = [event.cpu, lineNo];
    if (event.time < lastTime) outOfOrder++;
    lastTime = event.time;
  }

  return {
    format: format ?? 'ftrace',
    cpus: header?.cpus ?? maxCpu + 1,
    cpusLine: header?.line ?? maxCpuLine,
    events,
    counts,
    outOfOrder,
    skipped,
    lost,
  };
}

/** The prefix fields of an event line, or an error detail when it has none of the known shapes. */
function splitLine(line: string, lineNo: number): LineParts | string {
  const t = TASK_LINE.exec(line);
  if (t !== null) {
    const tgid = t[3] === undefined || t[3].startsWith('-') ? null : Number(t[3]);
    const base = { line: lineNo, cpu: Number(t[4]), time: Number(t[6]), comm: t[1]!, pid: Number(t[2]), tgid };
    return eventParts(base, t[7]!, t[8]!, t[9]!, t[5] === undefined ? 'trace-cmd' : 'ftrace', line);
  }
  const p = PERF_LINE.exec(line);
  if (p !== null) {
    // "PID/TID": the thread is the task, the process its thread group.
    const [pid, tgid] = p[3] === undefined ? [Number(p[2]), null] : [Number(p[3]), Number(p[2])];
    const base = { line: lineNo, cpu: Number(p[4]), time: Number(p[5]), comm: p[1]!, pid, tgid };
    return { base, name: p[6]!, body: p[7]!, format: 'perf' };
  }
  const l = LATENCY_LINE.exec(line);
  if (l !== null) {
    const base = { line: lineNo, cpu: Number(l[3]), time: Number(l[4]) / 1e6, comm: l[1]!, pid: Number(l[2]), tgid: null };
    return eventParts(base, l[5]!, l[6]!, l[7]!, 'ftrace', line);
  }
  return `${EXPECTED_LINE}, got '${clip(line.trim())}'`;
}

/**
 * Name and fields after the timestamp. `name: fields` is the rule; the kernel's own syscall
 * printers (kernel/trace/trace_syscalls.c, print_syscall_enter/exit) write `sys_mmap(addr: 0, ...)`
 * and `sys_mmap -> 0x0`, which name the `sys_enter_mmap` / `sys_exit_mmap` events.
 */
function eventParts(
  base: TraceEventBase,
  name: string,
  separator: string,
  rest: string,
  format: TraceFormat,
  line: string,
): LineParts | string {
  if (separator.startsWith(':')) return { base, name, body: rest, format };
  const syscall = name.startsWith('sys_') ? name.slice(4) : '';
  if (syscall !== '' && separator === '(' && rest.endsWith(')')) {
    return { base, name: `sys_enter_${syscall}`, body: rest.slice(0, -1), format };
  }
  if (syscall !== '' && separator === ' -> ') return { base, name: `sys_exit_${syscall}`, body: rest, format };
  return `${EXPECTED_LINE}, got '${clip(line.trim())}'`;
}
