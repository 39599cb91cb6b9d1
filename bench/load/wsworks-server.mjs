// The wsworks echo server for the load benchmark: the same server and settings as
// `wsworks echo` (src/cli.ts) — BufferMessage, TcpNoDelay, backlog 1024, MaxConnections 100000,
// configureEchoServer with backpressure — plus the reporting the benchmark needs (event-loop delay,
// memory), which the CLI does not have. Reporting is on with WSWORKS_REPORT_ELD=1.
//
//   node bench/load/wsworks-server.mjs --port 0 [--host 127.0.0.1] [--engine js] [--no-deflate]
//
// Prints `listening <port>` when ready; SIGTERM/SIGINT close every client with 1001 and exit.

import { parseArgs } from 'node:util';
import { reportStats } from './server-stats.mjs';

const { WSServer, configureEchoServer } = await import(new URL('../../dist/index.js', import.meta.url).href);

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string' },
    engine: { type: 'string', default: 'js' },
    'no-deflate': { type: 'boolean', default: false },
  },
});

const server = new WSServer();
try {
  server.config(`Engine=${values.engine}`);
} catch (err) {
  process.stderr.write(`wsworks-server: ${err.message}\n`);
  process.exit(2);
}
server.localPort = Number(values.port);
if (values.host) server.localHost = values.host;
configureEchoServer(server); // exactly what `wsworks echo` does
if (values['no-deflate']) server.config('EnablePermessageDeflate=False');
server.on('error', (e) => process.stderr.write(`wsworks: [${e.errorCode}] ${e.description}${e.connectionId ? ` (connection ${e.connectionId})` : ''}\n`));

const stats = reportStats({ enabled: process.env.WSWORKS_REPORT_ELD === '1' });
await server.startListening();
process.stdout.write(`listening ${server.localPort}\n`);
process.stdout.write(`info ${JSON.stringify({ server: 'wsworks', engine: values.engine, deflate: !values['no-deflate'] })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  stats.print();
  // Engines pool/auto: how well jobs were batched into Piscina tasks (stderr, kept in load.json).
  const shards = server.engineInUse?.pool?.shards ?? [];
  if (shards.length > 0) {
    const load = shards.map((s) => s.load).reduce((a, b) => ({ tasksSent: a.tasksSent + b.tasksSent, jobsSent: a.jobsSent + b.jobsSent }));
    process.stderr.write(`pool: ${shards.length} worker(s), ${load.tasksSent} tasks, ${load.jobsSent} jobs (${(load.jobsSent / Math.max(1, load.tasksSent)).toFixed(1)} per task)\n`);
  }
  server.config('DisconnectStatusCode=1001');
  server.shutdown().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`wsworks-server: ${err.message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
