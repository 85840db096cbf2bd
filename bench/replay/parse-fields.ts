/**
 * Decoding of one event's fields (the text after `name:`) into a typed record. One anchored
 * regex per form, with greedy `(.*)` for strings, so a comm holding spaces, `=` or `:` ("Web
 * Content", "memfd:sealed-91") is split at the last separator that leaves a well-formed rest.
 */
import {
  schedMigrateTask,
  schedProcessExec,
  schedProcessExit,
  schedProcessFork,
  schedSwitch,
  wakeup,
} from './sched-fields';
import { TLB_FLUSH_REASONS, type Decoder, type IrqVectorEvent, type TraceEvent, type TraceEventBase } from './trace-events';

/** trace-cmd (libtraceevent) prints this instead of the fields when it cannot read the format. */
const FAILED_TO_PARSE = '[FAILED TO PARSE]';

/**
 * The record for event `name` with fields `body`, or an error detail when `name` is an event we
 * decode but `body` has none of its forms.
 */
export function decodeEvent(name: string, body: string, base: TraceEventBase): TraceEvent | string {
  const decoder = DECODERS.get(name);
  if (decoder === undefined || body.startsWith(FAILED_TO_PARSE)) return { kind: 'other', ...base, name, body };
  return decoder.decode(body, base) ?? `expected ${decoder.expected} in ${name}, got '${clip(body)}'`;
}

/** A field text or line shortened for an error message. */
export function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}

// ---- tlb_flush --------------------------------------------------------------------------------

// Kernel `pages:%ld reason:%s (%d)`; libtraceevent's tlb plugin `pages=%ld reason=%s (%d)`.
const TLB_FLUSH = /^pages[:=](-?\d+) reason[:=](.*?)(?: \((-?\d+)\))?$/;

const tlbFlush: Decoder = {
  expected: "'pages:N reason:TEXT (CODE)'",
  decode(body, base) {
    const m = TLB_FLUSH.exec(body);
    if (m === null) return null;
    const reasonText = m[2]!;
    // The code is what the kernel stored; the string is only a lookup of it, and has changed.
    const lower = reasonText.toLowerCase();
    const reason = m[3] !== undefined ? Number(m[3]) : TLB_FLUSH_REASONS.find((r) => r.text.toLowerCase() === lower)?.code;
    if (reason === undefined) return null;
    return { kind: 'tlb_flush', ...base, pages: Number(m[1]), reason, reasonText };
  },
};

// ---- syscalls ---------------------------------------------------------------------------------

/**
 * `name: 0x%08lx, ...` (the format file's print fmt), or `name: %lx, ...` inside the kernel
 * trace file's `sys_NAME(...)`: both match, the `0x` being optional.
 */
function syscallArgs(names: string[]): RegExp {
  return new RegExp(`^${names.map((n) => `(?:${n}): (?:0x)?([0-9a-f]+)`).join(', ')}$`);
}

const hex = (digits: string | undefined): number => parseInt(digits!, 16);

const MMAP = syscallArgs(['addr', 'len', 'prot', 'flags', 'fd', 'off']);
const MUNMAP = syscallArgs(['addr', 'len']);
const MPROTECT = syscallArgs(['start', 'len', 'prot']);
const MADVISE = syscallArgs(['start', 'len_in|len', 'behavior']);

const sysEnterMmap: Decoder = {
  expected: "'addr: 0xN, len: 0xN, prot: 0xN, flags: 0xN, fd: 0xN, off: 0xN'",
  decode(body, base) {
    const m = MMAP.exec(body);
    if (m === null) return null;
    const [addr, len, prot, flags, fd, off] = m.slice(1).map(hex) as [number, number, number, number, number, number];
    return { kind: 'sys_enter_mmap', ...base, addr, len, prot, flags, fd, off };
  },
};

const sysEnterMunmap: Decoder = {
  expected: "'addr: 0xN, len: 0xN'",
  decode(body, base) {
    const m = MUNMAP.exec(body);
    return m === null ? null : { kind: 'sys_enter_munmap', ...base, addr: hex(m[1]), len: hex(m[2]) };
  },
};

const sysEnterMprotect: Decoder = {
  expected: "'start: 0xN, len: 0xN, prot: 0xN'",
  decode(body, base) {
    const m = MPROTECT.exec(body);
    return m === null ? null : { kind: 'sys_enter_mprotect', ...base, start: hex(m[1]), len: hex(m[2]), prot: hex(m[3]) };
  },
};

const sysEnterMadvise: Decoder = {
  expected: "'start: 0xN, len_in: 0xN, behavior: 0xN'",
  decode(body, base) {
    const m = MADVISE.exec(body);
    return m === null ? null : { kind: 'sys_enter_madvise', ...base, start: hex(m[1]), len: hex(m[2]), behavior: hex(m[3]) };
  },
};

const RAW_ENTER = /^NR (-?\d+) \(([0-9a-f]+(?:, [0-9a-f]+)*)\)$/;
const RAW_EXIT = /^NR (-?\d+) = (-?\d+)$/;

