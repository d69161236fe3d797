/**
 * `lanconf-relay` as a child process, the way an admin runs it: its output collected, its stdin writable,
 * killed after the test if it is still running.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A running `lanconf-relay …`. */
export interface CliProcess {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** Writes a line to its stdin (as if typed). */
  type(line: string): void;
  /** Waits until its stdout (or stderr) matches `re`; returns the match. */
  waitFor(re: RegExp, timeoutMs?: number, stream?: 'out' | 'err'): Promise<RegExpMatchArray>;
}

/** Runs `relay/cli.ts` with `args` (through tsx) and `env` added to this process's environment. */
export function runCli(t: TestContext, args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'relay/cli.ts', ...args], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  child.stdin!.on('error', () => { /* the process may exit before reading */ });
  const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? -1)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child, exited, out: () => out, err: () => err,
    type: (line) => void child.stdin!.write(`${line}\n`),
    async waitFor(re, timeoutMs = 10_000, stream = 'out') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = (stream === 'out' ? out : err).match(re);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`lanconf-relay exited (${child.exitCode}) before printing ${re}:\n${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs} ms:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
