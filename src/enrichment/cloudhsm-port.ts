/**
 * The two CloudHSM v2 calls enrichment needs, behind a narrow port so that tests can script
 * pages and failures, plus the SDK adapter and the STS account-id helper.
 *
 * Why raw JSON: the npm registry only has `@aws-sdk/client-cloudhsm-v2` 3.332.0, whose model
 * lacks `Mode`, `NetworkType`, `Hsm.HsmType` and `Hsm.EniIpV6` and whose deserializer drops
 * unknown members (docs/cloudwatch-logs.md, CloudHSM v2 API). The adapter therefore keeps the SDK for endpoint,
 * signing and retries, but captures the response body with a middleware placed right after the
 * SDK's deserializer (i.e. closer to the wire, so it sees the bytes first) and returns the wire
 * JSON. The SDK's parsed output is only a fallback if the body could not be captured.
 */
import {
  CloudHSMV2Client,
  DescribeClustersCommand,
  ListTagsCommand,
} from '@aws-sdk/client-cloudhsm-v2';
import type { CloudHSMV2ClientConfig } from '@aws-sdk/client-cloudhsm-v2';
import type { STSClient } from '@aws-sdk/client-sts';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

/** One `Hsm` exactly as the JSON-1.1 wire format carries it (every member optional). */
export interface RawHsm {
  HsmId?: string;
  ClusterId?: string;
  AvailabilityZone?: string;
  SubnetId?: string;
  EniId?: string;
  EniIp?: string;
  EniIpV6?: string;
  HsmType?: string;
  State?: string;
  StateMessage?: string;
  [member: string]: unknown;
}

/** One `Tag`. */
export interface RawTag {
  Key?: string;
  Value?: string;
}

/** One `Cluster` exactly as the wire carries it (members the old SDK drops included). */
export interface RawCluster {
  ClusterId?: string;
  State?: string;
  StateMessage?: string;
  HsmType?: string;
  Mode?: string;
  NetworkType?: string;
  BackupPolicy?: string;
  BackupRetentionPolicy?: { Type?: string; Value?: string } | null;
  VpcId?: string;
  SecurityGroup?: string;
  SubnetMapping?: Record<string, string> | null;
  Hsms?: RawHsm[] | null;
  TagList?: RawTag[] | null;
  [member: string]: unknown;
}

export interface DescribeClustersPage {
  readonly clusters: readonly RawCluster[];
  readonly nextToken?: string;
}

export interface ListTagsPage {
  readonly tags: readonly RawTag[];
  readonly nextToken?: string;
}

/** What the metadata provider needs from CloudHSM v2. Errors are the SDK's. */
export interface CloudHsmPort {
  describeClusters(nextToken?: string, signal?: AbortSignal): Promise<DescribeClustersPage>;
  listTags(resourceId: string, nextToken?: string, signal?: AbortSignal): Promise<ListTagsPage>;
}

/** Name of the raw-body middleware; tests may add their own relative to it. */
export const RAW_BODY_MIDDLEWARE = 'cloudhsmRawBodyCapture';

interface RawHttpResponse {
  statusCode?: number;
  body?: unknown;
}

type Handler = (args: unknown) => Promise<{ response: unknown; output?: unknown }>;

/** Reads an SDK response body (Node stream, Uint8Array or string) into bytes. */
export async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    }
    return Buffer.concat(chunks);
  }
  return new Uint8Array();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Adds a per-command middleware that buffers the HTTP body, hands the bytes back to the SDK (so
 * its deserializer and error handling work unchanged) and keeps the parsed JSON for the caller.
 * Non-2xx bodies are left to the SDK, which throws. Returns a getter for the captured JSON.
 */
