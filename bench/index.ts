/**
 * The public API of lazytlb: one explicit barrel (tinybench style). Nothing inside the project
 * imports it; every layer imports the module it needs directly.
 */

// Engine: time, processes, hooks
export { Engine } from '../lib/engine/engine';
export type { OpExecutor, EventHandler, RunOptions, RunSummary, EngineEvents } from '../lib/engine/engine';
export { EventQueue } from '../lib/engine/event-queue';
export { Ops, OP_FIRST_EXTENSION, SPIN_NO_MASK } from '../lib/engine/ops';
export type { Sim } from '../lib/engine/ops';
export { Process } from '../lib/engine/process';
export type { HostStats } from '../lib/engine/host-clock';

// Observation
export { ProbeListeners, ProbePoint, SimProbePoint } from '../lib/probe';

// Errors a user can cause
export { LazytlbError, ConfigError, ParseError, WatchdogError } from '../lib/errors';

// Randomness and stats
export { Rng, RngStreams } from '../lib/rng';
export { Counter } from '../lib/stats/counter';
export { Histogram } from '../lib/stats/histogram';
export type { HistogramSummary } from '../lib/stats/histogram';
export { StatGroup } from '../lib/stats/group';
export type { StatValue } from '../lib/stats/group';
export { shapeMismatch } from '../lib/stats/shape';
export type { StatShape, StatShapeGroup, StatsOf } from '../lib/stats/shape';
export { VERSION } from '../lib/version';
export { runResult, simulatedJson } from '../lib/results';
export type { RunResult } from '../lib/results';

// Machines: topology, parameters, profiles
export { Topology, DIST_SELF, DIST_SMT, DIST_CCX, DIST_SOCKET, DIST_REMOTE, DISTANCE_NAMES } from '../lib/machine/topology';
export type { TopologyParams } from '../lib/machine/topology';
export { PARAM_SPECS, PARAM_KEYS } from '../lib/machine/params';
export type { MachineParams, ParamSpec, ParamUnit } from '../lib/machine/params';
export { PROFILES } from '../lib/machine/profiles';
export type { MachineProfile, Sourced, SourceTag } from '../lib/machine/profiles';
export { resolveMachine, topologyOf, profileNames, parseParamAssignment } from '../lib/machine/resolve';
export type { MachineConfig } from '../lib/machine/resolve';
export { describeProfile } from '../lib/machine/describe';

// Memory: values, MESI coherence, x86-TSO store buffers
export { SimMemory, LINE_BYTES } from '../mem/memory';
export { Coherence } from '../mem/coherence';
export type { CoherenceParams } from '../mem/coherence';
export { MemorySystem } from '../mem/memory-system';
export type { MemoryParams, Perturbation } from '../mem/memory-system';
export { MultiPark, WatchSet } from '../mem/multi-park';
export { MemMachine } from '../mem/machine';
export type { MemMachineOptions } from '../mem/machine';

// Litmus tests (herdtools7 x86)
export { parseLitmus } from '../mem/litmus/parse';
export { runLitmus, LITMUS_DEFAULTS } from '../mem/litmus/run';
export type { LitmusOptions, LitmusReport } from '../mem/litmus/run';
export type { LitmusTest, FinalState } from '../mem/litmus/ast';

