import { ConfigError, simulate, type HistogramSummary, type RunJson, type SimulateConfig, type WorkloadStats } from '../../../bench/index';

// `npm run typecheck` compiles this file: each `@ts-expect-error` below must be an error, and each
// `Same` must hold, or the type check fails. At run time the same lines check what the types claim.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

const SMALL = { params: { sockets: 1, coresPerCcx: 4 }, ms: 0.2, warmupMs: 0.05 } as const;

describe('simulate() types its result by the workload it runs', () => {
  test("a shipped name: the `workload` section is that workload's declared stats", () => {
    const r = simulate({ ...SMALL, workload: 'memcache' });
    const requests: number = r.workload.requests;
    const waits: HistogramSummary = r.workload.epollLocks.waitCycles;
    expect(requests).toBeGreaterThan(0);
    expect(waits.count).toBe(r.workload.epollLocks.acquisitions);
    expect(r.workload.nic.packets).toBeGreaterThanOrEqual(requests);
    // @ts-expect-error -- misspelt: not a memcache stat
    expect(r.workload.reqests).toBeUndefined();
    const same: Same<typeof r.workload, WorkloadStats<'memcache'>> = true;
    expect(same).toBe(true);
  });

  test('no workload is the default, memcache, in the types too', () => {
    const _defaultRun = () => simulate({}); // never called: only its type is read (a 10-ms run on 56 CPUs)
    const same: Same<ReturnType<typeof _defaultRun>, RunJson<WorkloadStats<'memcache'>>> = true;
    expect(same).toBe(true);
  });

  test('workloadParams are typed per shipped workload, and the same mistakes fail at run time', () => {
    const r = simulate({ ...SMALL, workload: 'hackbench', workloadParams: { groups: 2, fds: 4, mode: 'threads' } });
    expect(r.config.workloadParams.mode).toBe('threads');
    expect(r.workload.sent).toBeGreaterThan(0);
    // @ts-expect-error -- not one of hackbench's modes
    expect(() => simulate({ ...SMALL, workload: 'hackbench', workloadParams: { mode: 'thread' } })).toThrow(ConfigError);
    // @ts-expect-error -- a misspelt key of the default workload, memcache
    expect(() => simulate({ ...SMALL, workloadParams: { wrokers: 2 } })).toThrow(/did you mean 'workers'/);
  });

  test('a config typed only as SimulateConfig, or a file path, keeps the untyped section', () => {
    const c: SimulateConfig = { ...SMALL, workload: 'madvise-mix', workloadParams: { pages: '64' } };
    const r = simulate(c);
    const same: Same<typeof r.workload, Record<string, unknown>> = true;
    expect(same && r.workload).toEqual({});
  });
});
