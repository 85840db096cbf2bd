import { main } from '../../bench/cli/main';

type CliResult = { code: number; out: string; err: string };

function capture(): { result: () => { out: string; err: string }; restore: () => void } {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  return { result: () => ({ out, err }), restore: () => (o.mockRestore(), e.mockRestore()) };
}

/** Runs the CLI in-process and captures what it prints and its exit status. */
export function cli(...args: string[]): CliResult {
  const c = capture();
  try {
    const code = main(args);
    if (typeof code !== 'number') throw new Error(`lazytlb ${args.join(' ')} finished asynchronously (worker threads, charts): use cliAsync`);
    return { code, ...c.result() };
  } finally {
    c.restore();
  }
}

/** The same for a command that may finish asynchronously (worker threads, rendering charts). */
export async function cliAsync(...args: string[]): Promise<CliResult> {
  const c = capture();
  try {
    const code = await main(args);
    return { code, ...c.result() };
  } finally {
    c.restore();
  }
}
