/**
 * The typed records a kernel trace parses to (bench/replay/parse-trace.ts), one per event line.
 * Each decoded record documents the kernel `TP_printk` it comes from; every other event becomes
 * an `other` record that keeps its name and text, so it still counts.
 *
 * Conventions:
 * - `comm`, `pid` and `tgid` on every record are the line's owner: the task that was current on
 *   `cpu` when the event fired (in IRQ context too). Tasks named inside the event's fields are
 *   `taskComm`/`taskPid`, `prev*`/`next*`, `parent*`/`child*`.
 * - `time` is in seconds, the nearest double to the printed decimal: below 2^23 s (97 days of
 *   uptime) that is within 0.5 ns of what the trace printed, so nanosecond timestamps stay exact
 *   to the nanosecond.
 * - `line` is the 1-based line number in the source text.
 */

export interface TraceEventBase {
  line: number;
  cpu: number;
  time: number;
  comm: string;
  pid: number;
  /** Thread-group id: from the record-tgid column `(  TGID)` or perf's `PID/TID`; else null. */
  tgid: number | null;
}

/**
 * `sched:sched_switch`, include/trace/events/sched.h:
 * `"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d"`.
 * Also read from old trace-cmd (numeric prev_state, no `==>`) and from libtraceevent's
 * sched_switch plugin (`prev_comm:prev_pid [prio] S ==> next_comm:next_pid [prio]`).
 */
export interface SchedSwitchEvent extends TraceEventBase {
  kind: 'sched_switch';
  prevComm: string;
  prevPid: number;
  prevPrio: number;
  /**
   * What the task was doing, in the kernel's (≥4.14) letters: `R` runnable, `R+` preempted, `S`,
   * `D`, `T`, `t`, `X` (EXIT_DEAD), `Z` (EXIT_ZOMBIE), `P` (parked), `I` (idle kthread); old
   * kernels add `x` (TASK_DEAD), `K`, `W`, `N`, `n` and join several with `|` (`D|K`). Numbers and
   * the trace-cmd plugin's letters are translated (bench/replay/sched-fields.ts).
   */
  prevState: string;
  /** prev_state exactly as printed. */
  prevStateText: string;
  /** prev_state when the trace printed it as a number (old trace-cmd), else null. */
  prevStateRaw: number | null;
  nextComm: string;
  nextPid: number;
  nextPrio: number;
}

/**
 * `sched:sched_wakeup`, `sched_wakeup_new`, `sched_waking` (class sched_wakeup_template,
 * include/trace/events/sched.h): `"comm=%s pid=%d prio=%d target_cpu=%03d"`; older and Android
 * kernels print `success=%d` before target_cpu. libtraceevent's plugin prints
 * `comm:pid [prio] CPU:%03d` (with ` success=%d` when the field exists).
 */
export interface SchedWakeupEvent extends TraceEventBase {
  kind: 'sched_wakeup' | 'sched_wakeup_new' | 'sched_waking';
  taskComm: string;
  taskPid: number;
  prio: number;
  targetCpu: number;
  /** The `success` field where printed (0 = the task was already running, on old kernels). */
  success: boolean | null;
}

/** `sched:sched_migrate_task`: `"comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d"` (+ ` running=%d` in some Android trees). */
export interface SchedMigrateTaskEvent extends TraceEventBase {
  kind: 'sched_migrate_task';
  taskComm: string;
  taskPid: number;
  prio: number;
  origCpu: number;
  destCpu: number;
}

/** `sched:sched_process_fork`: `"comm=%s pid=%d child_comm=%s child_pid=%d"`. */
export interface SchedProcessForkEvent extends TraceEventBase {
  kind: 'sched_process_fork';
  parentComm: string;
  parentPid: number;
  childComm: string;
  childPid: number;
}

/** `sched:sched_process_exec`: `"filename=%s pid=%d old_pid=%d"`. */
export interface SchedProcessExecEvent extends TraceEventBase {
  kind: 'sched_process_exec';
  filename: string;
  taskPid: number;
  oldPid: number;
}

