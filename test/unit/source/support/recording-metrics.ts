import type { StreamRef } from '../../../../src/util/identity.js';
import type {
  ApiOperation,
  ApiOutcome,
  SourceMetrics,
} from '../../../../src/source/source-metrics.js';

/** Counts what the source reports, for assertions. */
export class RecordingMetrics implements SourceMetrics {
  readonly apiCalls = new Map<string, number>();
  throttles = 0;
  retries = 0;
  tokenRejections = 0;
  restarts = 0;
  duplicates = 0;
  events = 0;
  pages = 0;
  commits = 0;
  checkpointFailures = 0;
  discovered: StreamRef[] = [];
  readonly wakeups: { stream: StreamRef; woken: number }[] = [];
  readonly rereads: { stream: StreamRef; events: number }[] = [];
  retired: StreamRef[] = [];
  lastStates = { active: 0, idle: 0 };
  lags: number[] = [];

  calls(operation: ApiOperation, outcome: ApiOutcome): number {
    return this.apiCalls.get(`${operation}:${outcome}`) ?? 0;
  }

  apiCall(operation: ApiOperation, outcome: ApiOutcome): void {
    const key = `${operation}:${outcome}`;
    this.apiCalls.set(key, (this.apiCalls.get(key) ?? 0) + 1);
  }
  throttled(): void {
    this.throttles += 1;
  }
  retry(): void {
    this.retries += 1;
  }
  rateLimitWait(): void {}
  page(): void {
    this.pages += 1;
  }
  eventsRead(_group: string, count: number): void {
    this.events += count;
  }
  reread(stream: StreamRef, events: number): void {
    this.rereads.push({ stream, events });
  }
  siblingsWoken(stream: StreamRef, woken: number): void {
    this.wakeups.push({ stream, woken });
  }
  pollingLag(_stream: StreamRef, lagMs: number): void {
    this.lags.push(lagMs);
  }
  streamStates(active: number, idle: number): void {
    this.lastStates = { active, idle };
  }
  tokenRejected(): void {
    this.tokenRejections += 1;
  }
  duplicatesSkipped(_stream: StreamRef, count: number): void {
    this.duplicates += count;
  }
  streamDiscovered(stream: StreamRef): void {
    this.discovered.push(stream);
  }
  streamRetired(stream: StreamRef): void {
    this.retired.push(stream);
  }
  logGroupsForgotten: string[] = [];
  logGroupForgotten(logGroup: string): void {
    this.logGroupsForgotten.push(logGroup);
  }
  inFlight(): void {}
  checkpointCommitted(): void {
    this.commits += 1;
  }
  checkpointFailed(): void {
    this.checkpointFailures += 1;
  }
  pollerRestarted(): void {
    this.restarts += 1;
  }
}
