import { ConfigError, ParseError, WatchdogError } from '../../lib/errors';
import { resolveMachine } from '../../lib/machine/resolve';

describe('user errors', () => {
  test('echo what the user typed on one line: a newline or a tab in it shows escaped', () => {
    // Found by the fuzz tests (tests/lib/machine/params-fuzz.test.ts): `--param sockets=$'1\n2'`
    // gave a two-line message, and the CLI prints a user error as one line.
    expect(() => resolveMachine('skylake-sp-2s', { sockets: '1\n2' })).toThrow(
      "machine parameter 'sockets' = '1\\n2' is not a number: expected an integer count in [1, 64]",
    );
    expect(new ConfigError("value 'a\tb\r\n'").message).toBe("value 'a\\tb\\r\\n'");
    const e = new ParseError('t.txt', 3, "got 'x\ny'");
    expect(e.message).toBe("t.txt:3: got 'x\\ny'");
    expect(e.detail).toBe("got 'x\ny'"); // the parts stay as they were
  });

  test('a watchdog report keeps its lines: one per CPU', () => {
    expect(new WatchdogError('deadlock\n  cpu0: a').message.split('\n')).toHaveLength(2);
  });
});
