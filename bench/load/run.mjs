// `npm run bench:load`: the end-to-end echo load benchmark. Every server runs as its own child
// process pinned to one core; the load generator (one or more forked processes) runs on the
// other. Each server+scenario is verified byte for byte before (and after) it is measured.
//
//   npm run bench:load                                   # everything, one run
//   npm run bench:load -- --scenario small --servers wsworks-js,ws-native --seconds 3
//
// Options (env in brackets):
//   --scenario a,b        scenarios (default: all)               [LOAD_SCENARIOS]
//   --servers a,b         servers (default: all)                 [LOAD_SERVERS]
//   --seconds n           measured window per run (default 5)    [LOAD_SECONDS]
//   --warmup n            warmup before it (default 2)           [LOAD_WARMUP]
//   --generators n        generator processes (default 1)        [LOAD_GENERATORS]
//   --connections n       override every scenario's connection count
//   --window n            override messages in flight per connection
//   --server-cpus list    taskset CPU list for servers (default 0)
//   --gen-cpus list       taskset CPU list for generators (default 1)
//   --out path            results prefix (default bench/results/load, or load-subset for a subset)
//
// Results: <out>.md (tables), <out>.json (everything), <out>.svg (chart).

import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram } from './histogram.mjs';
import { SCENARIOS, SERVERS } from './scenarios.mjs';
import { buildMessage, verifyEcho } from './wire.mjs';
import { renderMarkdown, renderSvg } from './report.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const HOST = '127.0.0.1';

