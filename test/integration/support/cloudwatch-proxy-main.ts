// The counting CloudWatch proxy (cloudwatch-proxy.ts) in a process of its own:
//   node --import tsx test/integration/support/cloudwatch-proxy-main.ts <target-url>
// A proxy inside a busy process (the freshness bench polls OpenSearch and consumes Kafka) times
// requests only when that event loop gets to them, so a stall bunches arrivals together; here
// nothing else runs on the loop. Prints its URL as the first line of stdout; the recorded calls
// are served at GET /__proxy/calls. Stops on SIGTERM or SIGINT.
import { startCloudWatchProxy } from './cloudwatch-proxy.js';

const target = process.argv[2];
if (target === undefined || !URL.canParse(target)) {
  process.stderr.write(
    `usage: cloudwatch-proxy-main.ts <target-url> (the emulator, e.g. http://127.0.0.1:4566); got ${String(target)}\n`,
  );
  process.exit(2);
}
const proxy = await startCloudWatchProxy(target);
process.stdout.write(`${proxy.url}\n`);

const stop = () => {
  proxy.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`closing the proxy failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
