/**
 * Child processes of the bench: spawn with an IPC channel, wait for typed messages with a timeout,
 * and always clean up (stop politely, then SIGKILL).
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { clockBase, sleep, type FromChild, type ToChild } from './common.js';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(benchDir, '..', '..');

const live = new Set<{ proc: ChildProcess }>();

/**
 * One child process speaking a bench IPC protocol: `From` the messages it sends (each with a `type`, and
 * `{ type: 'fatal' }` when it fails), `To` those it takes. Defaults: the relay fan-out bench's.
 */
export class Child<From extends { type: string; message?: unknown } = FromChild, To extends object = ToChild> {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly #inbox: From[] = [];
  readonly #waiters: Array<{ type: From['type']; resolve: (m: From) => void; reject: (e: Error) => void }> = [];
  #stderr = '';
  #exit: string | undefined;

  /**
   * `pinCpus`: a CPU list for `taskset -c` (Linux), to keep the process off the other CPUs. The child is
   * profiled (`--cpu-prof`, when BENCH_PROFILE_DIR is set) when `name` or `profileAs` starts with one of
   * BENCH_PROFILE's names (default `relay`).
   */
  constructor(name: string, script: string, env: Record<string, string>, pinCpus?: string, profileAs?: string) {
    this.name = name;
    const profileDir = process.env.BENCH_PROFILE_DIR;
    const wanted = (process.env.BENCH_PROFILE ?? 'relay').split(',').map((x) => x.trim()).filter(Boolean);
    const profile = profileDir && wanted.some((x) => name.startsWith(x) || profileAs?.startsWith(x))
      ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, `${name.replace(/\W/g, '_')}-${Date.now()}`)] : [];
    const args = [...profile, '--import', 'tsx', join(benchDir, script)];
    this.proc = spawn(pinCpus ? 'taskset' : process.execPath, pinCpus ? ['-c', pinCpus, process.execPath, ...args] : args, {
      cwd: repoRoot,
      env: { ...process.env, ...env, BENCH_CLOCK_BASE: String(clockBase) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    live.add(this);
    this.proc.stdout?.resume();
    this.proc.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-4000);
    });
    this.proc.on('message', (message) => this.#deliver(message as From));
    this.proc.on('exit', (code, signal) => {
      live.delete(this);
      this.#exit = `${this.name} exited (${signal ?? code})${this.#stderr ? `: ${this.#stderr.trim().split('\n').slice(-6).join(' | ')}` : ''}`;
      for (const w of this.#waiters.splice(0)) w.reject(new Error(this.#exit));
    });
    this.proc.on('error', (error) => {
      this.#exit = `${this.name} failed to start: ${error.message}`;
      for (const w of this.#waiters.splice(0)) w.reject(new Error(this.#exit));
    });
  }

  /** The process id (while it runs). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Last lines the child wrote on stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  #deliver(message: From): void {
    if (message.type === 'fatal') {
      const error = new Error(`${this.name}: ${String(message.message)}`);
      for (const w of this.#waiters.splice(0)) w.reject(error);
      this.#exit ??= error.message;
      return;
    }
    const i = this.#waiters.findIndex((w) => w.type === message.type);
    if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(message);
    else this.#inbox.push(message);
  }

  send(message: To | { type: 'stop' }): void {
    if (this.proc.connected) this.proc.send(message as object);
  }

  /** The next message of `type` (one that already arrived counts). */
  waitFor<T extends From['type']>(type: T, timeoutMs: number): Promise<Extract<From, { type: T }>> {
    const i = this.#inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.#inbox.splice(i, 1)[0] as Extract<From, { type: T }>);
    if (this.#exit) return Promise.reject(new Error(this.#exit));
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: From) => {
          clearTimeout(timer);
          resolve(m as Extract<From, { type: T }>);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const j = this.#waiters.indexOf(waiter);
        if (j >= 0) this.#waiters.splice(j, 1);
        reject(new Error(`${this.name}: no "${type}" within ${timeoutMs} ms${this.#stderr ? ` (stderr: ${this.#stderr.trim().split('\n').slice(-4).join(' | ')})` : ''}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Asks the child to stop; SIGKILLs it after `graceMs`. */
  async stop(graceMs = 4000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.send({ type: 'stop' });
    await Promise.race([exited, sleep(graceMs)]);
    if (!this.exited) {
      this.proc.kill('SIGKILL');
      await Promise.race([exited, sleep(1000)]);
    }
  }
}

/** Kills every child still running (on exit or interrupt). */
/** `true` when `taskset` can run (Linux util-linux). */
export function hasTaskset(): boolean {
  try {
    return spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}

export function killAll(): void {
  for (const child of live) {
    try {
      child.proc.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
  live.clear();
}
