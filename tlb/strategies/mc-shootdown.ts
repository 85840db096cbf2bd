import type { Sim } from '../../lib/engine/ops';
import { Topology } from '../../lib/machine/topology';
import type { Counter } from '../../lib/stats/counter';
import type { Histogram } from '../../lib/stats/histogram';
import type { WatchSet } from '../../mem/multi-park';
import type { Cpu } from '../../cpu/cpu';
import { TIF_NEED_RESCHED } from '../../cpu/task';
import type { Mm } from '../mm/mm';
import type { TlbOps } from '../hw/tlb-ops';
import { flushTlbLocalRange } from './common';
import { Linux48 } from './linux-4.8';
import {
  KIND_AGGREGATE, KIND_FLUSH, MC_SHOOTDOWN_DEFAULTS, MSG_END, MSG_HEADER, MSG_KIND, MSG_MASK_WORDS, MSG_MM, MSG_START,
  McChannels, type Aggregation, type McShootdownParams, type Payload,
} from './mc-channels';
import type { FlushReason, Strategy, StrategyContext } from './strategy';

/** What a message in flight on a channel is for: the sender's own shootdown, or an aggregation. */
type InFlight = 'own' | Aggregation | null;

/** Where a message was handled (the `received` stats). */
type PollSite = 'idle' | 'tick' | 'schedule' | 'wait' | 'ipi';

/**
 * Message-based TLB shootdown in the Barrelfish style (Baumann et al., "The Multikernel", SOSP
 * 2009, §5.1's unmap case study and Fig 6), as a Linux 4.8 kernel (`linux-4.8`: TLBSTATE_OK/LAZY,
 * no PCID) whose `native_flush_tlb_others` sends cache-line messages instead of IPIs
 * (docs/reference/beyond-mainline.md §5). What stays Linux: the local flush, mm_cpumask as the
 * target set, `flush_tlb_func` (a LAZY target runs leave_mm unless `lazy=stay`) and the wait for replies.
 *
 * - Channels (`mc-channels.ts`): UMP-style single-producer single-consumer lines, a message per
 *   line with its header written last, and a reply line back. A channel holds one message; a send
 *   to a busy channel waits in the sender's queue (Flounder's send continuation) and goes out when
 *   the reply comes.
 * - Protocols (`protocol`): unicast, broadcast, multicast through one aggregator per LLC domain,
 *   NUMA-aware multicast (farthest domains first). An aggregator handles its message where it
 *   polls, forwards it, flushes itself and replies when its members have: asynchronously, as a
 *   Barrelfish monitor, so no poll point ever waits.
 * - Receivers poll (`mcPoll`) at the tick, in __schedule() and in the idle loop, which polls
 *   instead of halting (a multi-line park over every incoming line, mem/multi-park.ts); the
 *   initiator polls while it waits, so two CPUs shooting down at each other both progress. With
 *   `notify` = `ipi` a target not in the idle poll loop also gets an IPI that runs the poll.
 *
 * Nothing of this is charged by hand but `handler` cycles per message: each message costs the
 * receiver a miss on a line it held Shared, each reply a miss on the initiator, as the coherence
 * model says.
 */
export class McShootdown extends Linux48 implements Strategy {
  override readonly name: string = 'mc-shootdown';
  override readonly kernel: string = 'Barrelfish-style message shootdown (Baumann et al., SOSP 2009) on Linux 4.8\'s lazy TLB';
  readonly mp: McShootdownParams;
  protected ch!: McChannels;
  protected topo!: Topology;
  protected n = 0;
  /** Sender-side channel state (Barrelfish's struct ump_chan, private to the sender), by from * n + to. */
  protected sent!: Float64Array;
  protected inFlight!: InFlight[];
  protected queued!: Payload[][];
  protected queuedFor!: InFlight[][];
  /**
   * Per CPU: replies its own shootdown still waits for; kept in memory too (`McChannels.pending`),
   * since a poll at the tick may take the last reply while the wait loop is parked: the loop must
   * see a word change, or it would park again with nothing left to wake it.
   */
  protected own!: Int32Array;
  /** Per CPU: what its poll loop reads (index 0: the idle task's thread flags, then 1 + s: the incoming line from s, then 1 + n + s: s's reply line, then 1 + 2n: its pending count). */
  protected watch!: WatchSet[];
  /** Per CPU: targets written to since its last notification pass. */
  protected toNotify!: number[][];
  protected pollFunc = 0;
  protected messages!: Counter;
  protected forwarded!: Counter;
  protected replies!: Counter;
  protected waitedForChannel!: Counter;
  protected notifications!: Counter;
  protected received!: Record<PollSite, Counter>;
  protected latency!: Histogram;

