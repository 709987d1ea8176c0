/**
 * Environment variables read by commands that load no configuration (the offline `parse`,
 * `simulate`): like the configuration itself, they are read here and nowhere else.
 */

/** The region named by `AWS_REGION`, if any (an empty value names none). */
export function environmentRegion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const region = env.AWS_REGION;
  return region === undefined || region === '' ? undefined : region;
}

/** The endpoint named by `AWS_ENDPOINT_URL` (`simulate` writes only to an emulator), if any. */
export function environmentEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const endpoint = env.AWS_ENDPOINT_URL;
  return endpoint === undefined || endpoint === '' ? undefined : endpoint;
}