// ---------------------------------------------------------------- options
const { values: opts } = parseArgs({
  options: {
    scenario: { type: 'string' },
    servers: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    generators: { type: 'string' },
    connections: { type: 'string' },
    window: { type: 'string' },
    'server-cpus': { type: 'string', default: '0' },
    'gen-cpus': { type: 'string', default: '1' },
    out: { type: 'string' },
  },
  allowPositionals: false,
});
const list = (s) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : null);
const scenarioNames = list(opts.scenario ?? process.env.LOAD_SCENARIOS) ?? Object.keys(SCENARIOS);
const serverNames = list(opts.servers ?? process.env.LOAD_SERVERS) ?? Object.keys(SERVERS);
for (const s of scenarioNames) if (!SCENARIOS[s]) throw new Error(`unknown scenario "${s}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
for (const s of serverNames) if (!SERVERS[s]) throw new Error(`unknown server "${s}" (known: ${Object.keys(SERVERS).join(', ')})`);
const measureSec = Number(opts.seconds ?? process.env.LOAD_SECONDS ?? 5);
const warmupSec = Number(opts.warmup ?? process.env.LOAD_WARMUP ?? 2);
const generatorCount = Math.max(1, Number(opts.generators ?? process.env.LOAD_GENERATORS ?? 1));
const subset = opts.scenario || opts.servers || process.env.LOAD_SCENARIOS || process.env.LOAD_SERVERS;
const outPrefix = path.resolve(ROOT, opts.out ?? (subset ? 'bench/results/load-subset' : 'bench/results/load'));

// ---------------------------------------------------------------- machine
const log = (...a) => console.log(...a);
const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
const cores = os.cpus().length;
const have = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const taskset = have('taskset') && cores > 1;
const clkTck = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
// Keep this coordinating process off the server's core.
if (taskset) {
  try {
    execFileSync('taskset', ['-pc', opts['gen-cpus'], String(process.pid)], { stdio: 'ignore' });
  } catch {}
}
// 10,000 idle connections need more than 10,000 descriptors on each side; children inherit this.
function nofileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]) || 1024;
}
if (have('prlimit') && nofileLimit() < 65536) {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=65536:65536'], { stdio: 'ignore' });
  } catch {}
}
const fdLimit = nofileLimit();
/** How many CPUs a taskset list ("1", "1-3", "1,3") names. */
const cpuCount = (spec) => spec.split(',').reduce((n, part) => {
  const [a, b] = part.split('-').map(Number);
  return n + (b === undefined ? 1 : b - a + 1);
}, 0);
const genCores = taskset ? cpuCount(opts['gen-cpus']) : cores;

// What was measured: the commit, and whether src/ or assembly/ differ from it or dist/ is older.
function gitState() {
  try {
    const git = (...a) => execFileSync('git', a, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const changed = git('status', '--porcelain', '--', 'src', 'assembly').split('\n').filter(Boolean).length;
    return { commit: git('rev-parse', '--short', 'HEAD'), changedSourceFiles: changed };
  } catch {
    return null;
  }
}

const command = `npm run bench:load${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const meta = {
  date: new Date().toISOString(),
  cpu: cpuModel,
  cores,
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  command,
  warmupSeconds: warmupSec,
  measureSeconds: measureSec,
  generators: generatorCount,
  pinning: taskset ? { servers: opts['server-cpus'], generators: opts['gen-cpus'] } : null,
  generatorCores: genCores,
  fdLimit,
  git: gitState(),
};
log(`# wsworks load benchmark — ${cpuModel}, ${cores} cores, Node ${process.version}`);
log(`pinning: ${taskset ? `servers on CPU ${opts['server-cpus']}, generators on CPU ${opts['gen-cpus']}` : 'none (taskset missing or one core)'}; open-file limit ${fdLimit}`);

// ---------------------------------------------------------------- build
if (!existsSync(path.join(ROOT, 'dist/index.js')) || !existsSync(path.join(ROOT, 'dist/cli.js'))) {
  log('dist/ missing: npm run build');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

// ---------------------------------------------------------------- processes
const pinned = (cpus, argv) => (taskset ? ['taskset', ['-c', cpus, ...argv]] : [argv[0], argv.slice(1)]);

/** Whether `wsworks echo --engine <engine>` starts (the CLI refuses engines it does not know). */
async function engineAvailable(engine) {
  return await new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'echo', '--engine', engine, '--port', '0', '--host', HOST], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let settled = false;
    const settle = (v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(v);
    };
    const timer = setTimeout(() => settle({ ok: false, why: 'no "listening" line within 10 s' }), 10000);
    child.stdout.on('data', (d) => {
      if (/listening \d+/.test(d.toString())) settle({ ok: true });
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => settle({ ok: false, why: (err.split('\n')[0] || `exit ${code}`).trim() }));
  });
}

/** Starts one echo server; resolves once it prints `listening <port>`. */
function startServer(spec, scenario, { exposeGc = false } = {}) {
  const deflate = scenario.message.deflate;
  // LOAD_SERVER_NODE_ARGS passes extra flags to the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = (process.env.LOAD_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const nodeArgs = [process.execPath, ...extra, ...(exposeGc ? ['--expose-gc'] : [])];
  const argv =
    spec.kind === 'wsworks'
      ? [...nodeArgs, path.join(HERE, 'wsworks-server.mjs'), '--port', '0', '--host', HOST, '--engine', spec.engine, ...(deflate ? [] : ['--no-deflate'])]
      : [...nodeArgs, path.join(HERE, 'ws-server.mjs'), '--port', '0', '--host', HOST, '--kernels', spec.kernels, ...(deflate ? ['--deflate'] : [])];
  const [cmd, args] = pinned(opts['server-cpus'], argv);
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WSWORKS_REPORT_ELD: '1' } });
  const server = { child, pid: child.pid, stderr: '', info: null, port: 0, exit: null, statsWaiters: [] };
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('listening ')) server.port = Number(line.slice(10));
    else if (line.startsWith('info ')) server.info = JSON.parse(line.slice(5));
    else if (line.startsWith('STATS ')) server.statsWaiters.shift()?.(JSON.parse(line.slice(6)));
    if (server.port && server.info) server.onReady?.();
  });
  // stderr lines are tagged with the phase they came in: startup, load (connections open,
  // traffic or idle), teardown (after the measurement, while clients go away and it stops).
  server.phase = 'startup';
  server.stderrCounts = {};
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!line.trim()) return;
    server.stderrCounts[server.phase] = (server.stderrCounts[server.phase] ?? 0) + 1;
    if (server.stderr.length < 20000) server.stderr += `[${server.phase}] ${line}\n`;
  });
  child.stdin.on('error', () => {});
  server.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve((server.exit = { code, signal }))));
  server.command = (cmdLine) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 10000);
      server.statsWaiters.push((s) => {
        clearTimeout(timer);
        resolve(s);
      });
      child.stdin.write(`${cmdLine}\n`);
    });
  server.ready = new Promise((resolve, reject) => {
    server.onReady = () => resolve(server);
    server.exited.then((e) => reject(new Error(`server exited (${e.code ?? e.signal}) before listening: ${server.stderr.trim().split('\n')[0] ?? ''}`)));
    setTimeout(() => reject(new Error('server did not listen within 15 s')), 15000).unref();
  });
  return server;
}