  constructor(params: Partial<McShootdownParams> = {}) {
    super();
    this.mp = { ...MC_SHOOTDOWN_DEFAULTS, ...params };
  }

  override attach(ctx: StrategyContext): void {
    super.attach(ctx);
    const n = ctx.nCpus;
    this.n = n;
    this.topo = new Topology(ctx.params);
    this.ch = new McChannels(ctx.memory, n, this.mp);
    this.sent = new Float64Array(n * n);
    this.inFlight = new Array<InFlight>(n * n).fill(null);
    this.queued = Array.from({ length: n * n }, () => []);
    this.queuedFor = Array.from({ length: n * n }, () => []);
    this.own = new Int32Array(n);
    this.toNotify = Array.from({ length: n }, () => []);
    const multi = ctx.sched.m.mem.multi;
    this.watch = [];
    for (let c = 0; c < n; c++) {
      const words = [ctx.sched.rqs[c].idle.flagsAddr];
      // Its own incoming slot is a line nobody writes (its broadcast line is written by itself).
      for (let s = 0; s < n; s++) words.push(s === c ? this.ch.ack(c, c) : this.ch.incoming(s, c) + MSG_HEADER);
      for (let s = 0; s < n; s++) words.push(this.ch.ack(s, c));
      words.push(this.ch.pending(c));
      this.watch.push(multi.watch(`cpu${c}'s channels`, words));
    }
    if (this.mp.notify === 'ipi') this.pollFunc = ctx.smp.register('mc_poll', (cpu) => this.mcPoll(ctx.k, cpu, 'ipi'));
    const s = ctx.stats.group('mc');
    this.messages = s.counter('messages', 'messages written to a channel line (an initiator\'s and an aggregator\'s forwards; a broadcast counts once)');
    this.forwarded = s.counter('forwarded', 'messages an aggregator forwarded to the members of its domain');
    this.replies = s.counter('replies', 'replies written (a target that flushed; an aggregator once its members replied)');
    this.waitedForChannel = s.counter('waitedForChannel', 'sends that found their channel still holding an unanswered message and waited in the sender\'s queue');
    this.notifications = s.counter('notifications', 'notify=ipi: poll calls queued to targets not in the idle poll loop (smp_call_function_single_async; an IPI unless one was pending)');
    const r = s.group('received');
    const site = (name: PollSite, doc: string) => r.counter(name, `messages handled ${doc}`);
    this.received = {
      idle: site('idle', 'in the idle poll loop'), tick: site('tick', 'at the scheduler tick'), schedule: site('schedule', 'in __schedule()'),
      wait: site('wait', 'by a CPU waiting for its own replies'), ipi: site('ipi', 'in the notification IPI (notify=ipi)'),
    };
    this.latency = s.group('latency').histogram(this.mp.protocol, `cycles from a shootdown's first message to its last reply, protocol ${this.mp.protocol}`);
  }

