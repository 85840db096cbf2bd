import { ConfigError } from '../../../lib/errors';
import { resolveMachine, topologyOf } from '../../../lib/machine/resolve';
import {
  DISTANCE_NAMES,
  DIST_CCX,
  DIST_REMOTE,
  DIST_SELF,
  DIST_SMT,
  DIST_SOCKET,
  MAX_CPUS,
  Topology,
  type TopologyParams,
} from '../../../lib/machine/topology';

function countDistances(t: Topology): number[] {
  const counts = [0, 0, 0, 0, 0];
  for (let a = 0; a < t.nCpus; a++) for (let b = 0; b < t.nCpus; b++) counts[t.distance(a, b)]++;
  return counts;
}

describe('distance constants', () => {
  it('are ordered nearest first and named', () => {
    expect([DIST_SELF, DIST_SMT, DIST_CCX, DIST_SOCKET, DIST_REMOTE]).toEqual([0, 1, 2, 3, 4]);
    expect(DISTANCE_NAMES[DIST_SMT]).toBe('smt');
    expect(DISTANCE_NAMES[DIST_REMOTE]).toBe('remote');
  });
});

describe('skylake-sp-2s topology', () => {
  const t = topologyOf(resolveMachine('skylake-sp-2s'));

  it('has 2 x 28 cores, SMT off, one LLC per socket', () => {
    expect(t.nCpus).toBe(56);
    expect(t.nCores).toBe(56);
    expect(t.nCcx).toBe(2);
    expect(t.describe()).toBe('2 sockets x 1 CCX x 28 cores x 1 thread = 56 CPUs');
  });

  it('classifies concrete pairs', () => {
    expect(t.distance(5, 5)).toBe(DIST_SELF);
    expect(t.distance(0, 1)).toBe(DIST_CCX);
    expect(t.distance(0, 27)).toBe(DIST_CCX);
    expect(t.distance(27, 28)).toBe(DIST_REMOTE);
    expect(t.distance(55, 0)).toBe(DIST_REMOTE);
    expect(t.distance(30, 55)).toBe(DIST_CCX);
  });

  it('never yields SMT or other-CCX-same-socket distances', () => {
    // 56 self pairs; 2 sockets x 28 x 27 same-LLC pairs; 2 x 28 x 28 cross-socket pairs.
    expect(countDistances(t)).toEqual([56, 0, 2 * 28 * 27, 0, 2 * 28 * 28]);
  });

  it('maps CPUs to sockets and CCXs', () => {
    expect([t.socketOf(0), t.socketOf(27), t.socketOf(28), t.socketOf(55)]).toEqual([0, 0, 1, 1]);
    expect([t.ccxOf(27), t.ccxOf(28)]).toEqual([0, 1]);
    expect(t.siblings(3)).toEqual([]);
    expect(t.threadOf(55)).toBe(0);
  });

  it('numbers second threads after all cores when SMT is turned on', () => {
    const smt = topologyOf(resolveMachine('skylake-sp-2s', { threadsPerCore: '2' }));
    expect(smt.nCpus).toBe(112);
    expect(smt.siblings(0)).toEqual([56]);
    expect(smt.siblings(56)).toEqual([0]);
    expect(smt.distance(0, 56)).toBe(DIST_SMT);
    expect(smt.distance(0, 57)).toBe(DIST_CCX);
    expect(smt.distance(0, 84)).toBe(DIST_REMOTE);
    expect([smt.coreOf(84), smt.threadOf(84), smt.socketOf(84)]).toEqual([28, 1, 1]);
  });
});

describe('zen3-1s topology', () => {
  const t = topologyOf(resolveMachine('zen3-1s'));

  it('has 8 CCX x 8 cores on one socket', () => {
    expect(t.nCpus).toBe(64);
    expect(t.nCcx).toBe(8);
    expect(t.describe()).toBe('1 socket x 8 CCX x 8 cores x 1 thread = 64 CPUs');
  });

  it('classifies concrete pairs', () => {
    expect(t.distance(0, 7)).toBe(DIST_CCX);
    expect(t.distance(7, 8)).toBe(DIST_SOCKET);
    expect(t.distance(0, 63)).toBe(DIST_SOCKET);
    expect(t.distance(56, 63)).toBe(DIST_CCX);
    expect(countDistances(t)).toEqual([64, 0, 8 * 8 * 7, 64 * 56, 0]);
  });

  it('maps CPUs to CCXs', () => {
    expect([t.ccxOf(0), t.ccxOf(7), t.ccxOf(8), t.ccxOf(63)]).toEqual([0, 0, 1, 7]);
    expect(t.socketOf(63)).toBe(0);
    expect(t.cpusOfCcx(2)).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
  });
});

