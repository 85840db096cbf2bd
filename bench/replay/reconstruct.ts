import type { ParsedTrace } from './parse-trace';
import type { TraceEvent } from './trace-events';

/** A mapping change, a process event, or the end of a task, at a trace time (seconds). */
export type ReplayOp =
  | { kind: 'munmap' | 'mprotect' | 'madvise' | 'mmap'; time: number; addr: number; len: number; arg: number }
  | { kind: 'fork'; time: number; childPid: number }
  | { kind: 'exec'; time: number; filename: string }
  | { kind: 'exit'; time: number };

/** A stretch of time a task spent on one CPU, and how it left it. */
export interface Segment {
  cpu: number;
  start: number;
  end: number;
  /** The prev_state it switched out with ('S', 'D', 'R', 'R+', 'Z', ...), 'inferred' when its
   *  switch-out is missing, 'end' at the end of the trace. */
  endState: string;
  ops: ReplayOp[];
}

export interface ReplayTask {
  pid: number;
  tgid: number | null;
  /** Its first name in the trace (exec changes it later). */
  comm: string;
  kernelThread: boolean;
  /** The task that forked it in the trace, if any. */
  parentPid: number | null;
  segments: Segment[];
}

export interface TraceModel {
  cpus: number;
  /** First and last event time, seconds. */
  start: number;
  end: number;
  tasks: Map<number, ReplayTask>;
  /** Switches the trace does not show, inferred from who owns the next event on a CPU. */
  inferred: number;
}

/**
 * Names of kernel threads (`ps` shows them in brackets): what the trace cannot say about an mm
 * when it has no fork of the task from kthreadd. A documented heuristic, used only then.
 */
const KTHREAD_NAME =
  /^(swapper|kthreadd|kworker|ksoftirqd|migration|rcu_|rcu[a-z]*\/|cpuhp|idle_inject|watchdog|kcompactd|kswapd|khugepaged|ksmd|oom_reaper|writeback|kblockd|kintegrityd|kdevtmpfs|khungtaskd|kauditd|jbd2|ext4-|xfs|irq\/|scsi_|nvme|kthrotld|mm_percpu_wq|netns|inet_frag|ipv6_addrconf|zswap|edac|kstrp|ecryptfs|tpm_dev_wq|acpi_thermal|card\d|loop\d|md\d|dm[-_]|pool_workqueue)/;

const KTHREADD_PID = 2;

/**
 * The schedule and the mapping changes of a trace, as per-task timelines. Per CPU it follows who
 * is running: a sched_switch closes the previous task's segment with its prev_state and opens the
 * next one's. When the trace lacks a switch (a CPU whose idle task emits nothing, tasks whose own
 * events are hidden, as the x86 KVM trace's notes describe), an event owned by another task than
 * the CPU's current one means a switch happened: it is inferred there and counted, never fatal.
 * Events are taken in time order (a stable sort, so unsorted traces work).
 */
