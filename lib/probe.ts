import type { Sim } from './engine/ops';

/** The listeners of a probe point: attach in order, detach with the function `attach` returns. */
export abstract class ProbeListeners<F> {
  readonly name: string;
  protected readonly listeners: F[];

  constructor(name: string) {
    this.name = name;
    this.listeners = [];
  }

  /** Adds a listener; returns the function that removes it again. */
  attach(listener: F): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get attached(): number {
    return this.listeners.length;
  }
}

/**
 * A typed probe point, after gem5's ProbePoint: a component announces something (a context
 * switch finished, an mm dropped its last reference) and any number of listeners attach to it.
 * Listeners never replace each other, so a test, a stats collector and the model itself can all
 * listen at once. Notifying visits a plain array: no allocation, and nothing at all when no one
 * listens.
 */
export class ProbePoint<A, B = void, C = void> extends ProbeListeners<(a: A, b: B, c: C) => void> {
  notify(a: A, b: B, c: C): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i](a, b, c);
  }
}

/**
 * A probe point whose listeners are simulated code (generators of operations): a poll point such
 * as the scheduler tick or `__schedule`, where any number of components run kernel code of their
 * own (LATR's scan of the saved flush states, a message channel's poll). The caller runs them in
 * attachment order with `yield* point.run(a)`, and only when `attached` is non-zero, so a point
 * no one listens to costs nothing and changes no run.
 */
export class SimProbePoint<A, B = void> extends ProbeListeners<(a: A, b: B) => Sim> {
  *run(a: A, b: B): Sim {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) yield* ls[i](a, b);
  }
}
