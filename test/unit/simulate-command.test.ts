import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { runSimulateCommand, SIMULATE_USAGE } from '../../src/commands/simulate-command.js';
import { UsageError } from '../../src/util/errors.js';

const saved = process.env.AWS_ENDPOINT_URL;
afterEach(() => {
  if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = saved;
});

describe('simulate', () => {
  it('never writes fake audit records anywhere but a loopback emulator', async () => {
    for (const endpoint of ['https://logs.eu-west-1.amazonaws.com', 'http://10.0.0.5:4566', '']) {
      process.env.AWS_ENDPOINT_URL = endpoint;
      await assert.rejects(runSimulateCommand([]), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(
          error.message,
          endpoint === '' ? /set AWS_ENDPOINT_URL/ : /not a loopback address/,
        );
        return true;
      });
    }
  });

  it('refuses counts out of range, naming the option', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';
    await assert.rejects(
      runSimulateCommand(['--hsms', '0']),
      /--hsms must be a whole number from 1 to 28/,
    );
    await assert.rejects(runSimulateCommand(['--records', 'ten']), /--records must be/);
    await assert.rejects(runSimulateCommand(['--nope']), /see 'simulate --help'/);
  });

  it('documents every option it accepts in --help', () => {
    for (const option of [
      '--clusters',
      '--hsms',
      '--records',
      '--log-group-prefix',
      '--seed',
      '--gap',
      '--live',
      '--help',
    ]) {
      assert.ok(SIMULATE_USAGE.includes(option), option);
    }
  });
});
