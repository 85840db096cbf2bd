import { linux420 } from '../../tlb/strategies/linux-4.20';
import { linux513 } from '../../tlb/strategies/linux-5.13';
import { flushScenario } from '../tlb/scenario';
import { randomized } from '../tlb/random-workload';
test('x', () => {
  for (const f of [linux420, linux513]) {
    const { m } = flushScenario(f());
    const d = m.stats.dump() as any;
    console.log(f().name, JSON.stringify(d.flushes.latencyCycles), JSON.stringify(d.smp));
  }
  let sk = 0;
  const r = randomized(linux513, { onRun: (m) => { sk += (m.stats.dump() as any).strategy.tlbGenReadsSkipped; } });
  console.log(JSON.stringify(r), sk);
});