  /** native_flush_tlb_others(): messages to every other CPU in mm_cpumask, then poll until each has replied. */
  protected override *flushTlbOthers(k: TlbOps, cpu: Cpu, mm: Mm, start: number, end: number, _reason: FlushReason): Sim {
    const me = cpu.id;
    const targets = (yield* mm.cpumask.loadCpus(k)).filter((c) => c !== me);
    if (targets.length === 0) return;
    for (const t of targets) this.ctx.flushPosted.notify(me, t); // each is reached by a message, directly or through its aggregator
    const t0 = this.ctx.now();
    const msg = (kind: number, mask: number[]): Payload => ({ kind, mm: mm.id, start, end, mask });
    // The channel state is the poll points' too (the tick polls in interrupt context): keep them out while we post.
    yield k.irqDisable();
    if (this.mp.protocol === 'broadcast') {
      yield* this.postBroadcast(k, me, msg(KIND_FLUSH, this.maskOf(targets, this.n, (c) => c)), targets);
    } else if (this.mp.protocol === 'unicast') {
      for (const t of targets) yield* this.send(k, me, t, msg(KIND_FLUSH, []), 'own');
    } else {
      for (const domain of this.domainsInOrder(me, targets)) {
        if (this.topo.ccxOf(domain[0]) === this.topo.ccxOf(me)) {
          for (const t of domain) yield* this.send(k, me, t, msg(KIND_FLUSH, []), 'own'); // my own domain: I am its aggregator
        } else {
          const local = this.topo.cpusOfCcx(this.topo.ccxOf(domain[0]));
          yield* this.send(k, me, domain[0], msg(KIND_AGGREGATE, this.maskOf(domain.slice(1), local.length, (c) => local.indexOf(c))), 'own');
        }
      }
    }
    yield* this.notify(k, cpu);
    yield k.irqEnable();
    // "Wait for all replies", servicing incoming messages meanwhile, as a Barrelfish monitor's event loop.
    for (;;) {
      yield k.irqDisable();
      yield* this.mcPoll(k, cpu, 'wait');
      yield k.irqEnable();
      if (this.own[me] === 0) break;
      this.watch[me].seen[1 + 2 * this.n] = this.own[me];
      yield* this.park(k, me);
    }
    this.latency.record(this.ctx.now() - t0);
  }

  /**
   * Multicast's message order: the targets grouped by LLC domain, each group's aggregator first
   * (its lowest CPU). `multicast` takes the domains in order; `numa-multicast` the farthest first
   * (most interconnect hops, then other sockets, then other domains of this socket), its own last.
   */
  protected domainsInOrder(me: number, targets: number[]): number[][] {
    const byCcx = new Map<number, number[]>();
    for (const t of [...targets].sort((a, b) => a - b)) {
      const d = this.topo.ccxOf(t);
      const list = byCcx.get(d);
      if (list === undefined) byCcx.set(d, [t]);
      else list.push(t);
    }
    const domains = [...byCcx.entries()].sort((a, b) => a[0] - b[0]).map(([, cpus]) => cpus);
    if (this.mp.protocol !== 'numa-multicast') return domains;
    const far = (d: number[]) => this.topo.distanceUnchecked(me, d[0]) * 1000 + this.topo.hopsUnchecked(me, d[0]);
    return domains.sort((a, b) => far(b) - far(a) || a[0] - b[0]); // stable: ties keep domain order
  }

  /** Mask words for `size` positions (only those are written), with bit `index(c)` set for each CPU. */
  protected maskOf(cpus: number[], size: number, index: (c: number) => number): number[] {
    const mask = new Array<number>(Math.min(MSG_MASK_WORDS, Math.ceil(size / 32))).fill(0);
    for (const c of cpus) mask[index(c) >>> 5] = (mask[index(c) >>> 5] | (1 << (index(c) & 31))) >>> 0;
    return mask;
  }

  /** ump_chan send: write the message now if the channel is free, else queue it until the reply. */
  protected *send(k: TlbOps, from: number, to: number, p: Payload, what: Exclude<InFlight, null>): Sim {
    if (what === 'own') yield* this.setPending(k, from, this.own[from] + 1);
    const idx = from * this.n + to;
    if (this.inFlight[idx] !== null) {
      this.queued[idx].push(p);
      this.queuedFor[idx].push(what);
      this.waitedForChannel.value++;
      return;
    }
    yield* this.post(k, from, to, p, what);
  }

  /** Writes a message into req[from][to]: the payload, then the header, which a TSO store buffer makes visible last. */
  protected *post(k: TlbOps, from: number, to: number, p: Payload, what: Exclude<InFlight, null>): Sim {
    const idx = from * this.n + to;
    const line = this.ch.req(from, to);
    yield* this.writePayload(k, line, p);
    const seq = ++this.sent[idx];
    yield k.store(line + MSG_HEADER, seq);
    this.inFlight[idx] = what;
    this.messages.value++;
    this.toNotify[from].push(to);
  }

  /** One broadcast line for every target; each replies on its own reply line. */
  protected *postBroadcast(k: TlbOps, from: number, p: Payload, targets: number[]): Sim {
    const line = this.ch.bc(from);
    yield* this.writePayload(k, line, p);
    const seq = this.sent[from * this.n + from] + 1;
    this.sent[from * this.n + from] = seq;
    yield k.store(line + MSG_HEADER, seq);
    for (const t of targets) {
      this.sent[from * this.n + t] = seq;
      this.inFlight[from * this.n + t] = 'own';
      this.toNotify[from].push(t);
    }
    yield* this.setPending(k, from, this.own[from] + targets.length);
    this.messages.value++;
  }

