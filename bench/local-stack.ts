// Benchmarks that need moto, Kafka and OpenSearch bring the local stack up themselves, as
// `npm run demo` does: `stack.sh up` is idempotent (it starts only what is not running, on the
// ports of STACK_* if set), and `stack.sh env` says where the services are.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STACK = fileURLToPath(new URL('../test/stack/stack.sh', import.meta.url));

export interface LocalStack {
  readonly awsEndpoint: string;
  readonly region: string;
  readonly kafkaBrokers: string[];
  readonly opensearchUrl: string;
}

/** Starts what is missing of the stack and exports its environment into this process. */
export function useLocalStack(): LocalStack {
  console.log('== starting the local stack (moto, Kafka, OpenSearch) if it is not running');
  const up = spawnSync('bash', [STACK, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (up.status !== 0) {
    throw new Error(`test/stack/stack.sh up failed (exit ${up.status}): see its output above`);
  }
  const env = spawnSync('bash', [STACK, 'env'], { encoding: 'utf8' });
  if (env.status !== 0) throw new Error(`test/stack/stack.sh env failed: ${env.stderr}`);
  for (const line of env.stdout.split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match !== null) process.env[match[1] as string] = match[2];
  }
  const need = (name: string): string => {
    const value = process.env[name];
    if (value === undefined || value === '') throw new Error(`stack.sh env did not set ${name}`);
    return value;
  };
  return {
    awsEndpoint: need('AWS_ENDPOINT_URL'),
    region: need('AWS_REGION'),
    kafkaBrokers: need('KAFKA_BROKERS').split(','),
    opensearchUrl: need('OPENSEARCH_URL'),
  };
}

/** The closing hint: the stack is left running for the next run. */
export function printStackStillRunning(): void {
  console.log('the local stack keeps running; stop it with: npm run stack -- down');
}

/**
 * The forwarder settings a benchmark run shares: its log groups, its own checkpoint directory,
 * topic and index prefix on the local stack, no HTTP port to collide on, no enrichment.
 */
export function benchForwarderEnv(run: {
  readonly logGroupPrefix: string;
  readonly dir: string;
  readonly topic: string;
  readonly indexPrefix: string;
}): Record<string, string> {
  return {
    LOG_GROUP_PREFIXES: run.logGroupPrefix,
    CHECKPOINT_DIR: join(run.dir, 'checkpoints'),
    DEAD_LETTER_FILE: join(run.dir, 'dlq.ndjson'),
    KAFKA_TOPIC: run.topic,
    DEAD_LETTER_TOPIC: `${run.topic}-dlq`,
    KAFKA_CREATE_TOPIC: 'true',
    OPENSEARCH_INDEX_PREFIX: run.indexPrefix,
    HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
    ENRICHMENT_ENABLED: 'false',
  };
}
