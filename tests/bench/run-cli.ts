import { main } from '../../bench/cli/main';

/** Runs the CLI in-process and captures what it prints and its exit status. */
export function cli(...args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = main(args);
    if (typeof code !== 'number') throw new Error(`lazytlb ${args.join(' ')} ran on worker threads: give it --jobs 1`);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
