/**
 * Decoding of the scheduler events' fields (include/trace/events/sched.h), in the kernel's form
 * and in the short forms of libtraceevent's sched_switch plugin, which `trace-cmd report` and
 * `perf script` use.
 */
import type { Decoder, SchedWakeupEvent } from './trace-events';

// ---- sched_switch ---------------------------------------------------------------------------

// Kernel TP_printk; old trace-cmd printed prev_state as a number and could drop the `==>`.
const SWITCH_KERNEL =
  /^prev_comm=(.*) prev_pid=(\d+) prev_prio=(-?\d+) prev_state=(\S+)(?: ==>)? next_comm=(.*) next_pid=(\d+) next_prio=(-?\d+)$/;
// libtraceevent plugins/plugin_sched_switch.c: the pid follows the comm's LAST ':' ("kworker/2:1:2923").
const SWITCH_PLUGIN = /^(.*):(\d+) \[(-?\d+)\] (\S+) ==> (.*):(\d+) \[(-?\d+)\]$/;

/**
 * Numeric prev_state is the raw 4.x `task_struct::state` (v4.8–v4.13), where TASK_STATE_MAX
 * (4096) marks a preempted, still runnable task ("R+"). Bits are named by TASK_STATE_TO_CHAR_STR
 * (include/linux/sched.h), the letters of ps: the tracepoint's own flags of that era swapped X and
 * Z. Which kernel wrote an old trace is not recorded, so this is an interpretation, and the number
 * is kept beside it.
 */
const STATE_LETTERS_4X = ['S', 'D', 'T', 't', 'X', 'Z', 'x', 'K', 'W', 'P', 'N', 'n'];
const TASK_STATE_MAX_4X = 4096;

function stateFromNumber(value: number): string {
  const letters = STATE_LETTERS_4X.filter((_, bit) => (value & (1 << bit)) !== 0);
  return (letters.length > 0 ? letters.join('|') : 'R') + ((value & TASK_STATE_MAX_4X) !== 0 ? '+' : '');
}

/**
 * The plugin's write_state() names bits 0–7 of the raw value "SDTtZXxW", a table older than
 * 4.14; since 4.14 (`__trace_sched_switch_state` → TASK_REPORT bits) the kernel's own letters for
 * those bits are "SDTtXZPI". So the plugin's X is a zombie, its Z EXIT_DEAD and its W an idle
 * kthread (TASK_REPORT_IDLE): translated here. It never prints "+", so preemption is not visible.
 */
const PLUGIN_LETTERS = 'SDTtZXxW';
const REPORT_LETTERS = 'SDTtXZPI';

function stateFromPlugin(text: string): string | null {
  if (text === 'R') return 'R';
  let state = '';
  for (const letter of text.split('|')) {
    const bit = letter.length === 1 ? PLUGIN_LETTERS.indexOf(letter) : -1;
    if (bit < 0) return null;
    state += (state === '' ? '' : '|') + REPORT_LETTERS[bit];
  }
  return state;
}

export const schedSwitch: Decoder = {
  expected:
    "'prev_comm=COMM prev_pid=PID prev_prio=PRIO prev_state=STATE ==> next_comm=COMM next_pid=PID next_prio=PRIO' " +
    "or 'COMM:PID [PRIO] STATE ==> COMM:PID [PRIO]'",
  decode(body, base) {
    const k = SWITCH_KERNEL.exec(body);
    if (k !== null) {
      const text = k[4]!;
      const raw = /^\d+$/.test(text) ? Number(text) : null;
      return {
        kind: 'sched_switch',
        ...base,
        prevComm: k[1]!,
        prevPid: Number(k[2]),
        prevPrio: Number(k[3]),
        prevState: raw === null ? text : stateFromNumber(raw),
        prevStateText: text,
        prevStateRaw: raw,
        nextComm: k[5]!,
        nextPid: Number(k[6]),
        nextPrio: Number(k[7]),
      };
    }
    const p = SWITCH_PLUGIN.exec(body);
    const state = p === null ? null : stateFromPlugin(p[4]!);
    if (p === null || state === null) return null;
    return {
      kind: 'sched_switch',
      ...base,
      prevComm: p[1]!,
      prevPid: Number(p[2]),
      prevPrio: Number(p[3]),
      prevState: state,
      prevStateText: p[4]!,
      prevStateRaw: null,
      nextComm: p[5]!,
      nextPid: Number(p[6]),
      nextPrio: Number(p[7]),
    };
  },
};

