import type { Engine, EventHandler } from '../lib/engine/engine';

/**
 * Per-CPU timers on the local APIC timer: the scheduler tick and task wake-ups (hrtimers). The
 * APIC timer is programmed for the earliest expiry; when it fires it raises the CPU's
 * LOCAL_TIMER vector, and the handler collects what expired. An entry is an opaque number the
 * owner interprets (a task's pid, or -1 for the tick).
 */
/** The farthest the timer is programmed ahead (the engine keeps events within 2^37 cycles of each other). */
export const MAX_DELTA_CYCLES = 2 ** 36;

export class Timers implements EventHandler {
  private readonly engine: Engine;
  private readonly raise: (cpu: number) => void;
  private readonly handlerId: number;
  /** Per CPU: pending (expiry, payload) pairs, sorted by expiry, then by arming order. */
  private readonly pending: Array<Array<[number, number]>>;
  /** When each CPU's APIC timer will fire, or -1; events for other times are stale. */
  private readonly armedAt: Float64Array;

  constructor(engine: Engine, nCpus: number, raise: (cpu: number) => void) {
    this.engine = engine;
    this.raise = raise;
    this.handlerId = engine.registerHandler(this);
    this.pending = Array.from({ length: nCpus }, () => []);
    this.armedAt = new Float64Array(nCpus).fill(-1);
  }

  arm(cpu: number, at: number, payload: number): void {
    const list = this.pending[cpu];
    let i = list.length;
    while (i > 0 && list[i - 1][0] > at) i--;
    list.splice(i, 0, [at, payload]);
    if (i === 0) this.program(cpu);
  }

  /** Removes and returns the payloads that have expired on `cpu`, then reprograms its timer. */
  expired(cpu: number): number[] {
    const list = this.pending[cpu];
    const now = this.engine.now;
    let n = 0;
    while (n < list.length && list[n][0] <= now) n++;
    const due = list.splice(0, n).map((e) => e[1]);
    this.program(cpu);
    return due;
  }

  onEvent(cpu: number): void {
    if (this.engine.now !== this.armedAt[cpu]) return;
    this.armedAt[cpu] = -1;
    this.raise(cpu);
  }

  private program(cpu: number): void {
    const list = this.pending[cpu];
    if (list.length === 0) return;
    const now = this.engine.now;
    let at = list[0][0] > now ? list[0][0] : now;
    // clockevents_program_event() clamps to the device's max_delta: a farther expiry fires early
    // with nothing due, and the handler reprograms.
    if (at - now > MAX_DELTA_CYCLES) at = now + MAX_DELTA_CYCLES;
    if (this.armedAt[cpu] === at) return;
    this.armedAt[cpu] = at;
    this.engine.schedule(at, this.handlerId, cpu);
  }
}
