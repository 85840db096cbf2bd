import { simulate } from '../../../bench/experiment/api';
import { ConfigError } from '../../../lib/errors';

const SMALL = { workload: 'pcid-pingpong', params: { sockets: 1, coresPerCcx: 2 }, cycles: 20_000, warmupCycles: 0 } as const;

describe('pcid-pingpong', () => {
  test('runs two processes on the CPU it is given', () => {
    expect(simulate({ ...SMALL, workloadParams: { cpu: 1 } }).contextSwitches.count).toBeGreaterThan(0);
  });

  // Both found by the fuzz test (tests/bench/experiment/simulate-fuzz.test.ts).
  test('a CPU beyond the machine is a user error naming the parameter, not an internal one', () => {
    const run = () => simulate({ ...SMALL, workloadParams: { cpu: 2 } });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow("workload pcid-pingpong: parameter 'cpu' = 2: expected a CPU below 2");
  });

  test('more pages than one address space holds are refused naming both parameters', () => {
    expect(() => simulate({ ...SMALL, workloadParams: { pages: 4096, textPages: 6 } })).toThrow(
      "workload pcid-pingpong: parameters 'pages' + 'textPages' = 4102: expected at most 4096, the pages of one address space",
    );
  });
});
