import type { MachineParams } from '../params';

export type SourceTag = 'S' | 'F' | 'D' | 'E' | 'R' | 'M';

export interface Sourced {
  readonly value: number;
  readonly tag: SourceTag;
  readonly source: string;
}

export interface MachineProfile {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<keyof MachineParams, Sourced>>;
}

/** One profile value with its source tag and citation. */
export const v = (value: number, tag: SourceTag, source: string): Sourced => Object.freeze({ value, tag, source });

/** Citations several profiles share. */
export const C2C = 'nviennot/core-to-core-latency (CAS ping-pong, round trip / 2, which includes one CAS)';
export const HANSEN = 'Dave Hansen, linux-mm 2017-12-05, Skylake 4C';
export const LUTO = 'Lutomirski, commit 10af6235e0d3 (PCID), Skylake 2.3 GHz';
export const CEILING = 'Linux Documentation/arch/x86/tlb.rst; commit a5102476a24b';
