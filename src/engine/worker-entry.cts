/**
 * The file Piscina loads in each worker thread, CommonJS on purpose.
 *
 * Piscina first tries `require(filename)`. On Node 20.19+ requiring an ES module goes through
 * require(esm), which can abort the whole process ("FATAL ERROR: v8::Module::IsGraphAsync must
 * be used on an instantiated module") when the same module is also being loaded by `import()`;
 * seen here with the ESM worker under load. A CommonJS entry is required plainly, and it loads
 * the ESM worker (`worker.ts`) with `import()`, once.
 */

type TaskHandler = (task: unknown) => unknown;

let run: TaskHandler | null = null;
let loading: Promise<TaskHandler> | null = null;

function runTask(task: unknown): unknown {
  if (run !== null) return run(task);
  loading ??= import('./worker.js').then((worker) => (run = worker.default as TaskHandler));
  return loading.then((handler) => handler(task));
}

export = runTask;
