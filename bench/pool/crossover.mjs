// Where the worker pool pays: the same codec jobs run inline (the `wasm` engine on the main
// thread) and in the pool (the `pool` engine), with connections each keeping one job in flight
// as a WSConnection does. No sockets: only codec work and the pool's own costs are measured.
//
//   node bench/pool/crossover.mjs [--seconds 1.5] [--connections 50] [--cpus 1|2|both] [--only decode,...] [--merge]
//
// For every workload and size it reports jobs/s, process CPU µs per job (all threads) and
// main-thread busy µs per job (event-loop utilisation), each run in a fresh process, pinned to
// one CPU (`taskset -c 0`: how the load bench runs servers) and on both CPUs. Writes
// bench/results/pool-crossover.{md,json} unless --out says otherwise; with --merge, the cells
// measured now replace theirs in an existing JSON and the others are kept (re-running cells that
// other work on the machine disturbed).
//
// Workloads (what one job is):
//   decode   a masked binary frame of N bytes: unmask and check (the uncompressed inbound path)
//   inflate  a compressed JSON text frame inflating to N bytes: inflate and check UTF-8
//   deflate  a JSON text of N bytes to compress (no context takeover) and frame
//   echo     inflate one compressed N-byte JSON message, then compress it back (the deflate scenarios)

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    connections: { type: 'string', default: '50' },
    cpus: { type: 'string', default: 'both' },
    child: { type: 'string' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/pool-crossover') },
    only: { type: 'string' },
    merge: { type: 'boolean', default: false },
  },
});

const KiB = 1024;
export const WORKLOADS = {
  decode: [1 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1024 * KiB, 4096 * KiB],
  inflate: [1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB],
  deflate: [1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB],
  echo: [1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB],
};
const ENGINES = ['inline', 'pool'];

if (opts.child) {
  await runChild(JSON.parse(opts.child));
} else {
  await runAll();
}

// ---------------------------------------------------------------------------------- parent

async function runAll() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  const cpuSets = opts.cpus === 'both' ? ['1', '2'] : [opts.cpus];
  let rows = [];
  const only = opts.only ? new Set(opts.only.split(',')) : null;
  for (const cpus of cpuSets) {
    for (const [workload, sizes] of Object.entries(WORKLOADS)) {
      if (only && !only.has(workload)) continue;
      for (const size of sizes) {
        const row = { cpus: Number(cpus), workload, size };
        for (const engine of ENGINES) {
          const spec = { workload, size, engine, seconds: Number(opts.seconds), connections: Number(opts.connections) };
          const argv = [process.execPath, fileURLToPath(import.meta.url), '--child', JSON.stringify(spec)];
          const cmd = cpus === '1' ? ['taskset', ['-c', '0', ...argv]] : [argv[0], argv.slice(1)];
          const res = spawnSync(cmd[0], cmd[1], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
          const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
          if (!line) throw new Error(`${workload} ${size} ${engine}: ${res.stderr || res.stdout}`);
          row[engine] = JSON.parse(line.slice(7));
        }
        rows.push(row);
        const f = (r) => `${Math.round(r.jobsPerSec).toLocaleString('en-US').padStart(9)}/s cpu ${r.cpuUs.toFixed(1).padStart(8)} µs main ${r.mainUs.toFixed(1).padStart(8)} µs`;
        console.log(`${cpus} cpu ${workload.padEnd(8)} ${label(size).padStart(8)}  inline ${f(row.inline)}  pool ${f(row.pool)}  pool/inline ${(row.pool.jobsPerSec / row.inline.jobsPerSec).toFixed(2)}×`);
      }
    }
  }
  if (opts.merge && existsSync(`${opts.out}.json`)) {
    const key = (r) => `${r.cpus} ${r.workload} ${r.size}`;
    const fresh = new Set(rows.map(key));
    const kept = JSON.parse(readFileSync(`${opts.out}.json`, 'utf8')).rows.filter((r) => !fresh.has(key(r)));
    const order = (r) => [r.cpus, Object.keys(WORKLOADS).indexOf(r.workload), r.size];
    rows = [...kept, ...rows].sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
  }
  writeFileSync(`${opts.out}.json`, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: availableParallelism(), seconds: Number(opts.seconds), connections: Number(opts.connections), rows }, null, 2));
  writeFileSync(`${opts.out}.md`, report(rows));
  console.log(`wrote ${path.relative(process.cwd(), opts.out)}.{md,json}`);
}