async function stopServer(server) {
  if (server.exit) return server.exit;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
  const e = await server.exited;
  clearTimeout(timer);
  return e;
}

/** utime+stime of a process (all its threads), in seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clkTck;
}

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
}

/** Forks the generators, each with its share of the connections, and waits until all are connected. */
async function startGenerators(scenario, port, connections, window, localAddresses) {
  const gens = [];
  const per = Math.floor(connections / generatorCount);
  for (let g = 0; g < generatorCount; g++) {
    const share = per + (g < connections % generatorCount ? 1 : 0);
    const child = fork(path.join(HERE, 'generator.mjs'), [], {
      ...(taskset ? { execPath: 'taskset', execArgv: ['-c', opts['gen-cpus'], process.execPath] } : {}),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const inbox = [];
    const waiters = [];
    child.on('message', (m) => {
      const w = waiters.findIndex((x) => x.type === m.type);
      if (w >= 0) waiters.splice(w, 1)[0].resolve(m);
      else inbox.push(m);
    });
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const next = (type, timeoutMs) =>
      new Promise((resolve, reject) => {
        const i = inbox.findIndex((m) => m.type === type);
        if (i >= 0) return resolve(inbox.splice(i, 1)[0]);
        const timer = setTimeout(() => reject(new Error(`generator: no "${type}" within ${timeoutMs / 1000} s`)), timeoutMs);
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        exited.then((code) => reject(new Error(`generator exited (${code}) while waiting for "${type}"`)));
      });
    child.send({
      type: 'config',
      host: HOST,
      port,
      message: scenario.message,
      connections: share,
      window,
      localAddresses,
      connectConcurrency: 64,
      deadlineMs: (warmupSec + measureSec) * 1000 + 120000,
    });
    gens.push({ child, next, exited, send: (m) => child.send(m) });
  }
  const ready = await Promise.all(gens.map((g) => g.next('ready', 120000)));
  return { gens, ready };
}

async function closeGenerators(gens) {
  for (const g of gens) {
    if (g.child.exitCode === null && g.child.connected) g.send({ type: 'close' });
  }
  await Promise.race([Promise.all(gens.map((g) => g.exited)), sleep(5000)]);
  for (const g of gens) if (g.child.exitCode === null) g.child.kill('SIGKILL');
}

const errorsOf = (ready) => ready.flatMap((r) => r.errors ?? []);
const firstLines = (text, n = 5) => text.trim().split('\n').filter(Boolean).slice(0, n);

/**
 * The end of every run, measured or failed, so that nothing outlives its row: closes the
 * generators still running (killing any that hang), stops the server, and records the server's
 * exit and the start of its stderr in the row for the report.
 */
async function tearDownRun(row, server, gens) {
  await closeGenerators(gens);
  row.serverExit = await stopServer(server);
  row.serverStderr = firstLines(server.stderr);
  row.serverStderrCounts = server.stderrCounts;
}

// ---------------------------------------------------------------- one run
async function runThroughput(name, scenario, spec, message) {
  const connections = Number(opts.connections ?? scenario.connections);
  const window = Number(opts.window ?? scenario.window);
  const row = { scenario: name, server: spec.id, connections, window, messageBytes: message.payloadBytes, wireBytesSent: message.wire.length };
  const server = startServer(spec, scenario);
  let gens = [];
  try {
    await server.ready;
    row.serverInfo = server.info;
    row.verifyBefore = await verifyEcho({ host: HOST, port: server.port, message });
    const started = await startGenerators(scenario, server.port, connections, window);
    gens = started.gens;
    server.phase = 'load';
    const connected = started.ready.reduce((a, r) => a + r.connected, 0);
    if (connected < connections) throw new Error(`only ${connected}/${connections} connections opened: ${errorsOf(started.ready).slice(0, 3).join('; ')}`);
    for (const g of gens) g.send({ type: 'start' });
    await sleep(warmupSec * 1000);
    const cpu0 = cpuSeconds(server.pid);
    const rss0 = rssBytes(server.pid);
    const t0 = performance.now();
    await server.command('report'); // flush the line buffer; then start a fresh window
    server.child.stdin.write('reset\n');
    for (const g of gens) g.send({ type: 'mark' });
    await sleep(measureSec * 1000);
    const cpu1 = cpuSeconds(server.pid);
    const t1 = performance.now();
    const results = await Promise.all(gens.map((g) => (g.send({ type: 'end' }), g.next('result', 30000))));
    server.phase = 'teardown';
    const stats = await server.command('report');
    const rss1 = rssBytes(server.pid);
    const hist = new Histogram();
    for (const r of results) hist.add(r.latency);
    const messages = results.reduce((a, r) => a + r.messages, 0);
    const elapsed = results.reduce((a, r) => a + r.elapsed, 0) / results.length;
    const msgs = messages / elapsed;
    Object.assign(row, {
      status: 'ok',
      messages,
      elapsed,
      msgsPerSec: msgs,
      mbPerSec: (msgs * message.payloadBytes) / 1e6,
      wireMbPerSecIn: results.reduce((a, r) => a + r.wireBytes, 0) / elapsed / 1e6,
      p10ms: hist.quantile(0.1) / 1000,
      p50ms: hist.quantile(0.5) / 1000,
      p90ms: hist.quantile(0.9) / 1000,
      meanMs: hist.mean() / 1000,
      p99ms: hist.quantile(0.99) / 1000,
      serverCpu: ((cpu1 - cpu0) / ((t1 - t0) / 1000)) * 100,
      generatorCpu: results.map((r) => r.cpuPercent),
      // Percent of the generators' own cores (100 = all of them busy).
      generatorLoad: results.reduce((a, r) => a + r.cpuPercent, 0) / genCores,
      eld: stats?.eld ?? null,
      elu: stats?.elu ?? null,
      rssStartMB: rss0 / 1e6,
      rssEndMB: rss1 / 1e6,
      generatorReadsPerSec: results.reduce((a, r) => a + r.reads, 0) / elapsed,
      generatorWritesPerSec: results.reduce((a, r) => a + r.writes, 0) / elapsed,
      generatorErrors: results.flatMap((r) => r.errors),
      deadConnections: results.reduce((a, r) => a + r.deadConnections, 0),
    });
    await Promise.all(gens.map((g) => g.exited));
    gens = [];
    row.verifyAfter = await verifyEcho({ host: HOST, port: server.port, message }).catch((err) => ({ error: err.message }));
  } catch (err) {
    row.status = 'error';
    row.error = err.message;
  } finally {
    await tearDownRun(row, server, gens);
  }
  return row;
}

let idleRuns = 0;

async function runIdle(name, scenario, spec, message) {
  let connections = Number(opts.connections ?? scenario.connections);
  const row = { scenario: name, server: spec.id, messageBytes: message.payloadBytes };
  if (connections + 200 > fdLimit) {
    row.note = `open-file limit ${fdLimit}: ${connections} connections cut to ${fdLimit - 200}`;
    connections = fdLimit - 200;
  }
  row.connections = connections;
  const server = startServer(spec, scenario, { exposeGc: true });
  let gens = [];
  try {
    await server.ready;
    row.serverInfo = server.info;
    row.verifyBefore = await verifyEcho({ host: HOST, port: server.port, message, count: 1 });
    await sleep(500);
    await server.command('gc');
    await sleep(300);
    const before = await server.command('gc');
    await sleep(300);
    const baseRss = rssBytes(server.pid);
    // Spread the sockets over four loopback source addresses (~28k ephemeral ports each), new
    // ones for every idle run: the previous run's sockets linger in TIME_WAIT for a minute, and
    // opening 10,000 more from the same addresses then takes seconds longer (measured: 1 s with
    // none, 18 s with 30,000 of them).
    idleRuns++;
    const localAddresses = [1, 2, 3, 4].map((j) => `127.${1 + (idleRuns % 250)}.0.${j}`);
    const t = performance.now();
    const started = await startGenerators(scenario, server.port, connections, 1, localAddresses);
    gens = started.gens;
    server.phase = 'load';
    row.connectSeconds = (performance.now() - t) / 1000;
    const connected = started.ready.reduce((a, r) => a + r.connected, 0);
    if (connected < connections) throw new Error(`only ${connected}/${connections} connections opened: ${errorsOf(started.ready).slice(0, 3).join('; ')}`);
    if (scenario.exchangeOnce) {
      for (const g of gens) g.send({ type: 'exchange' });
      await Promise.all(gens.map((g) => g.next('exchanged', 120000)));
    }
    await sleep(2000);
    const rssNoGc = rssBytes(server.pid);
    // Three readings, each after a full GC and a pause; the median is the figure.
    const readings = [];
    let after = null;
    for (let k = 0; k < 3; k++) {
      after = await server.command('gc');
      await sleep(300);
      readings.push(rssBytes(server.pid));
    }
    const rss = readings.sort((a, b) => a - b)[1];
    Object.assign(row, {
      status: 'ok',
      baseRssMB: baseRss / 1e6,
      rssMB: rss / 1e6,
      kbPerConn: (rss - baseRss) / connections / 1024,
      kbPerConnBeforeGc: (rssNoGc - baseRss) / connections / 1024,
      rssReadingsMB: readings.map((b) => b / 1e6),
      heapKbPerConn: before && after ? (after.heapUsed - before.heapUsed) / connections / 1024 : null,
      externalKbPerConn: before && after ? (after.external - before.external) / connections / 1024 : null,
    });
    row.verifyAfter = await verifyEcho({ host: HOST, port: server.port, message, count: 1 }).catch((err) => ({ error: err.message }));
    server.phase = 'teardown';
  } catch (err) {
    row.status = 'error';
    row.error = err.message;
  } finally {
    await tearDownRun(row, server, gens);
  }
  return row;
}

// ---------------------------------------------------------------- main
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
meta.loadAverageBefore = loadavg();
meta.distBuilt = statSync(path.join(ROOT, 'dist/index.js')).mtime.toISOString();
{
  // dist/ is what runs: warn when a source is newer (run `npm run build` first).
  const newest = (dir) => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) t = Math.max(t, statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs);
    }
    return t;
  };
  const sources = Math.max(newest(path.join(ROOT, 'src')), existsSync(path.join(ROOT, 'assembly')) ? newest(path.join(ROOT, 'assembly')) : 0);
  meta.distStale = sources > statSync(path.join(ROOT, 'dist/index.js')).mtimeMs;
  if (meta.distStale) log('WARNING: src/ or assembly/ is newer than dist/ — the benchmark runs dist/; run `npm run build` first.');
}
const started = performance.now();
const servers = [];
for (const id of serverNames) {
  const spec = { id, ...SERVERS[id] };
  if (spec.kind === 'wsworks') {
    const a = await engineAvailable(spec.engine);
    spec.available = a.ok;
    if (!a.ok) spec.unavailable = a.why;
  } else spec.available = true;
  log(`${spec.label.padEnd(16)} ${spec.available ? 'available' : `not available — ${spec.unavailable}`}`);
  servers.push(spec);
}