  protected *writePayload(k: TlbOps, line: number, p: Payload): Sim {
    yield k.store(line + MSG_MM, p.mm);
    yield k.store(line + MSG_START, p.start);
    yield k.store(line + MSG_END, p.end);
    yield k.store(line + MSG_KIND, p.kind);
    for (let w = 0; w < p.mask.length; w++) yield k.store(McChannels.maskWord(line, w), p.mask[w]);
  }

  /**
   * notify=ipi: after the messages are globally visible (MFENCE, against the target's clearing of
   * its polling flag), an IPI running the poll to each target not in the idle poll loop. An IPI
   * already pending there (its CSD still locked) will see these messages too.
   */
  protected *notify(k: TlbOps, cpu: Cpu): Sim {
    const list = this.toNotify[cpu.id];
    if (this.mp.notify !== 'ipi' || list.length === 0) {
      list.length = 0;
      return;
    }
    yield k.mfence();
    for (const t of list.splice(0)) {
      if ((yield k.load(this.ch.polling(t))) !== 0) continue;
      if (yield* this.ctx.smp.callFunctionSingleAsync(k, cpu, t, this.ch.csd(cpu.id, t), this.pollFunc, 0)) this.notifications.value++;
    }
  }

  /**
   * The receive side, with interrupts off: every incoming line with a new header is handled, then
   * every reply to a message this CPU has in flight. Never waits, so it may run anywhere.
   */
  protected *mcPoll(k: TlbOps, cpu: Cpu, site: PollSite): Sim {
    const me = cpu.id;
    const n = this.n;
    const seen = this.watch[me].seen;
    for (let s = 0; s < n; s++) {
      if (s === me) continue;
      const line = this.ch.incoming(s, me);
      const h = yield k.load(line + MSG_HEADER);
      if (h === seen[1 + s]) continue;
      seen[1 + s] = h;
      yield* this.receive(k, cpu, s, h, line, site);
    }
    for (let s = 0; s < n; s++) {
      if (this.inFlight[me * n + s] === null) continue;
      const a = yield k.load(this.ch.ack(s, me));
      seen[1 + n + s] = a;
      if (a === this.sent[me * n + s]) yield* this.replied(k, cpu, s);
    }
    yield* this.notify(k, cpu);
  }

  /** One message from `from`: flush (an aggregate: forward, flush, and reply later), then reply. */
  protected *receive(k: TlbOps, cpu: Cpu, from: number, seq: number, line: number, site: PollSite): Sim {
    const me = cpu.id;
    if (this.mp.protocol === 'broadcast' && (((yield k.load(McChannels.maskWord(line, me >>> 5))) >>> (me & 31)) & 1) === 0) return;
    if (this.mp.handler > 0) yield k.delay(this.mp.handler);
    this.received[site].value++;
    if ((yield k.load(line + MSG_KIND)) === KIND_AGGREGATE) {
      yield* this.aggregate(k, cpu, from, seq, line);
      return;
    }
    yield* this.flushTlbFunc(cpu, line); // flush_tlb_func() on the message: mm, start and end are its first words
    yield* this.reply(k, me, from, seq);
  }

  /** flush_tlb_func(): with `lazy=stay` a lazy target flushes the range as a TLBSTATE_OK one does and
   *  stays in mm_cpumask, so its switch back finds its bit set (no LOCK BTS, no CR3 write). */
  protected override *flushTlbFunc(cpu: Cpu, f: number): Sim {
    if (this.mp.lazy === 'leave') return yield* super.flushTlbFunc(cpu, f);
    const k = this.ctx.k;
    if ((yield k.load(f)) !== (yield k.load(this.tlbstate.addr(cpu.id, 'active_mm')))) return;
    yield* flushTlbLocalRange(this.ctx, k, cpu, yield k.load(f + 8), yield k.load(f + 16)); // start, end
  }