function label(size) {
  return size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : `${size / 1024} KiB`;
}

function report(rows) {
  const lines = [
    '# Pool crossover: codec jobs inline vs in the worker pool',
    '',
    `Node ${process.version}, ${availableParallelism()} CPUs, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Command: \`node bench/pool/crossover.mjs\` (${opts.seconds} s per cell, ${opts.connections} connections with one job in flight each). Each cell is a fresh process; "1 CPU" runs it under \`taskset -c 0\` (the load bench's server pinning: the pool's threads share the main thread's core), "2 CPUs" unpinned. inline = the \`wasm\` engine on the main thread; pool = the \`pool\` engine, one worker per CPU.`,
    '',
    'jobs/s is what the connections got done; CPU µs/job counts every thread of the process; main µs/job is the main thread\'s busy time (event-loop utilisation × wall time) per job, the time the event loop was not free for sockets and timers.',
    '',
  ];
  for (const cpus of [1, 2]) {
    const part = rows.filter((r) => r.cpus === cpus);
    if (part.length === 0) continue;
    lines.push(`## ${cpus} CPU${cpus > 1 ? 's' : ''}`, '');
    lines.push('| job | size | inline jobs/s | pool jobs/s | pool ÷ inline | inline CPU µs/job | pool CPU µs/job | inline main µs/job | pool main µs/job |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of part) {
      const n = (x) => Math.round(x).toLocaleString('en-US');
      const u = (x) => x.toFixed(x < 10 ? 2 : 1);
      lines.push(`| ${r.workload} | ${label(r.size)} | ${n(r.inline.jobsPerSec)} | ${n(r.pool.jobsPerSec)} | ${(r.pool.jobsPerSec / r.inline.jobsPerSec).toFixed(2)}× | ${u(r.inline.cpuUs)} | ${u(r.pool.cpuUs)} | ${u(r.inline.mainUs)} | ${u(r.pool.mainUs)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------- child

async function runChild(spec) {
  const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;
  const { wasmEngine } = await import(dist('engine/index.js'));
  const { PoolEngine } = await import(dist('engine/pool.js'));
  const { jsonText, maskedFrame, deflateMessage } = await import('../load/wire.mjs');
  const { randomBytes } = await import('node:crypto');

  const { workload, size, engine: which, seconds, connections } = spec;
  const deflate = { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const engine = which === 'inline' ? wasmEngine : new PoolEngine({});
  const codecs = Array.from({ length: connections }, () => engine.createCodec({ maxMessageSize: 0, deflate: workload === 'decode' ? null : deflate }));

  const text = workload === 'decode' ? null : Buffer.from(jsonText(size));
  const frame =
    workload === 'decode' ? maskedFrame(2, randomBytes(size)) : workload === 'deflate' ? null : maskedFrame(1, deflateMessage(text), true);
  const request = text && { opcode: 1, data: text, first: true, fin: true, compress: true, maxFrameSize: 0 };

  /** One job of the workload on `codec`; resolves when done. */
  const job = (codec) => {
    if (workload === 'deflate') return codec.encode(request);
    const chunk = Buffer.allocUnsafeSlow(frame.length); // a socket chunk: owns its memory
    frame.copy(chunk);
    const decoded = codec.decode(chunk);
    if (workload !== 'echo') return decoded;
    const then = (r) => codec.encode({ ...request, data: r.events[0].payload });
    return decoded instanceof Promise ? decoded.then(then) : then(decoded);
  };

  const run = async (ms) => {
    let done = 0;
    let stop = false;
    const loop = async (codec) => {
      while (!stop) {
        const r = job(codec);
        if (r instanceof Promise) await r;
        else if (done % 16 === 0) await new Promise(setImmediate); // inline: let the loop turn, as sockets would
        done++;
      }
    };
    const loops = codecs.map(loop);
    await new Promise((r) => setTimeout(r, ms));
    stop = true;
    await Promise.all(loops);
    return done;
  };

  await run(Math.min(800, seconds * 500)); // warm up (JIT, contexts, worker start)
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const done = await run(seconds * 1000);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  for (const c of codecs) c.dispose();
  await engine.close();
  const result = {
    jobs: done,
    jobsPerSec: (done / wall) * 1000,
    cpuUs: (cpu.user + cpu.system) / done,
    mainUs: (elu.active * 1000) / done,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}
