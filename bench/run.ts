// Benchmark dispatcher: `npm run bench -- <name>`. Add a benchmark by adding a row to BENCHES.
type Bench = (args: readonly string[]) => Promise<void>;

const BENCHES: Record<string, { describe: string; load: () => Promise<Bench> }> = {
  parse: {
    describe: 'parse + normalize + JSON.stringify throughput on one core',
    load: () => import('./parse-bench.js').then((m) => m.runParseBench),
  },
  e2e: {
    describe:
      "records/s delivered to Kafka and OpenSearch vs. each sink's raw ceiling (brings the stack up)",
    load: () => import('./e2e-bench.js').then((m) => m.runE2eBench),
  },
  freshness: {
    describe:
      'seconds from PutLogEvents to searchable / on Kafka after idling, idle cost, peak call rate (brings the stack up)',
    load: () => import('./freshness-bench.js').then((m) => m.runFreshnessBench),
  },
};

function usage(): string {
  const rows = Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(10)} ${b.describe}`);
  return `Usage: npm run bench -- <name> [options]\n\nBenchmarks:\n${rows.join('\n')}\n`;
}

const name = process.argv[2];
const bench = name === undefined ? undefined : BENCHES[name];
if (bench === undefined) {
  process.stderr.write(name === undefined ? usage() : `unknown benchmark "${name}"\n${usage()}`);
  process.exitCode = 2;
} else {
  const run = await bench.load();
  await run(process.argv.slice(3));
}
