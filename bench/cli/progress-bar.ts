import { Presets, SingleBar } from 'cli-progress';
import type { Progress } from '../experiment/pool';
import type { RunProgress } from '../runner';

/**
 * Runs done, simulated ms and the ETA on stderr, when stderr is a terminal; nothing when it is
 * piped (a log or CI stays clean). Returns the progress callback and a function that ends the bar.
 */
export function progressBar(total: number, stream: NodeJS.WriteStream = process.stderr): { progress?: Progress; stop: () => void } {
  if (stream.isTTY !== true || total < 2) return { stop: () => {} };
  const bar = new SingleBar(
    { stream, format: 'runs {value}/{total} [{bar}] {simMs} simulated ms | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  let simMs = 0;
  bar.start(total, 0, { simMs: '0.0' });
  return {
    progress: (done, _total, r) => {
      simMs += r.simulated.seconds * 1e3;
      bar.update(done, { simMs: simMs.toFixed(1) });
    },
    stop: () => bar.stop(),
  };
}

/** One run's simulated ms and the ETA on stderr, when stderr is a terminal; nothing otherwise. */
export function runProgressBar(cyclesPerMs: number, stream: NodeJS.WriteStream = process.stderr): { progress?: RunProgress; stop: () => void } {
  if (stream.isTTY !== true) return { stop: () => {} };
  const bar = new SingleBar(
    { stream, format: 'simulated ms {value}/{total} [{bar}] ETA {eta_formatted}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    progress: (done, total) => {
      if (!started) bar.start(Math.round(total / cyclesPerMs), 0);
      started = true;
      bar.update(Math.round(done / cyclesPerMs));
    },
    stop: () => bar.stop(),
  };
}

/** Litmus executions done, the test running and the ETA on stderr, when stderr is a terminal; nothing otherwise. */
export function litmusProgressBar(total: number, stream: NodeJS.WriteStream = process.stderr): { progress?: (done: number, test: string) => void; stop: () => void } {
  if (stream.isTTY !== true || total < 2) return { stop: () => {} };
  const bar = new SingleBar(
    { stream, format: 'executions {value}/{total} [{bar}] {test} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(total, 0, { test: '' });
  return { progress: (done, test) => bar.update(done, { test }), stop: () => bar.stop() };
}