/** `sched:sched_process_exit`: `"comm=%s pid=%d prio=%d"`; recent kernels add ` group_dead=%s` (true/false). */
export interface SchedProcessExitEvent extends TraceEventBase {
  kind: 'sched_process_exit';
  taskComm: string;
  taskPid: number;
  prio: number;
  groupDead: boolean | null;
}

/** `pages` value of a full flush (`TLB_FLUSH_ALL`, arch/x86/include/asm/tlbflush.h). */
export const TLB_FLUSH_ALL = -1;

/**
 * `enum tlb_flush_reason` (include/linux/mm_types.h) and the strings of `TLB_FLUSH_REASON`
 * (include/trace/events/tlb.h). Code 5 (`TLB_REMOTE_WRONG_CPU`, added in 2024) had no string
 * until a 2025 fix, which also spells `local MM shootdown` and `remote IPI send`; so strings
 * are compared case-insensitively, and only when a line lacks the numeric code.
 */
export const TLB_FLUSH_REASONS: readonly { code: number; name: string; text: string }[] = [
  { code: 0, name: 'TLB_FLUSH_ON_TASK_SWITCH', text: 'flush on task switch' },
  { code: 1, name: 'TLB_REMOTE_SHOOTDOWN', text: 'remote shootdown' },
  { code: 2, name: 'TLB_LOCAL_SHOOTDOWN', text: 'local shootdown' },
  { code: 3, name: 'TLB_LOCAL_MM_SHOOTDOWN', text: 'local mm shootdown' },
  { code: 4, name: 'TLB_REMOTE_SEND_IPI', text: 'remote ipi send' },
  { code: 5, name: 'TLB_REMOTE_WRONG_CPU', text: 'remote wrong CPU' },
];

/**
 * `tlb:tlb_flush`, include/trace/events/tlb.h: `"pages:%ld reason:%s (%d)"`. libtraceevent's tlb
 * plugin prints `pages=%ld reason=%s (%d)` and no string for codes it does not know.
 */
export interface TlbFlushEvent extends TraceEventBase {
  kind: 'tlb_flush';
  /** Pages flushed; TLB_FLUSH_ALL (-1) for a full flush, 0 when nothing needed flushing. */
  pages: number;
  /** The numeric `enum tlb_flush_reason` (see TLB_FLUSH_REASONS). */
  reason: number;
  /** The reason string as printed, possibly empty. */
  reasonText: string;
}

/*
 * Syscall entry events (`syscalls:sys_enter_*`, kernel/trace/trace_syscalls.c): the format
 * file's print fmt is `"name: 0x%08lx"` per argument, joined by `, `; the kernel's own `trace`
 * file prints `sys_NAME(name: %lx, ...)` instead. Both parse here. Values are the raw unsigned
 * longs (fd -1 is 0xffffffff); they are JS numbers, exact below 2^53, which user addresses are.
 */

/** `syscalls:sys_enter_mmap` (SYSCALL_DEFINE6(mmap, addr, len, prot, flags, fd, off), arch/x86/kernel/sys_x86_64.c). */
export interface SysEnterMmapEvent extends TraceEventBase {
  kind: 'sys_enter_mmap';
  addr: number;
  len: number;
  prot: number;
  flags: number;
  fd: number;
  off: number;
}

/** `syscalls:sys_enter_munmap` (SYSCALL_DEFINE2(munmap, addr, len), mm/mmap.c). */
export interface SysEnterMunmapEvent extends TraceEventBase {
  kind: 'sys_enter_munmap';
  addr: number;
  len: number;
}

/** `syscalls:sys_enter_mprotect` (SYSCALL_DEFINE3(mprotect, start, len, prot), mm/mprotect.c). */
export interface SysEnterMprotectEvent extends TraceEventBase {
  kind: 'sys_enter_mprotect';
  start: number;
  len: number;
  prot: number;
}

