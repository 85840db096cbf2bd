/**
 * A simulated function as a step machine, for the few calls so frequent that a generator per call
 * is most of the simulator's allocation (issue #10: `spin_lock`, `spin_unlock` and a user access
 * that hits the TLB each allocate a generator object and an IteratorResult per step).
 *
 * Callers do not change: they `yield*` it as they would a generator. A step machine is its own
 * iterator; `yield*` hands its result object straight through to the engine (ECMA-262
 * GeneratorYield(innerResult) does not re-wrap it), so a call that reuses both allocates nothing.
 * Calls come from a pool and go back when they return, so a pool holds as many as are in flight
 * at once (one per CPU and interrupt level, at most).
 *
 * A subclass keeps its locals in fields, sets them in `start`-style methods, and writes its body
 * in `next` as a `switch (this.pc)` whose cases are the instructions between yields, each
 * commented with the C it models. Everything else stays a generator: this is for leaf functions
 * whose body is a handful of instructions.
 */
export abstract class StepCall<R = void> implements Iterator<number, R, number> {
  /** Where the call resumes: 0 at its start. */
  protected pc: number;
  /** The one result object of this call, reused for every step. */
  private readonly res: { done: boolean; value: unknown };
  private readonly pool: StepCall<R>[];

  constructor(pool: StepCall<R>[]) {
    this.pc = 0;
    this.res = { done: false, value: 0 };
    this.pool = pool;
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Runs the call from `pc` up to its next operation (or its return), given the last result. */
  abstract next(v: number): IteratorResult<number, R>;

  /** Yields the operation just staged in the Ops registers (`op`, its code) and resumes at `pc`. */
  protected yieldOp(op: number, pc: number): IteratorResult<number, R> {
    this.pc = pc;
    this.res.done = false;
    this.res.value = op;
    return this.res as IteratorResult<number, R>;
  }

  /** Returns `value` to the caller and puts the call back in its pool. */
  protected finish(value: R): IteratorResult<number, R> {
    this.pc = 0;
    this.pool.push(this);
    this.res.done = true;
    this.res.value = value;
    return this.res as IteratorResult<number, R>;
  }
}

/** What `yield*` takes: a generator (`Sim`) or a step machine. */
export type SimCall<R = void> = Iterable<number, R, number>;
