/**
 * Seeded random number streams. Model code never touches Math.random: every component asks
 * `RngStreams.stream(name)` for its own stream, derived from (seed, name) alone, so adding a new
 * component (a new stream name) or creating streams in a different order never changes what the
 * existing streams draw. That keeps results reproducible across code changes.
 */
import seedrandom from 'seedrandom';
import { ConfigError } from './errors';

/** Alea yields 32 bits per draw; above this bound `int` uses a 53-bit double draw instead. */
const TWO_POW_32 = 0x100000000;

/** One named, seeded stream. Every method consumes exactly one underlying draw (two for `int(n)`
 *  with n > 2^32), regardless of arguments, so a stream's position depends only on the call count. */
export class Rng {
  readonly name: string;
  private readonly prng: seedrandom.PRNG;

  constructor(seed: string, name: string) {
    this.name = name;
    // NUL separator: no printable seed/name pair can collide with another one.
    this.prng = seedrandom.alea(seed + '\u0000' + name);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n); n an integer in [1, 2^53]. Allocates nothing. */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) {
      throw new RangeError(`Rng(${this.name}).int: n must be an integer >= 1, got ${n}`);
    }
    // Alea's output has 32-bit resolution: beyond 2^32 some integers would be unreachable.
    const u = n <= TWO_POW_32 ? this.prng() : this.prng.double();
    return Math.floor(u * n);
  }

  /** Uniform integer in [lo, hi], both inclusive integers with lo <= hi. */
  range(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new RangeError(`Rng(${this.name}).range: need integers lo <= hi, got [${lo}, ${hi}]`);
    }
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p (p <= 0 never, p >= 1 always); always consumes one draw. */
  chance(p: number): boolean {
    return this.prng() < p;
  }

  /**
   * An exponentially distributed integer with the given mean, at least 1: the gap to the next
   * arrival of a Poisson process (network requests, wake-ups). One draw.
   */
  exponential(mean: number): number {
    if (!(mean > 0)) throw new RangeError(`Rng(${this.name}).exponential: need a positive mean, got ${mean}`);
    const x = Math.round(-mean * Math.log(1 - this.prng()));
    return x < 1 ? 1 : x;
  }

  /** Integer in [0, max], log-uniform: mostly small, sometimes up to max (timing perturbation
   *  that explores both near and far interleavings). One draw. */
  logUniform(max: number): number {
    return Math.floor(Math.exp(this.prng() * Math.log(max + 1))) - 1;
  }
}

/** The set of named streams for one run. */
export class RngStreams {
  /** Canonical string form of the seed: numbers are stringified, so 42 and '42' are the same run. */
  readonly seed: string;
  private readonly streams: Map<string, Rng>;

  constructor(seed: number | string) {
    if (typeof seed === 'number') {
      if (!Number.isFinite(seed)) throw new ConfigError(`seed must be a finite number, got ${seed}`);
      this.seed = String(seed);
    } else if (typeof seed === 'string') {
      this.seed = seed;
    } else {
      throw new ConfigError(`seed must be a number or a string, got ${typeof seed}`);
    }
    this.streams = new Map();
  }

  /** The stream called `name`; the same name always returns the same Rng object. */
  stream(name: string): Rng {
    let rng = this.streams.get(name);
    if (rng === undefined) {
      if (name.length === 0 || name.includes('\u0000')) {
        throw new RangeError(`RngStreams.stream: invalid stream name ${JSON.stringify(name)}`);
      }
      rng = new Rng(this.seed, name);
      this.streams.set(name, rng);
    }
    return rng;
  }

  /** Names of the streams created so far, sorted (stable order for the results JSON). */
  names(): string[] {
    return [...this.streams.keys()].sort();
  }
}