  /** The aggregator: forward to the members of its domain, flush itself, and reply when they all have. */
  protected *aggregate(k: TlbOps, cpu: Cpu, from: number, seq: number, line: number): Sim {
    const agg: Aggregation = { from, seq, waiting: 0 };
    const p: Payload = { kind: KIND_FLUSH, mm: yield k.load(line + MSG_MM), start: yield k.load(line + MSG_START), end: yield k.load(line + MSG_END), mask: [] };
    const local = this.topo.cpusOfCcx(this.topo.ccxOf(cpu.id));
    for (let w = 0; w < MSG_MASK_WORDS && w * 32 < local.length; w++) {
      let bits = yield k.load(McChannels.maskWord(line, w));
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits = (bits & (bits - 1)) >>> 0;
        agg.waiting++;
        this.forwarded.value++;
        yield* this.send(k, cpu.id, local[w * 32 + b], p, agg);
      }
    }
    yield* this.flushTlbFunc(cpu, line);
    if (agg.waiting === 0) yield* this.reply(k, cpu.id, from, seq);
  }

  /** The message in flight from this CPU to `to` is answered: account it, and send the next queued one. */
  protected *replied(k: TlbOps, cpu: Cpu, to: number): Sim {
    const me = cpu.id;
    const idx = me * this.n + to;
    const what = this.inFlight[idx] as Exclude<InFlight, null>;
    this.inFlight[idx] = null;
    if (what === 'own') yield* this.setPending(k, me, this.own[me] - 1);
    else if (--what.waiting === 0) yield* this.reply(k, me, what.from, what.seq);
    if (this.queued[idx].length > 0) yield* this.post(k, me, to, this.queued[idx].shift() as Payload, this.queuedFor[idx].shift() as Exclude<InFlight, null>);
  }

  protected *setPending(k: TlbOps, cpu: number, count: number): Sim {
    this.own[cpu] = count;
    yield k.store(this.ch.pending(cpu), count);
  }

  protected *reply(k: TlbOps, me: number, to: number, seq: number): Sim {
    yield k.store(this.ch.ack(me, to), seq);
    this.replies.value++;
  }

  /**
   * Polls until a watched word changes. A changed header is left for `mcPoll`; a changed flags or
   * reply word is taken as seen here, so that a reply nobody waits for cannot keep the poll awake.
   */
  protected *park(k: TlbOps, me: number): Sim {
    const w = this.watch[me];
    const i = yield k.spinUntilAnyChanged(w.id);
    if (i === 0 || i > this.n) w.seen[i] = yield k.load(w.addrs[i]);
  }

  /** The tick's poll point (end of scheduler_tick(), interrupts off). */
  *tickPoll(k: TlbOps, cpu: Cpu): Sim {
    yield* this.mcPoll(k, cpu, 'tick');
  }

  /** Polling alone: a busy target answers at its next tick, so a correct flush may wait one. */
  flushWaitBound(tickCycles: number): number {
    return this.mp.notify === 'poll' ? tickCycles : 0;
  }

  /** __schedule()'s poll point, before the prev != next test: drain requests before switching. */
  *schedulePoll(k: TlbOps, cpu: Cpu): Sim {
    yield* this.mcPoll(k, cpu, 'schedule');
  }

  /**
   * The idle loop polls its channels instead of halting (Barrelfish's idle dispatcher; Linux's
   * cpu_idle_poll): parked on every incoming and reply line and on its thread flags, it handles
   * messages with interrupts off, and returns once need_resched is set. With notify=ipi it
   * advertises the poll as TIF_POLLING_NRFLAG does, so initiators need not interrupt it.
   */
  *idlePoll(k: TlbOps, cpu: Cpu, flagsAddr: number): Sim {
    const me = cpu.id;
    const w = this.watch[me];
    const ipi = this.mp.notify === 'ipi';
    if (ipi) {
      yield k.store(this.ch.polling(me), 1);
      yield k.mfence();
    }
    for (;;) {
      yield* this.mcPoll(k, cpu, 'idle');
      const flags = yield k.load(flagsAddr);
      if (((flags >>> TIF_NEED_RESCHED) & 1) !== 0) break;
      w.seen[0] = flags;
      yield k.irqEnable(); // while (!tif_need_resched()) cpu_relax();
      yield* this.park(k, me);
      yield k.irqDisable();
    }
    if (ipi) {
      // Clear the flag, then poll once more: an initiator that still saw it set sent no IPI.
      yield k.store(this.ch.polling(me), 0);
      yield k.mfence();
      yield* this.mcPoll(k, cpu, 'idle');
    }
    yield k.irqEnable();
  }
}

export const mcShootdown = (): Strategy => new McShootdown();
