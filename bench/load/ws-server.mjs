// The `ws` echo server for the load benchmark. Two kernel modes, checked at startup:
//
//   --kernels native  ws as users run it with the add-ons installed: bufferutil (native mask/
//                     unmask) must load from its prebuilt binary, or the server refuses to start.
//                     UTF-8: ws 8 prefers Node's own buffer.isUtf8 (simdutf) whenever it exists
//                     (Node >= 18.14), so utf-8-validate is installed but not used on Node 20;
//                     the startup line says which validator ws really picked.
//   --kernels js      ws's pure-JS fallbacks: WS_NO_BUFFER_UTIL=1 and WS_NO_UTF_8_VALIDATE=1,
//                     and buffer.isUtf8 hidden from ws before it loads (otherwise ws would still
//                     validate UTF-8 natively on Node 20).
//
// Every message is echoed whole with its type. permessage-deflate only with --deflate:
// { threshold: 0 } (every message compressed, like wsworks), everything else at ws defaults —
// zlib level 6 (Z_DEFAULT_COMPRESSION), memLevel 8, 15-bit windows, concurrencyLimit 10 —
// and the no-context-takeover parameters as the client offers them.
//
//   node bench/load/ws-server.mjs --port 0 [--host 127.0.0.1] --kernels native|js [--deflate]
//
// Prints `listening <port>` and an `info {json}` line with the kernels in use.

import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { reportStats } from './server-stats.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string' },
    kernels: { type: 'string', default: 'native' },
    deflate: { type: 'boolean', default: false },
  },
});

const require = createRequire(import.meta.url);
if (values.kernels === 'js') {
  process.env.WS_NO_BUFFER_UTIL = '1';
  process.env.WS_NO_UTF_8_VALIDATE = '1';
  delete require('node:buffer').isUtf8; // read by ws/lib/validation.js when it loads
} else if (values.kernels !== 'native') {
  process.stderr.write(`ws-server: --kernels must be js or native\n`);
  process.exit(2);
}

const { WebSocketServer } = require('ws');
const wsDir = path.dirname(require.resolve('ws/package.json'));
const bufferUtil = require(path.join(wsDir, 'lib/buffer-util.js')); // the instance ws itself uses
const validation = require(path.join(wsDir, 'lib/validation.js'));

function describeKernels() {
  let mask;
  if (bufferUtil.unmask.name === '_unmask') mask = 'js';
  else if (bufferUtil.unmask.toString().includes('websocketUnmask')) mask = 'node:http websocketUnmask';
  else {
    const bu = require('bufferutil');
    const buDir = path.dirname(require.resolve('bufferutil'));
    const fallback = require(path.join(buDir, 'fallback.js'));
    let binary = null;
    try {
      binary = path.relative(buDir, require('node-gyp-build').path(buDir));
    } catch {}
    mask = bu.unmask !== fallback.unmask && binary ? `bufferutil native (${binary})` : 'bufferutil JS fallback';
  }
  let utf8;
  const src = validation.isValidUTF8.toString();
  if (validation.isValidUTF8.name === '_isValidUTF8') utf8 = 'js';
  else if (src.includes('isUtf8(')) utf8 = 'buffer.isUtf8 (Node, simdutf)';
  else utf8 = 'utf-8-validate';
  let utf8Validate = 'not installed';
  try {
    require.resolve('utf-8-validate');
    utf8Validate = utf8 === 'utf-8-validate' ? 'installed, used' : 'installed, not used by ws';
  } catch {}
  return { mask, utf8, utf8Validate, ws: require('ws/package.json').version };
}

const kernels = describeKernels();
if (values.kernels === 'native' && !kernels.mask.startsWith('bufferutil native') && !kernels.mask.startsWith('node:http')) {
  process.stderr.write(`ws-server: native kernels requested but ws uses mask=${kernels.mask}\n`);
  process.exit(3);
}
if (values.kernels === 'js' && (kernels.mask !== 'js' || kernels.utf8 !== 'js')) {
  process.stderr.write(`ws-server: pure-JS kernels requested but ws uses ${JSON.stringify(kernels)}\n`);
  process.exit(3);
}

const stats = reportStats({ enabled: true });
const wss = new WebSocketServer({
  host: values.host,
  port: Number(values.port),
  backlog: 1024,
  perMessageDeflate: values.deflate ? { threshold: 0 } : false,
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', (err) => process.stderr.write(`ws: ${err.message}\n`));
});
wss.on('error', (err) => {
  process.stderr.write(`ws-server: ${err.message}\n`);
  process.exit(1);
});
wss.on('listening', () => {
  process.stdout.write(`listening ${wss.address().port}\n`);
  process.stdout.write(`info ${JSON.stringify({ server: 'ws', kernels, deflate: values.deflate })}\n`);
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  stats.print();
  for (const ws of wss.clients) ws.close(1001);
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
