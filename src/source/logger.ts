/** The slice of a pino logger the source uses: always `(fields, message)`. */
export interface SourceLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const ignore = (): void => {};

export const noopLogger: SourceLogger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};
