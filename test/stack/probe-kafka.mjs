// Health probe for the stack's Kafka broker: a real metadata round trip with the product's own
// client (kafkajs), not a port check. Exit 0 when the broker answers, 1 otherwise.
import { Kafka, logLevel } from 'kafkajs';

const broker = process.argv[2] ?? '127.0.0.1:9392';
const kafka = new Kafka({
  clientId: 'stack-probe',
  brokers: [broker],
  connectionTimeout: 1000,
  requestTimeout: 2000,
  retry: { retries: 0 },
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  if (cluster.brokers.length === 0) throw new Error('no brokers registered yet');
  await admin.listTopics();
  await admin.disconnect();
  process.exit(0);
} catch (error) {
  process.stderr.write(`kafka probe: ${error instanceof Error ? error.message : String(error)}\n`);
  await admin.disconnect().catch(() => {});
  process.exit(1);
}