export function captureJsonBody(command: {
  middlewareStack: unknown;
}): () => Record<string, unknown> | undefined {
  let json: Record<string, unknown> | undefined;
  const capture =
    (next: Handler): Handler =>
    async (args) => {
      const result = await next(args);
      const response = result.response as RawHttpResponse;
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        const bytes = await readBody(response.body);
        response.body = bytes;
        try {
          const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
          if (isRecord(parsed)) json = parsed;
        } catch {
          // Not JSON: the SDK's deserializer reports it.
        }
      }
      return result;
    };
  // The SDK's middleware types are version-specific; the shape used here is stable.
  (
    command.middlewareStack as {
      addRelativeTo(middleware: unknown, options: Record<string, unknown>): void;
    }
  ).addRelativeTo(capture, {
    relation: 'after',
    toMiddleware: 'deserializerMiddleware',
    name: RAW_BODY_MIDDLEWARE,
    override: true,
  });
  return () => json;
}

function abortOption(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

function optionalToken(token: unknown): { nextToken?: string } {
  return typeof token === 'string' && token !== '' ? { nextToken: token } : {};
}

/** Options of {@link createCloudHsmPort}. */
export interface CloudHsmAdapterOptions {
  /** Page size of DescribeClusters (API maximum 25 per the model; omitted = service default). */
  readonly pageSize?: number;
}

/** The port over a `CloudHSMV2Client` (the caller owns and configures the client). */
export function createCloudHsmPort(
  client: CloudHSMV2Client,
  options: CloudHsmAdapterOptions = {},
): CloudHsmPort {
  return {
    async describeClusters(nextToken, signal) {
      const command = new DescribeClustersCommand({
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        ...(options.pageSize === undefined ? {} : { MaxResults: options.pageSize }),
      });
      const captured = captureJsonBody(command);
      const output = await client.send(command, abortOption(signal));
      const source = captured() ?? (output as unknown as Record<string, unknown>);
      const clusters = Array.isArray(source.Clusters) ? source.Clusters.filter(isRecord) : [];
      return { clusters: clusters, ...optionalToken(source.NextToken) };
    },
    async listTags(resourceId, nextToken, signal) {
      const command = new ListTagsCommand({
        ResourceId: resourceId,
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      });
      const captured = captureJsonBody(command);
      const output = await client.send(command, abortOption(signal));
      const source = captured() ?? (output as unknown as Record<string, unknown>);
      const tags = Array.isArray(source.TagList) ? source.TagList.filter(isRecord) : [];
      return { tags: tags, ...optionalToken(source.NextToken) };
    },
  };
}

/** Client settings the forwarder passes (endpoint only for the emulator). */
export interface CloudHsmClientSettings {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: CloudHSMV2ClientConfig['credentials'];
  readonly maxAttempts?: number;
}

/**
 * A CloudHSM v2 client. SDK 3.332.0 predates `AWS_ENDPOINT_URL`, so the endpoint must be passed
 * explicitly when pointing at an emulator.
 */
export function createCloudHsmClient(settings: CloudHsmClientSettings): CloudHSMV2Client {
  return new CloudHSMV2Client({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
    maxAttempts: settings.maxAttempts ?? 2,
  });
}

/** The minimal STS surface used: GetCallerIdentity. */
export interface CallerIdentityPort {
  getCallerIdentity(signal?: AbortSignal): Promise<{ account?: string }>;
}

/** STS port over an `STSClient`. */
export function createCallerIdentityPort(client: STSClient): CallerIdentityPort {
  return {
    async getCallerIdentity(signal) {
      const output = await client.send(new GetCallerIdentityCommand({}), abortOption(signal));
      return output.Account === undefined ? {} : { account: output.Account };
    },
  };
}

/**
 * The account id for `cloud.account.uid`: the configured one, else STS GetCallerIdentity
 * (called once at start-up by the provider). Throws when STS answers without an account.
 */
export async function resolveAccountId(
  port: CallerIdentityPort,
  signal?: AbortSignal,
): Promise<string> {
  const { account } = await port.getCallerIdentity(signal);
  if (account === undefined || !/^\d{12}$/.test(account)) {
    throw new Error(`STS GetCallerIdentity returned no valid account id (${String(account)})`);
  }
  return account;
}
