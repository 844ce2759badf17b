/**
 * The agent's logger: pino's call shape (`log.info({ fields }, 'message')`) and line format (JSON, `level`,
 * `time`, `msg`), without pino: the agent's dependency tree stays small (issue 5, "Light").
 */
export interface AgentLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type LogLevel = keyof typeof LEVELS;

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { type: value.name, message: value.message, ...(code !== undefined ? { code } : {}) };
  }
  return value;
}

export function createLogger(
  write: (line: string) => void,
  level: LogLevel = 'info',
  base: Record<string, unknown> = {},
): AgentLogger {
  const threshold = LEVELS[level];
  const at = (name: LogLevel) => (fields: Record<string, unknown>, msg: string) => {
    if (LEVELS[name] < threshold) return;
    const entry: Record<string, unknown> = { level: LEVELS[name], time: Date.now(), ...base };
    for (const [key, value] of Object.entries(fields)) entry[key] = plain(value);
    entry.msg = msg;
    write(`${JSON.stringify(entry)}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: AgentLogger = { debug() {}, info() {}, warn() {}, error() {} };