const rows = [];
for (const name of scenarioNames) {
  const scenario = SCENARIOS[name];
  const message = buildMessage(scenario.message);
  log(`\n## ${scenario.title}`);
  for (const spec of servers) {
    if (!spec.available) {
      rows.push({ scenario: name, server: spec.id, status: 'not available', error: spec.unavailable });
      continue;
    }
    const row = scenario.idle ? await runIdle(name, scenario, spec, message) : await runThroughput(name, scenario, spec, message);
    rows.push(row);
    log(summarise(row, spec));
  }
}

function fmtK(n) {
  return `${Math.round(n / 1000)}k`;
}

function summarise(row, spec) {
  const label = spec.label.padEnd(16);
  if (row.status !== 'ok') return `${label} ${row.status}: ${row.error}${row.serverStderr?.length ? ` | stderr: ${row.serverStderr[0]}` : ''}`;
  const after = row.verifyAfter?.error ? ` | AFTER-RUN CHECK FAILED: ${row.verifyAfter.error}` : '';
  const errs = row.generatorErrors?.length ? ` | generator saw: ${[...new Set(row.generatorErrors)].slice(0, 3).join('; ')}` : '';
  const stderr = row.serverStderr?.length ? ` | server stderr (${Object.entries(row.serverStderrCounts).map(([p, n]) => `${n} in ${p}`).join(', ')}): ${row.serverStderr[0]}` : '';
  if (row.kbPerConn !== undefined) return `${label} ${row.kbPerConn.toFixed(1)} KB/conn (RSS ${row.baseRssMB.toFixed(0)} -> ${row.rssMB.toFixed(0)} MB, ${row.connections} conns, connect ${row.connectSeconds.toFixed(1)} s)${after}${stderr}`;
  return (
    `${label} ${Math.round(row.msgsPerSec).toLocaleString('en-US').padStart(9)} msg/s ${row.mbPerSec.toFixed(1).padStart(8)} MB/s  p10/50/90/99 ${row.p10ms.toFixed(2)}/${row.p50ms.toFixed(2)}/${row.p90ms.toFixed(2)}/${row.p99ms.toFixed(2)} mean ${row.meanMs.toFixed(2)} ms` +
    `  server CPU ${row.serverCpu.toFixed(0)}% gen CPU ${row.generatorCpu.map((c) => c.toFixed(0)).join('+')}%${row.generatorLoad >= 90 ? ' (generator saturated)' : ''}` +
    (row.eld ? `  ELD p50/p99 ${row.eld.p50}/${row.eld.p99} ms` : '') +
    `  RSS ${row.rssStartMB.toFixed(0)}->${row.rssEndMB.toFixed(0)} MB  gen reads/writes ${fmtK(row.generatorReadsPerSec)}/${fmtK(row.generatorWritesPerSec)} per s${after}${errs}${stderr}`
  );
}

meta.totalSeconds = Math.round((performance.now() - started) / 1000);
meta.loadAverageAfter = loadavg();
const result = { meta, scenarios: Object.fromEntries(scenarioNames.map((n) => [n, { ...SCENARIOS[n] }])), servers: servers.map(({ id, label, kind, engine, kernels, available, unavailable }) => ({ id, label, kind, engine, kernels, available, unavailable })), rows };
mkdirSync(path.dirname(outPrefix), { recursive: true });
writeFileSync(`${outPrefix}.json`, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(`${outPrefix}.md`, renderMarkdown(result, `${path.basename(outPrefix)}.svg`));
writeFileSync(`${outPrefix}.svg`, renderSvg(result));
log(`\nwrote ${path.relative(ROOT, outPrefix)}.{md,json,svg} in ${meta.totalSeconds} s`);
