/**
 * The CLI's log lines: text for a terminal (the default: time, level when not info, the sentence, then the
 * meeting and participant it is about), or one JSON object a line for a log collector (pino).
 * @module
 * @internal
 */
import pino from 'pino';
import type { LogFields, RelayLog } from './Relay.js';

/** Log levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A relay log function writing `format` at `level` and above. */
export function cliLogger(format: 'text' | 'json', level: LogLevel): RelayLog {
  if (format === 'json') {
    // Synchronous: lines are not lost when the process exits right after (SIGTERM).
    const logger = pino({ level, base: { service: 'lanconf-relay' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ sync: true }));
    return (lvl, message, fields) => logger[lvl](fields ?? {}, message);
  }
  const min = LOG_LEVELS.indexOf(level);
  return (lvl, message, fields) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    const stream = lvl === 'warn' ? process.stderr : process.stdout;
    stream.write(`${new Date().toISOString()} ${lvl === 'info' ? '' : `${lvl}: `}${message}${describe(fields)}\n`);
  };
}

function describe(fields: LogFields | undefined): string {
  if (!fields) return '';
  const parts = Object.entries(fields).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length ? `  [${parts.join(' ')}]` : '';
}
