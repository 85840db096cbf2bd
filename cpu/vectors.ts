/**
 * Interrupt vectors, as small indices into a CPU's pending mask, in priority order: the local
 * APIC delivers the highest vector first, so index 0 is the highest. Vector numbers from
 * arch/x86/include/asm/irq_vectors.h.
 */
export const VEC_RESCHEDULE = 0;
export const VEC_CALL_FUNCTION = 1;
export const VEC_CALL_FUNCTION_SINGLE = 2;
export const VEC_LOCAL_TIMER = 3;
/** A device's MSI-X vector (a NIC queue); dynamically allocated below the system vectors. */
export const VEC_DEVICE = 4;
export const NR_VECTORS = 5;
/** The vectors an IPI can carry (the others are raised by the CPU's own timer or a device). */
export const NR_IPI_VECTORS = 4;

/** The x86 vector numbers, for traces in the kernel's own terms (a device gets the first free one). */
export const VECTOR_NUMBERS = [0xfd, 0xfc, 0xfb, 0xec, 0x22] as const;
export const VECTOR_NAMES = ['reschedule', 'callFunction', 'callFunctionSingle', 'localTimer', 'device'] as const;

/** The highest-priority pending vector of a non-empty mask. */
export function highestPending(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}
