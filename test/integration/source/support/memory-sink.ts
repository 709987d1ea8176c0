import type { Batch } from '../../../../src/source/batch.js';
import type { CloudWatchSource } from '../../../../src/source/cloudwatch-source.js';
import { Writer } from './aws.js';

/** Collects delivered messages per stream and acknowledges each batch asynchronously. */
export class MemorySink {
  readonly received = new Map<string, string[]>();
  source: CloudWatchSource | undefined;
  count = 0;

  readonly handler = (batch: Batch): void => {
    const key = Writer.key(batch.stream.logGroup, batch.stream.logStream);
    const list = this.received.get(key) ?? [];
    for (const e of batch.events) list.push(e.message);
    this.received.set(key, list);
    this.count += batch.events.length;
    // Ack later and out of band, like a real sink would.
    setTimeout(() => void this.source?.ack(batch), Math.random() * 20);
  };
}
