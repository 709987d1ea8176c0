/**
 * Connection settings of the local stack (test/stack/stack.sh), read from the environment that
 * `npm run stack -- env` exports. Integration tests fail loudly when it is missing rather than
 * skipping: a skipped integration test must never count as a pass.
 */
export interface StackEnv {
  awsEndpoint: string;
  awsRegion: string;
  kafkaBrokers: string[];
  opensearchUrl: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: start the stack and export its settings with ` +
        `'npm run stack -- up && eval "$(npm run --silent stack -- env)"' (npm test does this)`,
    );
  }
  return value;
}

export function stackEnv(): StackEnv {
  return {
    awsEndpoint: required('AWS_ENDPOINT_URL'),
    awsRegion: required('AWS_REGION'),
    kafkaBrokers: required('KAFKA_BROKERS').split(','),
    opensearchUrl: required('OPENSEARCH_URL'),
  };
}

/** A short random suffix that keeps resources of concurrent or repeated runs apart. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