export function reconstruct(trace: ParsedTrace): TraceModel {
  const events = trace.events.slice().sort((a, b) => a.time - b.time);
  const start = events.length > 0 ? events[0].time : 0;
  const end = events.length > 0 ? events[events.length - 1].time : 0;
  const tasks = new Map<number, ReplayTask>();
  const current = new Int32Array(trace.cpus).fill(-1);
  const open = new Map<number, Segment>(); // pid -> its open segment
  let inferred = 0;

  const task = (pid: number, comm: string, tgid: number | null): ReplayTask => {
    let t = tasks.get(pid);
    if (t === undefined) {
      t = { pid, tgid, comm, kernelThread: KTHREAD_NAME.test(comm), parentPid: null, segments: [] };
      tasks.set(pid, t);
    } else if (t.tgid === null && tgid !== null) {
      t.tgid = tgid;
    }
    return t;
  };
  const begin = (pid: number, comm: string, tgid: number | null, cpu: number, time: number): void => {
    if (pid === 0) return;
    const t = task(pid, comm, tgid);
    const prev = open.get(pid);
    if (prev !== undefined) close(pid, time, 'inferred'); // seen running elsewhere without a switch-out
    const seg: Segment = { cpu, start: time, end: time, endState: 'end', ops: [] };
    t.segments.push(seg);
    open.set(pid, seg);
  };
  const close = (pid: number, time: number, state: string): void => {
    const seg = open.get(pid);
    if (seg === undefined) return;
    seg.end = time;
    seg.endState = state;
    open.delete(pid);
  };
  const ensureCurrent = (e: TraceEvent, pid: number, comm: string, tgid: number | null): void => {
    const c = e.cpu;
    if (current[c] === pid) return;
    if (current[c] === -1) {
      begin(pid, comm, tgid, c, start); // running since before the trace began
    } else {
      inferred++;
      if (current[c] !== 0) close(current[c], e.time, 'inferred');
      begin(pid, comm, tgid, c, e.time);
    }
    current[c] = pid;
  };

  for (const e of events) {
    if (e.cpu >= trace.cpus) continue; // the parser counts CPUs; nothing beyond them runs
    if (e.kind === 'sched_switch') {
      ensureCurrent(e, e.prevPid, e.prevComm, e.pid === e.prevPid ? e.tgid : null);
      if (e.prevPid !== 0) close(e.prevPid, e.time, e.prevState);
      current[e.cpu] = e.nextPid;
      begin(e.nextPid, e.nextComm, null, e.cpu, e.time);
      continue;
    }
    ensureCurrent(e, e.pid, e.comm, e.tgid);
    if (e.pid !== 0 && e.tgid !== null) task(e.pid, e.comm, e.tgid);
    const seg = open.get(e.pid);
    const op = opOf(e);
    if (op === null) continue;
    if (e.kind === 'sched_process_fork') {
      const child = task(e.childPid, e.childComm, null);
      child.parentPid = e.parentPid;
      if (e.parentPid === KTHREADD_PID || tasks.get(e.parentPid)?.kernelThread === true) child.kernelThread = true;
    }
    if (e.kind === 'sched_process_exec') {
      const t = tasks.get(e.taskPid);
      if (t !== undefined) t.kernelThread = false;
    }
    if (seg !== undefined) seg.ops.push(op);
  }
  for (const pid of [...open.keys()]) close(pid, end, 'end');
  return { cpus: trace.cpus, start, end, tasks, inferred };
}

/** The parent of `t` and the time it forked `t`, if the trace shows that fork while the parent ran. */
export function forkOf(model: TraceModel, t: ReplayTask): { parent: ReplayTask; time: number } | null {
  const parent = t.parentPid === null ? undefined : model.tasks.get(t.parentPid);
  if (parent === undefined) return null;
  for (const s of parent.segments) for (const o of s.ops) if (o.kind === 'fork' && o.childPid === t.pid) return { parent, time: o.time };
  return null;
}

/** The replayed meaning of an event: a mapping syscall, fork, exec or exit; null for the rest. */
function opOf(e: TraceEvent): ReplayOp | null {
  switch (e.kind) {
    case 'sys_enter_munmap':
      return { kind: 'munmap', time: e.time, addr: e.addr, len: e.len, arg: 0 };
    case 'sys_enter_mprotect':
      return { kind: 'mprotect', time: e.time, addr: e.start, len: e.len, arg: e.prot };
    case 'sys_enter_madvise':
      return { kind: 'madvise', time: e.time, addr: e.start, len: e.len, arg: e.behavior };
    case 'sys_enter_mmap':
      return { kind: 'mmap', time: e.time, addr: e.addr, len: e.len, arg: e.flags };
    case 'sched_process_fork':
      return { kind: 'fork', time: e.time, childPid: e.childPid };
    case 'sched_process_exec':
      return { kind: 'exec', time: e.time, filename: e.filename };
    case 'sched_process_exit':
      return { kind: 'exit', time: e.time };
    default:
      return null;
  }
}