// CPUs: interrupts, IPIs, smp_call_function, spinlocks, scheduler
export { KernelOps } from '../cpu/kernel-ops';
export { CpuMachine } from '../cpu/machine';
export type { CpuMachineOptions } from '../cpu/machine';
export { VcpuHost, KVM_VCPU_PREEMPTED, KVM_VCPU_FLUSH_TLB } from '../cpu/host';
export type { HostParams } from '../cpu/host';
export { CpuSystem } from '../cpu/cpu-system';
export type { CpuParams, IrqHandler } from '../cpu/cpu-system';
export { Cpu } from '../cpu/cpu';
export { Apic } from '../cpu/apic';
export { VEC_RESCHEDULE, VEC_CALL_FUNCTION, VEC_CALL_FUNCTION_SINGLE, VEC_LOCAL_TIMER, VECTOR_NUMBERS, VECTOR_NAMES } from '../cpu/vectors';
export { Spinlock } from '../cpu/spinlock';
export { Qspinlocks, SPINLOCK_KINDS, DEFAULT_SPINLOCK } from '../cpu/qspinlock';
export type { SpinlockKind } from '../cpu/qspinlock';
export { Cpumask } from '../cpu/cpumask';
export { Smp } from '../cpu/smp';
export type { SmpFunc, SmpCond, CallOrder } from '../cpu/smp';
export { Scheduler, SCHED_DEFAULTS } from '../cpu/sched';
export { WaitQueue } from '../cpu/waitqueue';
export { Pipe, PIPE_DEF_BUFFERS } from '../cpu/pipe';
export { EventFd } from '../cpu/eventfd';
export type { PipeCosts } from '../cpu/pipe';
export { NetDevice, RX_RING, NETDEV_STATS } from '../cpu/netdev';
export type { NetDeviceParams } from '../cpu/netdev';
export { spinlockStats, SPINLOCK_STATS } from '../cpu/spinlock';
export type { SpinlockStats } from '../cpu/spinlock';
export { activateMm, exitMm } from '../cpu/exec-mm';
export { CpuSet } from '../cpu/cpuset';
export type { SchedOptions } from '../cpu/sched';
export { Task, TASK_RUNNING, TASK_BLOCKED, TASK_DEAD } from '../cpu/task';
export type { AddressSpace, TaskBody, TaskEnv } from '../cpu/task';
export { AlwaysSwitch } from '../cpu/mm-switch';
export type { MmSwitch } from '../cpu/mm-switch';
export { AlwaysHit } from '../cpu/translation';
export type { Translation } from '../cpu/translation';

// TLBs, page tables, strategies, the oracle
export { TlbOps } from '../tlb/hw/tlb-ops';
export type { TlbScheduler, TlbTaskEnv, TlbTaskBody } from '../tlb/task-env';
export { TlbMachine } from '../tlb/machine';
export { MmLifecycle, MAX_MM_PAGES } from '../tlb/mm/mm-lifecycle';
export { Processes } from '../tlb/mm/process';
export type { CloneKind, CloneOptions } from '../tlb/mm/process';
export type { TlbMachineOptions } from '../tlb/machine';
export { TlbUnit } from '../tlb/hw/tlb-unit';
export { Tlb } from '../tlb/hw/tlb';
export { Mm, INIT_MM_ID, PTRS_PER_PTE } from '../tlb/mm/mm';
export { Mapping } from '../tlb/mm/mapping';
export { Oracle } from '../tlb/check/oracle';
export { LazyCoverage } from '../tlb/check/lazy-coverage';
export type { Violation, ViolationKind, FlushInfo } from '../tlb/check/oracle';
export { PerCpuStruct } from '../tlb/strategies/layout';
export type { FieldSpec } from '../tlb/strategies/layout';
export type { Strategy, StrategyContext, StrategyFactory, StrategyOptions, FlushReason } from '../tlb/strategies/strategy';
export { TLB_FLUSH_ALL, flushTlbLocal, flushTlbLocalRange, flushEnd } from '../tlb/strategies/common';
export {
  GenStrategy, TlbState, FlushTlbInfo, chooseNewAsid, incMmTlbGen, loadNewMmCr3, LOADED_MM_SWITCHING, TLB_NR_DYN_ASIDS,
  getFlushTlbInfo, cpumaskAnyBut, tlbContextFields, tlbStateWithShared, TLB_GENERATION_INVALID,
  FLUSH_TLB_INFO_V4_13, FLUSH_TLB_INFO_V4_20, FLUSH_TLB_INFO_V5_13, FLUSH_TLB_INFO_V6_15,
} from '../tlb/strategies/gen-common';
export { STRATEGIES, strategyNames, strategyByName } from '../tlb/strategies/index';
export type { StrategyName } from '../tlb/strategies/index';
export { Eager } from '../tlb/strategies/eager';
export { Linux48 } from '../tlb/strategies/linux-4.8';
export { Rfc2016Naive, Rfc2016Xchg, Rfc2016Rqlock } from '../tlb/strategies/rfc2016';
export { Linux413 } from '../tlb/strategies/linux-4.13';
export { Linux414 } from '../tlb/strategies/linux-4.14';
export { Linux420 } from '../tlb/strategies/linux-4.20';
export { Linux513 } from '../tlb/strategies/linux-5.13';
export { Linux615, isGlobalAsid } from '../tlb/strategies/linux-6.15';
export { Invlpgb } from '../tlb/strategies/invlpgb';
export { IntelRar } from '../tlb/strategies/intel-rar';
export { Latr } from '../tlb/strategies/latr';
export type { LatrParams } from '../tlb/strategies/latr';
export { McShootdown } from '../tlb/strategies/mc-shootdown';
export { McChannels, MC_PROTOCOLS, MC_NOTIFY, MC_SHOOTDOWN_DEFAULTS, parseMcShootdownOptions } from '../tlb/strategies/mc-channels';
export type { Aggregation, McShootdownParams, McProtocol, McNotify, Payload } from '../tlb/strategies/mc-channels';
export { Rar } from '../tlb/hw/rar';
export { KvmPvFlush, flushTlbMultiMask } from '../tlb/strategies/pv-flush';

