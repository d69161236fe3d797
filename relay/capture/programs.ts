/**
 * Running the external programs the adapters need (xrandr, ImageMagick `import`, ffmpeg) with a time limit,
 * and turning "not installed" into a {@link CaptureError} that says how to install it.
 * @module
 * @internal
 */
import { execFile } from 'node:child_process';
import { CaptureError, type CaptureAdapterName } from './CaptureError.js';

/** What a finished program left. @internal */
export interface ProgramResult {
  stdout: Buffer;
  stderr: string;
  /** Exit code; `null` when it was killed (time limit). */
  code: number | null;
  timedOut: boolean;
}

/** Options of {@link runProgram}. @internal */
export interface RunOptions {
  /** Kill the program after this long (ms). */
  timeoutMs: number;
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Largest stdout kept (bytes). Default 64 MiB. */
  maxBuffer?: number;
}

/** How to get each program, said in the error when it is missing. @internal */
export const INSTALL_HINTS: Record<string, string> = {
  xrandr: 'install x11-xserver-utils (Debian/Ubuntu: apt-get install x11-xserver-utils)',
  import: 'install ImageMagick (Debian/Ubuntu: apt-get install imagemagick)',
  ffmpeg: 'install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg) or give its path',
};

/**
 * Runs `command` and resolves with what it printed, whatever its exit code. Rejects with a `CaptureError`
 * (`LAN_ERR_CAPTURE_UNAVAILABLE`) when the program cannot be started (not installed, not executable).
 * Never leaves the program running: it is killed (SIGKILL) at the time limit.
 * @internal
 */
export function runProgram(adapter: CaptureAdapterName, command: string, args: readonly string[], options: RunOptions): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, {
      encoding: 'buffer', timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
      env: options.env ? { ...process.env, ...options.env } : process.env, windowsHide: true,
    }, (error, stdout, stderr) => {
      const code = (error as (NodeJS.ErrnoException & { code?: unknown; killed?: boolean }) | null)?.code;
      if (typeof code === 'string') {
        reject(code.startsWith('ERR_')
          ? CaptureError.unavailable(adapter, `"${command}" failed: ${error?.message ?? code}`, undefined, error)
          : programMissing(adapter, command, code, error));
        return;
      }
      const killed = (error as { killed?: boolean } | null)?.killed === true;
      resolve({
        stdout: Buffer.isBuffer(stdout) ? stdout : Buffer.from(stdout ?? ''),
        stderr: Buffer.isBuffer(stderr) ? stderr.toString('utf8') : String(stderr ?? ''),
        code: error ? (typeof code === 'number' ? code : null) : 0,
        timedOut: killed,
      });
    });
  });
}

/** The error for a program that could not be started (`ENOENT`, `EACCES`…). @internal */
export function programMissing(adapter: CaptureAdapterName, command: string, errno: string, cause?: unknown): CaptureError {
  const base = command.split(/[\\/]/).pop()?.replace(/\.exe$/i, '') ?? command;
  const hint = INSTALL_HINTS[base] ?? `install ${base} or give its path`;
  const what = errno === 'ENOENT'
    ? `the program "${command}" was not found`
    : `the program "${command}" could not be started (${errno})`;
  return CaptureError.unavailable(adapter, what, hint, cause);
}

/** The last non-empty lines of a program's stderr, on one line, for error messages. @internal */
export function lastLines(text: string, count = 3): string {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(-count).join(' | ');
}
