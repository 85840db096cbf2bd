import { ConfigError } from '../../../lib/errors';
import { resolveWorkloadParams, wparam } from '../../../bench/workloads/params';
import { defineWorkload } from '../../../bench/workloads/workload';

const SPECS = {
  threads: wparam.count(4, 1, 64, 'Threads.'),
  mode: wparam.choice('processes', ['processes', 'threads'] as const, 'Processes or threads.'),
  share: wparam.fraction(0.25, 'A share.'),
  cpus: wparam.cpuList('CPUs to use.'),
};

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('workload parameters', () => {
  test('defaults, then overrides as numbers or text, typed and in spec order', () => {
    expect(resolveWorkloadParams('w', SPECS)).toEqual({ threads: 4, mode: 'processes', share: 0.25, cpus: '' });
    const v = resolveWorkloadParams('w', SPECS, { share: '0.5', threads: 8, mode: 'threads', cpus: '0-3, 8' });
    expect(v).toEqual({ threads: 8, mode: 'threads', share: 0.5, cpus: '0-3,8' });
    expect(Object.keys(v)).toEqual(['threads', 'mode', 'share', 'cpus']);
    const typed: 'processes' | 'threads' = v.mode; // the choice is a literal union type
    const n: number = v.threads;
    expect([typed, n]).toEqual(['threads', 8]);
  });

  test('an unknown key names the nearest known one', () => {
    expect(configError(() => resolveWorkloadParams('w', SPECS, { thread: 2 }))).toBe("unknown parameter of workload w 'thread' (did you mean 'threads'?)");
    expect(configError(() => resolveWorkloadParams('w', SPECS, { zzzzzzzz: 2 }))).toMatch(/\(known: threads, mode, share, cpus\)$/);
  });

  test.each([
    [{ threads: 0 }, "workload w: parameter 'threads' = 0: expected an integer in [1, 64] (count)"],
    [{ threads: '2.5' }, "workload w: parameter 'threads' = '2.5': expected an integer in [1, 64] (count)"],
    [{ share: 'lots' }, "workload w: parameter 'share' = 'lots': expected a number in [0, 1] (fraction)"],
    [{ mode: 'fibers' }, "workload w: parameter 'mode' = 'fibers': expected one of processes, threads"],
    [{ cpus: '3-x' }, "workload w: parameter 'cpus' = '3-x': expected a CPU list such as 0-3,8 ('' for the default)"],
  ])('a bad value %j is one line naming key, value and range', (input, message) => {
    expect(configError(() => resolveWorkloadParams('w', SPECS, input))).toBe(message);
  });

  test('defineWorkload refuses a default outside its own range', () => {
    expect(configError(() => defineWorkload({ name: 'bad', description: '', sources: [], params: { n: wparam.count(0, 1, 4, 'n') }, setup() {} })))
      .toBe("workload bad: parameter 'n' = 0: expected an integer in [1, 4] (count)");
  });
});