// Experiments: one run with defaults, and comparisons over seeds with intervals
export { simulate, compare, sweep } from './experiment/api';
export type { SimulateConfig, SimulateConfigOf, CompareConfig, CompareResult, CompareGroup, SweepConfig, StrategySpec, WorkloadSpec, ParamOverrides } from './experiment/api';
export type { SweepJson, SweepSpec, SweepRun, Axis, Point } from './experiment/sweep';
export type { RunMeta } from './experiment/meta';
export type { StrategySummary } from './experiment/summary';
export type { Progress } from './experiment/pool';
export { summarize, welch, tQuantile975 } from '../lib/stats/summary';
export type { Summary, Difference } from '../lib/stats/summary';

// Runs, workloads, exploration
export { runSimulation, reproducer, PERTURBATION, DEFAULT_WARMUP_MS } from './runner';
export type { RunConfig } from './runner';
export { MIN_FLUSHES } from './result-json';
export type { RunJson } from './result-json';
export { WORKLOADS, DEFAULT_WORKLOAD, workloadByName, workloadNames, loadWorkload } from './workloads/index';
export type { WorkloadName, WorkloadStats, WorkloadParamsOf } from './workloads/index';
export { defineWorkload } from './workloads/workload';
export type { Workload, WorkloadContext, StatsOfWorkload } from './workloads/workload';
export { resolveWorkloadParams, wparam } from './workloads/params';
export type { WorkloadParamSpec, WorkloadParamSpecs, WorkloadParamValues, WorkloadParamInput, NumericSpec, ChoiceSpec, CpuListSpec } from './workloads/params';
export { lazyAlternator, kernelThread } from './workloads/common';
export { parseTrace } from './replay/parse-trace';
export type { ParsedTrace, TraceFormat, ParseOptions } from './replay/parse-trace';
export type { TraceEvent } from './replay/trace-events';
export { reconstruct } from './replay/reconstruct';
export type { TraceModel, ReplayTask, Segment, ReplayOp } from './replay/reconstruct';
export { kernelCounts } from './replay/kernel-counts';
export type { KernelCounts } from './replay/kernel-counts';
export { replayTrace, replayMachineParams } from './replay/replay';
export type { ReplayJson, ReplayOptions, TraceSummary } from './replay/replay';
export { replayWorkload } from './replay/replay-workload';
export { explore, exploreConfig, EXPLORE_TARGETS, missedTargets } from './explore';
export type { ExploreReport } from './explore';
