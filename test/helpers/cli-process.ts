/**
 * Running the `wsworks` command line as a child process: its output captured, its exit awaited,
 * and `wsworks echo` waited for until it prints `listening <port>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** A running `wsworks` process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything it has printed on stdout so far. */
  stdout(): string;
  /** Everything it has printed on stderr so far. */
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A `wsworks echo` that is listening. */
export interface EchoProcess extends CliProcess {
  readonly port: number;
}

/**
 * Starts `node <cli> ...args` in `cwd`. The child is added to `children`, for the test file's
 * teardown to kill.
 */
export function runCli(cli: string, args: readonly string[], cwd: string, children: ChildProcess[]): CliProcess {
  const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Starts `wsworks echo --port 0 --host 127.0.0.1` with `extra` arguments and waits (at most
 * 15 s) for its `listening <port>` line.
 *
 * @throws Error when it exits first or never prints the line, with what it printed
 */
export async function startEcho(cli: string, extra: readonly string[], cwd: string, children: ChildProcess[]): Promise<EchoProcess> {
  const r = runCli(cli, ['echo', '--port', '0', '--host', '127.0.0.1', ...extra], cwd, children);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const m = /^listening (\d+)$/m.exec(r.stdout());
    if (m) return { ...r, port: Number(m[1]) };
    if (r.child.exitCode !== null) throw new Error(`wsworks exited ${r.child.exitCode}: ${r.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no "listening" line; stdout: ${r.stdout()} stderr: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
