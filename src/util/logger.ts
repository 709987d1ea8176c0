/** The slice of a pino logger every component uses: always `(fields, message)`. */
export interface ComponentLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const ignore = (): void => {};

export const noopLogger: ComponentLogger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};
