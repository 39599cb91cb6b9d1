// Context takeover across workers: the two ways a pool can keep a connection's compression
// state, measured at 1,000 connections with permessage-deflate context takeover both ways.
//
//   sticky  each connection is pinned to one worker, which keeps its inflate and deflate
//           contexts between messages (what the `pool` engine does);
//   carry   workers are stateless: each job brings the connection's last 32 KiB of plaintext
//           (one window per direction) and a shared context is reset and given it as a preset
//           dictionary (zlib's inflateSetDictionary/deflateSetDictionary), then hands the new
//           window back.
//
//   wasm    sticky, with the WASM classes the `wasm`/`pool`/`auto` engines use: their whole state
//           between messages is the two windows, so sticky keeps what carry would send.
//
// sticky and carry run the js engine's permessage-deflate classes (pako) on one thread: the work a worker does
// per message, and the memory the state costs per connection (RSS growth after GC). Moving a job to a worker costs the same either way, except that carry also moves
// 2 × 32 KiB per message, which is not counted here (it only adds to carry's cost).
//
//   node --expose-gc bench/pool/takeover.mjs [--connections 1000] [--rounds 6]
//
// Writes bench/results/pool-takeover.{md,json} unless --out says otherwise; run under
// `taskset -c 0` for steadier numbers.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const { values: opts } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000,50' },
    rounds: { type: 'string', default: '14' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/pool-takeover') },
    mode: { type: 'string' },
    size: { type: 'string' },
  },
});

const CONNECTION_COUNTS = opts.connections.split(',').map(Number);
let CONNECTIONS = CONNECTION_COUNTS[0];
/** Rounds per connection: at least `--rounds`, and enough for 6,000 timed messages with few connections. */
const roundsFor = (connections) => Math.max(Number(opts.rounds), Math.ceil(12000 / connections) + 2);
let ROUNDS = Number(opts.rounds);
const SIZES = [1024, 16 * 1024];
const MODES = ['sticky', 'carry', 'wasm'];

if (opts.mode) {
  await measure(opts.mode, Number(opts.size));
} else {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  const results = [];
  for (const count of CONNECTION_COUNTS) for (const size of SIZES) {
    CONNECTIONS = count;
    ROUNDS = roundsFor(count);
    for (const mode of MODES) {
      // A fresh process per cell, so memory figures do not mix.
      const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--mode', mode, '--size', String(size), '--connections', String(CONNECTIONS), '--rounds', String(ROUNDS)], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 600_000,
      });
      const r = JSON.parse(out.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
      results.push(r);
      console.log(`${String(count).padStart(5)} conns ${mode.padEnd(6)} ${String(size / 1024).padStart(2)} KiB: inflate ${r.inflateUs.toFixed(1)} µs, deflate ${r.deflateUs.toFixed(1)} µs per message; RSS ${r.rssKbPerConnection.toFixed(1)} KB per connection`);
    }
  }
  writeFileSync(`${opts.out}.json`, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
  writeFileSync(`${opts.out}.md`, report(results));
  console.log(`wrote ${path.relative(process.cwd(), opts.out)}.{md,json}`);
}

function report(results) {
  const lines = [
    '# Context takeover across workers: sticky contexts vs the window carried with each job',
    '',
    'The `pool` engine keeps each connection sticky to its worker. With pako (the first two states) that was measured against carrying the windows; with the WASM classes it now runs (`wasm`), the sticky state is only the windows.',
    '',
    `Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Command: \`taskset -c 0 node bench/pool/takeover.mjs\` — connections with permessage-deflate context takeover both ways (15-bit windows, level 6, memLevel 8), rounds of one JSON message each way per connection (${roundsFor(1000)} rounds at 1,000 connections, more with fewer, the first two not timed), connections served in turn, so each one's state is cold when its turn comes, as under load. The work of one worker, on one thread: sticky and carry with the js engine's pako classes (carry also copies each window once each way, the trip to the worker and back), wasm with the WASM classes the wasm/pool/auto engines use (sticky; their state is only the two windows). A fresh process per row.`,
    '',
    'RSS per connection is the growth of the process\'s RSS over the run divided by the connections, after GC; with few connections it is lost in the noise and not shown.',
    '',
    '| connections | state | message | inflate µs/msg | deflate µs/msg | RSS KB per connection |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const rss = r.connections >= 500 ? r.rssKbPerConnection.toFixed(1) : '—';
    lines.push(`| ${r.connections.toLocaleString('en-US')} | ${r.mode} | ${r.size / 1024} KiB JSON | ${r.inflateUs.toFixed(1)} | ${r.deflateUs.toFixed(1)} | ${rss} |`);
  }
  lines.push('');
  return lines.join('\n');
}