// ---- other scheduler events -------------------------------------------------------------------

const WAKEUP_KERNEL = /^comm=(.*) pid=(\d+) prio=(-?\d+)(?: success=(\d+))? target_cpu=(\d+)$/;
const WAKEUP_PLUGIN = /^(.*):(\d+) \[(-?\d+)\](?: success=(\d+))? CPU:(\d+)$/;

export function wakeup(kind: SchedWakeupEvent['kind']): Decoder {
  return {
    expected: "'comm=COMM pid=PID prio=PRIO target_cpu=CPU' or 'COMM:PID [PRIO] CPU:CPU'",
    decode(body, base) {
      const m = WAKEUP_KERNEL.exec(body) ?? WAKEUP_PLUGIN.exec(body);
      if (m === null) return null;
      return {
        kind,
        ...base,
        taskComm: m[1]!,
        taskPid: Number(m[2]),
        prio: Number(m[3]),
        targetCpu: Number(m[5]),
        success: m[4] === undefined ? null : m[4] !== '0',
      };
    },
  };
}

const MIGRATE = /^comm=(.*) pid=(\d+) prio=(-?\d+) orig_cpu=(\d+) dest_cpu=(\d+)(?: running=\d+)?$/;
const FORK = /^comm=(.*) pid=(\d+) child_comm=(.*) child_pid=(\d+)$/;
const EXEC = /^filename=(.*) pid=(\d+) old_pid=(\d+)$/;
const EXIT = /^comm=(.*) pid=(\d+) prio=(-?\d+)(?: group_dead=(true|false))?$/;

export const schedMigrateTask: Decoder = {
  expected: "'comm=COMM pid=PID prio=PRIO orig_cpu=CPU dest_cpu=CPU'",
  decode(body, base) {
    const m = MIGRATE.exec(body);
    if (m === null) return null;
    return {
      kind: 'sched_migrate_task',
      ...base,
      taskComm: m[1]!,
      taskPid: Number(m[2]),
      prio: Number(m[3]),
      origCpu: Number(m[4]),
      destCpu: Number(m[5]),
    };
  },
};

export const schedProcessFork: Decoder = {
  expected: "'comm=COMM pid=PID child_comm=COMM child_pid=PID'",
  decode(body, base) {
    const m = FORK.exec(body);
    if (m === null) return null;
    return {
      kind: 'sched_process_fork',
      ...base,
      parentComm: m[1]!,
      parentPid: Number(m[2]),
      childComm: m[3]!,
      childPid: Number(m[4]),
    };
  },
};

export const schedProcessExec: Decoder = {
  expected: "'filename=PATH pid=PID old_pid=PID'",
  decode(body, base) {
    const m = EXEC.exec(body);
    if (m === null) return null;
    return { kind: 'sched_process_exec', ...base, filename: m[1]!, taskPid: Number(m[2]), oldPid: Number(m[3]) };
  },
};

export const schedProcessExit: Decoder = {
  expected: "'comm=COMM pid=PID prio=PRIO [group_dead=BOOL]'",
  decode(body, base) {
    const m = EXIT.exec(body);
    if (m === null) return null;
    const groupDead = m[4] === undefined ? null : m[4] === 'true';
    return { kind: 'sched_process_exit', ...base, taskComm: m[1]!, taskPid: Number(m[2]), prio: Number(m[3]), groupDead };
  },
};
