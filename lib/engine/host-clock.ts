/**
 * Host-side timing: how fast the simulator itself runs. Kept apart from every simulated
 * statistic, which must depend only on config and seed; this is the one place model code
 * touches the wall clock, and its figures go only into the results' `host` section.
 */
export interface HostStats {
  wallMs: number;
  events: number;
  eventsPerSecond: number;
}

export class HostClock {
  private startedAt: number;
  private startEvents: number;
  wallMs: number;
  events: number;

  constructor() {
    this.startedAt = 0;
    this.startEvents = 0;
    this.wallMs = 0;
    this.events = 0;
  }

  start(events: number): void {
    this.startedAt = performance.now();
    this.startEvents = events;
  }

  stop(events: number): void {
    this.wallMs += performance.now() - this.startedAt;
    this.events += events - this.startEvents;
    this.startEvents = events;
    this.startedAt = performance.now();
  }

  stats(): HostStats {
    const eventsPerSecond = this.wallMs > 0 ? Math.round((this.events * 1000) / this.wallMs) : 0;
    return { wallMs: Math.round(this.wallMs * 1000) / 1000, events: this.events, eventsPerSecond };
  }
}
