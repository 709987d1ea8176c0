/**
 * `cloudhsm-audit-forwarder run [--reset-checkpoints GROUP/STREAM ...] [--reset-all-checkpoints --yes]`
 *
 * The container's entry point. Exit codes: 0 after a graceful stop (SIGTERM/SIGINT), 1 on a
 * runtime failure, 2 on a configuration error, an unreadable checkpoint (with the file name
 * and the reset hint) or a checkpoint directory another forwarder holds (naming it). Resetting checkpoints is explicit: only the streams named, or all of them
 * when confirmed with `--yes`.
 */
import { createApp, createLogger, lockStateDirectory, resetStreamCheckpoints } from '../app.js';
import type { Logger } from '../app.js';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import type { StreamRef } from '../util/identity.js';
import { ForwarderError, UsageError } from '../util/errors.js';

interface RunArgs {
  readonly resetStreams: StreamRef[];
  readonly resetAll: boolean;
}

/** `GROUP/STREAM`: the stream name is the part after the last slash (stream names have none). */
function parseStreamRef(text: string): StreamRef {
  const slash = text.lastIndexOf('/');
  if (slash <= 0 || slash === text.length - 1) {
    throw new UsageError(
      `--reset-checkpoints expects LOG_GROUP/LOG_STREAM (e.g. /aws/cloudhsm/cluster-abc/hsm-xyz), got "${text}"`,
    );
  }
  return { logGroup: text.slice(0, slash), logStream: text.slice(slash + 1) };
}

export function parseRunArgs(args: readonly string[]): RunArgs {
  const resetStreams: StreamRef[] = [];
  let resetAll = false;
  let confirmed = false;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (arg === '--reset-checkpoints') {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new UsageError('--reset-checkpoints needs a LOG_GROUP/LOG_STREAM argument');
      }
      resetStreams.push(parseStreamRef(value));
      i += 1;
    } else if (arg === '--reset-all-checkpoints') {
      resetAll = true;
    } else if (arg === '--yes') {
      confirmed = true;
    } else {
      throw new UsageError(
        `unknown option "${arg}" for run; accepted: --reset-checkpoints LOG_GROUP/LOG_STREAM, ` +
          '--reset-all-checkpoints --yes',
      );
    }
  }
  if (resetAll && !confirmed) {
    throw new UsageError(
      '--reset-all-checkpoints re-reads every stream from the start position: add --yes to confirm',
    );
  }
  return { resetStreams, resetAll };
}

export async function runRunCommand(args: string[]): Promise<number> {
  const options = parseRunArgs(args);
  const config = loadConfig({ requireSink: true });
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
  // Before any checkpoint is read or reset: a second forwarder on this directory stops here.
  const lock = await lockStateDirectory(config.checkpoint.dir, 'run', logger);
  try {
    return await runLocked(options, config, logger);
  } finally {
    await lock.release();
  }
}

async function runLocked(options: RunArgs, config: Config, logger: Logger): Promise<number> {
  if (options.resetAll || options.resetStreams.length > 0) {
    const removed = await resetStreamCheckpoints(
      config,
      options.resetAll ? undefined : options.resetStreams,
    );
    logger.warn({ removed, dir: config.checkpoint.dir }, 'checkpoints reset on request');
  }

  const app = createApp(config, logger);
  let stopping: Promise<boolean> | undefined;
  const stop = (signal: string): Promise<boolean> => {
    if (stopping === undefined) {
      logger.info({ signal }, 'stopping: no more polling, draining in-flight batches');
      stopping = app.stop();
    }
    return stopping;
  };
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });

  // Start-up can wait (for a sink that cannot be reached yet): a signal meanwhile stops it.
  const starting = app.start();
  const first = await Promise.race([
    starting.then(
      () => undefined,
      () => undefined,
    ),
    stopped,
  ]);
  if (first !== undefined) {
    const drained = await stop(first);
    await starting.catch(() => undefined);
    logger.info({ drained }, 'stopped during start-up');
    return process.exitCode === 1 ? 1 : 0;
  }
  try {
    await starting;
  } catch (error) {
    await app.stop().catch(() => undefined);
    if (error instanceof ForwarderError) throw error;
    throw new ForwarderError(
      'FWD_ERR_SOURCE',
      `start-up failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  logger.info('forwarder running');
  const signal = await stopped;
  const drained = await stop(signal);
  logger.info({ drained }, 'stopped');
  return process.exitCode === 1 ? 1 : 0;
}
