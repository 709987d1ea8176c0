import { hexCounter, type StreamRef } from '../util/identity.js';

/** An event as GetLogEvents returns it (no event id: identity comes from the message). */
export interface RawEvent {
  readonly timestamp: number;
  readonly ingestionTime: number;
  readonly message: string;
}

/**
 * Where reading resumes after a batch. It is cumulative (it describes the stream position after
 * this batch and every earlier one), so committing the newest contiguously acknowledged batch is
 * enough to restart without loss.
 */
export interface ResumePosition {
  /** Forward token returned with this page: the next GetLogEvents call continues from here. */
  readonly nextForwardToken: string;
  /**
   * `startTime` of the read session the token belongs to; sent again with the token on every
   * call (as SDK paginators do). The emulator's tokens are positions within the `startTime`-
   * filtered result, so a token used without its `startTime` would point elsewhere.
   */
  readonly tokenStartTime: number | null;
  /** Timestamp of the newest delivered event; the fallback seek point when the token is rejected. */
  readonly lastEventTimestamp: number | null;
  readonly lastIngestionTime: number | null;
  /**
   * Hashes (see {@link messageHash}) of every delivered message whose timestamp equals
   * `lastEventTimestamp`. A `startTime` re-seek includes that millisecond again, so these are
   * skipped to avoid duplicates.
   */
  readonly hashesAtLastTimestamp: readonly string[];
  /** CloudHSM `Reboot counter` of the newest delivered HSM record, lower-case hex. */
  readonly rebootCounter: string | null;
  /** CloudHSM `Sequence No` of the newest delivered HSM record, lower-case hex. */
  readonly lastSequence: string | null;
}

/**
 * One GetLogEvents page of one stream: the unit of acknowledgement. A forward page is never
 * empty; a re-read page (`replay`) may be, since its consumer checks pending gaps on it.
 */
export interface Batch {
  /** Unique within the process: `<group>|<stream>#<seq>`. */
  readonly id: string;
  readonly stream: StreamRef;
  /** Per-stream ordinal, strictly increasing in read order (starts at 1 per process). */
  readonly seq: number;
  readonly events: readonly RawEvent[];
  /** Token sent to obtain this page (undefined for a head or `startTime` read). */
  readonly fromToken: string | undefined;
  /** Token returned with this page. */
  readonly toToken: string;
  /** Clock time (ms) when the page was read. */
  readonly readAt: number;
  readonly resume: ResumePosition;
  /**
   * A page of a re-read of a time range behind the forward token (gap repair, look-back): it
   * holds records delivered before, which the consumer drops, and perhaps some the forward reader
   * missed. Its `resume` is the position before it: the checkpoint does not move.
   */
  readonly replay?: true;
}

const SEQUENCE_RE = /^[ \t]*Sequence No[ \t]*:[ \t]*(0x[0-9a-fA-F]+)/m;
const REBOOT_RE = /^[ \t]*Reboot counter[ \t]*:[ \t]*(0x[0-9a-fA-F]+)/m;

/**
 * The CloudHSM `(rebootCounter, sequence)` of an HSM text record, normalised to lower-case hex
 * without leading zeros; undefined for records without them (certificate-storage JSON).
 * Deliberately tiny: the full parser lives in src/transform and the source must not depend on it.
 */
export function extractSequence(
  message: string,
): { rebootCounter: string; sequence: string } | undefined {
  const seq = SEQUENCE_RE.exec(message)?.[1];
  const reboot = REBOOT_RE.exec(message)?.[1];
  if (seq === undefined || reboot === undefined) return undefined;
  return { rebootCounter: hexCounter(reboot), sequence: hexCounter(seq) };
}
