/**
 * Stable-state MESI, as the cache and directory controllers of ProtoGen's `MESI.pcc`
 * (icsa-caps/ProtoGen, MIT; the Primer's vocabulary), see docs/reference/input-formats.md §4.2.
 * The coherence model in `coherence.ts` follows these two tables; the conformance test checks it
 * against its own copy of them.
 */

/** Per-cache line states. */
export const I = 0;
export const S = 1;
export const E = 2;
export const M = 3;
export const MESI_NAMES = ['I', 'S', 'E', 'M'] as const;

/** Cache-controller events: from the own core, and forwarded by the directory. */
export const EV_LOAD = 0;
export const EV_STORE = 1;
export const EV_REPLACEMENT = 2;
export const EV_FWD_GETS = 3;
export const EV_FWD_GETM = 4;
export const EV_INV = 5;
export const EVENT_NAMES = ['Load', 'Store', 'Replacement', 'Fwd_GetS', 'Fwd_GetM', 'Inv'] as const;

/** What the cache does: complete locally, or send a request and take the directory's answer. */
export const HIT = 0;
export const SEND_GETS = 1;
export const SEND_GETM = 2;
export const SEND_PUTS = 3;
export const SEND_PUTE = 4;
export const SEND_PUTM = 5;
/** Reply to a forwarded request or an invalidation. */
export const SEND_DATA = 6;
export const SEND_DATA_AND_WB = 7;
export const SEND_INV_ACK = 8;
/** "—" in the table: the event cannot occur in this state. */
export const IMPOSSIBLE = -1;

/** Next state after the transaction; for GetS from I the directory decides S or E. */
export const BY_RESPONSE = -2;

//                 Load                    Store                  Replacement            Fwd_GetS                     Fwd_GetM               Inv
const CACHE: ReadonlyArray<ReadonlyArray<readonly [action: number, next: number]>> = [
  /* I */ [[SEND_GETS, BY_RESPONSE], [SEND_GETM, M], [IMPOSSIBLE, I], [IMPOSSIBLE, I], [IMPOSSIBLE, I], [IMPOSSIBLE, I]],
  /* S */ [[HIT, S], [SEND_GETM, M], [SEND_PUTS, I], [IMPOSSIBLE, S], [IMPOSSIBLE, S], [SEND_INV_ACK, I]],
  /* E */ [[HIT, E], [HIT, M], [SEND_PUTE, I], [SEND_DATA_AND_WB, S], [SEND_DATA, I], [IMPOSSIBLE, E]],
  /* M */ [[HIT, M], [HIT, M], [SEND_PUTM, I], [SEND_DATA_AND_WB, S], [SEND_DATA, I], [IMPOSSIBLE, M]],
];

/** The cache controller's action for (state, event). */
export function cacheAction(state: number, event: number): number {
  return CACHE[state][event][0];
}

/** The cache controller's next stable state for (state, event). */
export function cacheNext(state: number, event: number): number {
  return CACHE[state][event][1];
}