describe('hand-built SMT topology: 2 sockets x 2 CCX x 2 cores x 2 threads', () => {
  const t = new Topology({ sockets: 2, ccxPerSocket: 2, coresPerCcx: 2, threadsPerCore: 2 });

  it('numbers first threads 0..7, second threads 8..15', () => {
    expect([t.nCores, t.nCpus]).toEqual([8, 16]);
    expect([t.coreOf(9), t.threadOf(9), t.coreOf(1), t.threadOf(1)]).toEqual([1, 1, 1, 0]);
    expect(t.siblings(1)).toEqual([9]);
    expect(t.siblings(9)).toEqual([1]);
    expect([t.ccxOf(14), t.socketOf(14), t.socketOf(3), t.socketOf(4)]).toEqual([3, 1, 0, 1]);
    expect(t.describe()).toBe('2 sockets x 2 CCX x 2 cores x 2 threads = 16 CPUs');
  });

  it('classifies every distance class', () => {
    expect(t.distance(1, 9)).toBe(DIST_SMT);
    expect(t.distance(12, 4)).toBe(DIST_SMT);
    expect(t.distance(0, 9)).toBe(DIST_CCX); // core 0 vs core 1, CCX 0
    expect(t.distance(0, 10)).toBe(DIST_SOCKET); // core 2 is in CCX 1, socket 0
    expect(t.distance(0, 12)).toBe(DIST_REMOTE); // core 4 is on socket 1
    expect(t.distance(3, 11)).toBe(DIST_SMT);
  });

  it('is symmetric', () => {
    for (let a = 0; a < t.nCpus; a++) {
      for (let b = 0; b < t.nCpus; b++) expect(t.distance(a, b)).toBe(t.distance(b, a));
    }
  });

  it('lists all other threads of a 3-thread core', () => {
    const t3 = new Topology({ sockets: 1, ccxPerSocket: 1, coresPerCcx: 2, threadsPerCore: 3 });
    expect(t3.siblings(0)).toEqual([2, 4]);
    expect(t3.siblings(4)).toEqual([0, 2]);
  });
});

describe('invalid topologies', () => {
  const ok: TopologyParams = { sockets: 1, ccxPerSocket: 1, coresPerCcx: 4, threadsPerCore: 1 };

  it.each([
    ['sockets', 0],
    ['ccxPerSocket', -1],
    ['coresPerCcx', 1.5],
    ['threadsPerCore', NaN],
  ] as const)('rejects %s = %p naming the field', (field, value) => {
    const build = () => new Topology({ ...ok, [field]: value });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(`topology field '${field}' must be a positive integer, got ${value}`);
  });

  it(`rejects more than ${MAX_CPUS} CPUs and accepts exactly ${MAX_CPUS}`, () => {
    const big = () => new Topology({ sockets: 16, ccxPerSocket: 8, coresPerCcx: 32, threadsPerCore: 2 });
    expect(big).toThrow(ConfigError);
    expect(big).toThrow(/8192 CPUs is too large: at most 4096/);
    expect(new Topology({ sockets: 16, ccxPerSocket: 8, coresPerCcx: 16, threadsPerCore: 2 }).nCpus).toBe(4096);
  });

  it('rejects CPU numbers outside the machine', () => {
    const t = new Topology(ok);
    expect(() => t.distance(0, 4)).toThrow(RangeError);
    expect(() => t.socketOf(-1)).toThrow(RangeError);
    expect(() => t.ccxOf(1.5)).toThrow(RangeError);
  });
});

describe('interconnect hops', () => {
  const shape = { ccxPerSocket: 1, coresPerCcx: 1, threadsPerCore: 1 };
  const hops = (t: Topology) => Array.from({ length: t.nSockets }, (_, s) => t.hopsUnchecked(0, s));

  it('links every pair of sockets by default, and a 2-socket machine is one hop', () => {
    expect(hops(new Topology({ sockets: 4, ...shape }))).toEqual([0, 1, 1, 1]);
    expect(new Topology({ sockets: 2, ...shape, socketLinks: 3 }).maxHops).toBe(1);
  });

  it('two links make a ring; three on eight sockets the glueless 8-socket layout (at most two hops)', () => {
    const ring = new Topology({ sockets: 4, ...shape, socketLinks: 2 });
    expect(hops(ring)).toEqual([0, 1, 2, 1]);
    const eight = new Topology({ sockets: 8, ...shape, socketLinks: 3 });
    expect(hops(eight)).toEqual([0, 1, 2, 2, 1, 2, 2, 1]);
    expect(eight.maxHops).toBe(2);
    expect(new Topology({ sockets: 8, ...shape, socketLinks: 2 }).maxHops).toBe(4);
  });

  it('rejects links that cannot connect the sockets, naming the field', () => {
    expect(() => new Topology({ sockets: 4, ...shape, socketLinks: 1 })).toThrow(
      "topology field 'socketLinks' = 1 cannot connect 4 sockets: expected at least 2",
    );
  });
});