async function measure(mode, size) {
  const { MessageInflater, MessageDeflater } = await import(new URL('../../dist/protocol/permessage-deflate.js', import.meta.url).href);
  const { jsonText } = await import('../load/wire.mjs');

  // Each connection's messages: different JSON each round (so history matters), compressed the
  // way a client with context takeover does (the previous plaintext as preset dictionary).
  const base = jsonText(size * 4);
  const plain = (c, r) => Buffer.from(base.slice(((c * 7 + r * 131) % (size * 3)), ((c * 7 + r * 131) % (size * 3)) + size));
  const inputs = [];
  for (let c = 0; c < CONNECTIONS; c++) {
    let history = Buffer.alloc(0);
    const msgs = [];
    for (let r = 0; r < ROUNDS; r++) {
      const text = plain(c, r);
      const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH, ...(history.length ? { dictionary: history } : {}) };
      const z = zlib.deflateRawSync(text, options);
      msgs.push(Buffer.from(z.subarray(0, z.length - 4)));
      history = Buffer.concat([history, text]).subarray(-32768);
    }
    inputs.push(msgs);
  }

  const gc = () => {
    globalThis.gc?.();
    globalThis.gc?.();
  };
  const mem = () => ({ rss: process.memoryUsage().rss });

  // The state a connection keeps, and one message each way.
  let state;
  let inflateMsg;
  let deflateMsg;
  if (mode === 'sticky' || mode === 'wasm') {
    const { WasmMessageInflater } = await import(new URL('../../dist/engine/wasm-inflater.js', import.meta.url).href);
    const { WasmMessageDeflater } = await import(new URL('../../dist/engine/wasm-deflater.js', import.meta.url).href);
    state = Array.from({ length: CONNECTIONS }, () =>
      mode === 'wasm'
        ? { inflater: new WasmMessageInflater(15, false), deflater: new WasmMessageDeflater(15, false) }
        : { inflater: new MessageInflater(15, false), deflater: new MessageDeflater(15, false) },
    );
    inflateMsg = (c, compressed) => {
      const s = state[c];
      const out = [];
      s.inflater.begin(false);
      s.inflater.write(compressed, 0, compressed.length, Infinity, out);
      s.inflater.finish(Infinity, out);
      return out;
    };
    deflateMsg = (c, text) => state[c].deflater.compress(text, true, true);
  } else {
    state = Array.from({ length: CONNECTIONS }, () => ({ inflateWindow: null, deflateWindow: null }));
    // One context per direction for the whole "worker", reset and preset for every job.
    const inflater = new MessageInflater(15, false);
    const deflater = new MessageDeflater(15, false);
    // The windows travel to the worker and back with each job: one copy each way stands for
    // the transfer (a window cannot be transferred without a buffer of its own).
    const travel = (w) => (w === null ? null : new Uint8Array(w));
    inflateMsg = (c, compressed) => {
      const s = state[c];
      const out = [];
      inflater.presetWindow(travel(s.inflateWindow) ?? new Uint8Array(0)); // empty: a clean start
      inflater.begin(false);
      inflater.write(compressed, 0, compressed.length, Infinity, out);
      inflater.finish(Infinity, out);
      s.inflateWindow = travel(inflater.window());
      return out;
    };
    deflateMsg = (c, text) => {
      const s = state[c];
      deflater.presetWindow(travel(s.deflateWindow) ?? new Uint8Array(0));
      const out = deflater.compress(text, true, true);
      s.deflateWindow = travel(deflater.window());
      return out;
    };
  }

  gc();
  const before = mem();
  let inflateNs = 0n;
  let deflateNs = 0n;
  let counted = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (let c = 0; c < CONNECTIONS; c++) {
      const compressed = inputs[c][r];
      const text = plain(c, r);
      const t0 = process.hrtime.bigint();
      const inflated = inflateMsg(c, compressed);
      const t1 = process.hrtime.bigint();
      deflateMsg(c, text);
      const t2 = process.hrtime.bigint();
      if (r >= 2) {
        // Rounds 0-1 warm up (JIT, first contexts).
        inflateNs += t1 - t0;
        deflateNs += t2 - t1;
        counted++;
      }
      if (c % 97 === 0 && !Buffer.concat(inflated).equals(text)) throw new Error(`${mode}: connection ${c} round ${r} inflated wrong`);
    }
  }
  gc();
  const after = mem();
  const result = {
    mode,
    size,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    inflateUs: Number(inflateNs / BigInt(counted)) / 1000,
    deflateUs: Number(deflateNs / BigInt(counted)) / 1000,
    rssKbPerConnection: (after.rss - before.rss) / CONNECTIONS / 1024,
  };
  if (state.length !== CONNECTIONS) throw new Error('state lost');
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