const sysEnter: Decoder = {
  expected: "'NR N (ARG, ARG, ...)'",
  decode(body, base) {
    const m = RAW_ENTER.exec(body);
    return m === null ? null : { kind: 'sys_enter', ...base, nr: Number(m[1]), args: m[2]!.split(', ') };
  },
};

const sysExit: Decoder = {
  expected: "'NR N = RET'",
  decode(body, base) {
    const m = RAW_EXIT.exec(body);
    return m === null ? null : { kind: 'sys_exit', ...base, nr: Number(m[1]), ret: Number(m[2]) };
  },
};

// ---- IPIs and cross-CPU calls -----------------------------------------------------------------

// %pS of module code reads "func+0x1/0x2 [mod]", with a space, hence (.*) for symbols.
const IPI_SEND_CPU = /^cpu=(\d+) callsite=(.*) callback=(.*)$/;
const IPI_SEND_CPUMASK = /^cpumask=(\S*) callsite=(.*) callback=(.*)$/;
const CSD_QUEUE_CPU = /^cpu=(\d+) callsite=(.*) func=(.*) csd=(\S+)$/;
const VECTOR = /^vector=(\d+)$/;

/**
 * A printed cpumask: the kernel's `%*pb` (trace_print_bitmask_seq) gives zero-padded 32-bit hex
 * words, most significant first; a list (`0-2,5`) is read too. Null when it is neither.
 */
function parseCpumask(text: string): number[] | null {
  const chunks = text === '' ? [] : text.split(',');
  const cpus: number[] = [];
  if (chunks.length > 0 && chunks.every((c) => /^[0-9a-f]{8}$/.test(c))) {
    for (let word = 0; word < chunks.length; word++) {
      const bits = parseInt(chunks[chunks.length - 1 - word]!, 16);
      for (let bit = 0; bit < 32; bit++) if ((bits >>> bit) & 1) cpus.push(word * 32 + bit);
    }
    return cpus;
  }
  for (const chunk of chunks) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(chunk);
    if (range === null) return null;
    const last = Number(range[2] ?? range[1]);
    for (let cpu = Number(range[1]); cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus;
}

const ipiSendCpu: Decoder = {
  expected: "'cpu=CPU callsite=SYMBOL callback=SYMBOL'",
  decode(body, base) {
    const m = IPI_SEND_CPU.exec(body);
    return m === null ? null : { kind: 'ipi_send_cpu', ...base, targetCpu: Number(m[1]), callsite: m[2]!, callback: m[3]! };
  },
};

const ipiSendCpumask: Decoder = {
  expected: "'cpumask=MASK callsite=SYMBOL callback=SYMBOL'",
  decode(body, base) {
    const m = IPI_SEND_CPUMASK.exec(body);
    const targetCpus = m === null ? null : parseCpumask(m[1]!);
    if (m === null || targetCpus === null) return null;
    return { kind: 'ipi_send_cpumask', ...base, targetCpus, cpumask: m[1]!, callsite: m[2]!, callback: m[3]! };
  },
};

const csdQueueCpu: Decoder = {
  expected: "'cpu=CPU callsite=SYMBOL func=SYMBOL csd=POINTER'",
  decode(body, base) {
    const m = CSD_QUEUE_CPU.exec(body);
    if (m === null) return null;
    return { kind: 'csd_queue_cpu', ...base, targetCpu: Number(m[1]), callsite: m[2]!, func: m[3]!, csd: m[4]! };
  },
};

function irqVector(kind: IrqVectorEvent['kind']): Decoder {
  return {
    expected: "'vector=N'",
    decode(body, base) {
      const m = VECTOR.exec(body);
      return m === null ? null : { kind, ...base, vector: Number(m[1]) };
    },
  };
}

const DECODERS: ReadonlyMap<string, Decoder> = new Map([
  ['sched_switch', schedSwitch],
  ['sched_wakeup', wakeup('sched_wakeup')],
  ['sched_wakeup_new', wakeup('sched_wakeup_new')],
  ['sched_waking', wakeup('sched_waking')],
  ['sched_migrate_task', schedMigrateTask],
  ['sched_process_fork', schedProcessFork],
  ['sched_process_exec', schedProcessExec],
  ['sched_process_exit', schedProcessExit],
  ['tlb_flush', tlbFlush],
  ['sys_enter_mmap', sysEnterMmap],
  ['sys_enter_munmap', sysEnterMunmap],
  ['sys_enter_mprotect', sysEnterMprotect],
  ['sys_enter_madvise', sysEnterMadvise],
  ['sys_enter', sysEnter],
  ['sys_exit', sysExit],
  ['ipi_send_cpu', ipiSendCpu],
  ['ipi_send_cpumask', ipiSendCpumask],
  ['csd_queue_cpu', csdQueueCpu],
  ...(
    [
      'call_function_entry',
      'call_function_exit',
      'call_function_single_entry',
      'call_function_single_exit',
      'reschedule_entry',
      'reschedule_exit',
    ] as const
  ).map((kind): [string, Decoder] => [kind, irqVector(kind)]),
]);
