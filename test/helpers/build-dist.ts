/**
 * Vitest global setup: the worker pool (engines `pool` and `auto`) runs its threads from the
 * compiled `dist/engine/` (a worker thread cannot load the TypeScript sources), so the
 * TypeScript build must be current. It is rebuilt here when any source file is newer than its
 * compiled output (`npm test` builds first anyway; this covers `npx vitest run`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.c?ts$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

function stale(): boolean {
  for (const file of sources(join(root, 'src'))) {
    const out = join(root, 'dist', relative(join(root, 'src'), file)).replace(/\.ts$/, '.js').replace(/\.cts$/, '.cjs');
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(file).mtimeMs) return true;
  }
  return false;
}

export default function setup(): void {
  if (!stale()) return;
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'pipe' });
  } catch {
    // Type errors still emit JavaScript; the tests report what matters.
  }
  if (!existsSync(join(root, 'dist/engine/worker.js'))) throw new Error('dist/engine/worker.js is missing: run `npm run build`.');
}
