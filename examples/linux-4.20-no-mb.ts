/**
 * A what-if, written the way a user writes one: Linux 4.20 without the smp_mb() that a CPU
 * executes on its way back from lazy mode, between clearing is_lazy and reading the mm's
 * tlb_gen. Run it with
 *
 *   npx lazytlb explore --strategy ./examples/linux-4.20-no-mb.ts --seeds 300
 */
import { Linux420, type Sim, type TlbOps } from 'lazytlb';

export default class Linux420NoMb extends Linux420 {
  override readonly name = 'linux-4.20-no-mb';
  override readonly kernel = 'Linux 4.20 minus the smp_mb() in switch_mm_irqs_off()';

  // Without the barrier, the is_lazy = false store can sit in the store buffer while the
  // tlb_gen load goes ahead: the flusher then still sees this CPU as lazy and skips it, and this
  // CPU reads the old generation and skips its catch-up flush.
  protected override *smpMb(_k: TlbOps): Sim {}
}