/** `syscalls:sys_enter_madvise` (SYSCALL_DEFINE3(madvise, start, len_in, behavior), mm/madvise.c; `len` in old kernels). */
export interface SysEnterMadviseEvent extends TraceEventBase {
  kind: 'sys_enter_madvise';
  start: number;
  len: number;
  behavior: number;
}

/**
 * `raw_syscalls:sys_enter`, include/trace/events/syscalls.h: `"NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)"`.
 * The numbering is the traced architecture's, which the trace does not name, so nothing is decoded.
 */
export interface SysEnterRawEvent extends TraceEventBase {
  kind: 'sys_enter';
  nr: number;
  /** The six arguments as printed: hex digits without `0x`. */
  args: string[];
}

/** `raw_syscalls:sys_exit`: `"NR %ld = %ld"`. */
export interface SysExitRawEvent extends TraceEventBase {
  kind: 'sys_exit';
  nr: number;
  ret: number;
}

/** `ipi:ipi_send_cpu`, include/trace/events/ipi.h (6.3+): `"cpu=%u callsite=%pS callback=%pS"`. */
export interface IpiSendCpuEvent extends TraceEventBase {
  kind: 'ipi_send_cpu';
  targetCpu: number;
  callsite: string;
  /** `0x0` for a reschedule IPI; the generic handler (not the csd function) for smp_call_function. */
  callback: string;
}

/** `ipi:ipi_send_cpumask`: `"cpumask=%s callsite=%pS callback=%pS"`. */
export interface IpiSendCpumaskEvent extends TraceEventBase {
  kind: 'ipi_send_cpumask';
  /** The target CPUs, ascending. */
  targetCpus: number[];
  /** The mask as printed: hex words (`00000000,00000006`) or a CPU list (`1-2`). */
  cpumask: string;
  callsite: string;
  callback: string;
}

/** `csd:csd_queue_cpu`, include/trace/events/csd.h (6.6+): `"cpu=%u callsite=%pS func=%ps csd=%p"`. */
export interface CsdQueueCpuEvent extends TraceEventBase {
  kind: 'csd_queue_cpu';
  targetCpu: number;
  callsite: string;
  func: string;
  csd: string;
}

/**
 * `irq_vectors:*_entry/_exit`, arch/x86/include/asm/trace/irq_vectors.h (class x86_irq_vector):
 * `"vector=%d"`. CALL_FUNCTION_VECTOR 252, CALL_FUNCTION_SINGLE_VECTOR 251, RESCHEDULE_VECTOR 253.
 */
export interface IrqVectorEvent extends TraceEventBase {
  kind:
    | 'call_function_entry'
    | 'call_function_exit'
    | 'call_function_single_entry'
    | 'call_function_single_exit'
    | 'reschedule_entry'
    | 'reschedule_exit';
  vector: number;
}

/** Any event not decoded above, or one whose body the tracer printed as `[FAILED TO PARSE]`. */
export interface OtherEvent extends TraceEventBase {
  kind: 'other';
  /** The event name without its `system:` prefix. */
  name: string;
  /** Everything after `name:`, as printed. */
  body: string;
}

export type TraceEvent =
  | SchedSwitchEvent
  | SchedWakeupEvent
  | SchedMigrateTaskEvent
  | SchedProcessForkEvent
  | SchedProcessExecEvent
  | SchedProcessExitEvent
  | TlbFlushEvent
  | SysEnterMmapEvent
  | SysEnterMunmapEvent
  | SysEnterMprotectEvent
  | SysEnterMadviseEvent
  | SysEnterRawEvent
  | SysExitRawEvent
  | IpiSendCpuEvent
  | IpiSendCpumaskEvent
  | CsdQueueCpuEvent
  | IrqVectorEvent
  | OtherEvent;

/** How one event's fields are read. */
export interface Decoder {
  /** The accepted form(s), quoted in the error for a line that matches none. */
  expected: string;
  decode(body: string, base: TraceEventBase): TraceEvent | null;
}
