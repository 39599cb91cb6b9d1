#!/usr/bin/env node
/**
 * The `wsworks` command. `wsworks echo` runs an echo server: every message comes back whole,
 * with the same type. External conformance and load checks drive it, so its interface is fixed:
 *
 *   wsworks echo --port 9001 [--host 127.0.0.1] [--engine js] [--no-deflate]
 *   wsworks echo --port 9443 --tls-cert cert.pem --tls-key key.pem [--tls-client-ca ca.pem]
 *   wsworks echo --port 9443 --tls-pfx server.pfx --tls-pass secret [--tls-client-ca ca.pem]
 *
 * It prints `listening <port>` once it accepts connections and, on SIGINT/SIGTERM, closes every
 * client with 1001 and exits 0.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { WSServer } from './server.js';
import { Certificate, CertStoreType } from './tls/certificate.js';
import { configureEchoServer } from './echo.js';

const USAGE = `Usage: wsworks echo --port <port> [--host <address>] [--engine js] [--no-deflate]

  --port <n>       TCP port (0 picks a free one; the chosen port is printed)
  --host <addr>    interface to listen on (default: all IPv4 interfaces)
  --engine <name>  codec engine: auto, wasm, pool or js (default: auto)
  --no-deflate     do not negotiate permessage-deflate

wss:// (TLS 1.2 and 1.3):
  --tls-cert <file>       PEM certificate (chain, leaf first), with --tls-key
  --tls-key <file>        PEM private key
  --tls-pfx <file>        PFX/PKCS#12 file holding the key and certificate (instead of --tls-cert/--tls-key)
  --tls-pass <password>   password of the PFX file or of an encrypted key
  --tls-client-ca <file>  ask clients for a certificate and accept only those this PEM CA list verifies
`;

function fail(message: string): never {
  process.stderr.write(`wsworks: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function echo(args: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        engine: { type: 'string', default: 'auto' },
        'no-deflate': { type: 'boolean', default: false },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-pfx': { type: 'string' },
        'tls-pass': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.port === undefined) fail('--port is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0–65535 (got "${values.port}")`);
  const tlsCert = values['tls-cert'];
  const tlsKey = values['tls-key'];
  const tlsPfx = values['tls-pfx'];
  const tlsPass = values['tls-pass'] ?? '';
  const clientCa = values['tls-client-ca'];
  if (tlsPfx !== undefined && (tlsCert !== undefined || tlsKey !== undefined)) fail('use either --tls-pfx or --tls-cert with --tls-key, not both');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) fail('--tls-cert and --tls-key go together');
  const useTls = tlsPfx !== undefined || tlsCert !== undefined;
  if (!useTls && (values['tls-pass'] !== undefined || clientCa !== undefined)) fail('--tls-pass and --tls-client-ca need --tls-cert/--tls-key or --tls-pfx');

  const server = new WSServer();
  try {
    server.config(`Engine=${values.engine}`);
  } catch (err) {
    fail((err as Error).message);
  }
  server.localPort = port;
  if (values.host) server.localHost = values.host;
  if (values.host?.includes(':')) server.config('UseIPv6=1');
  configureEchoServer(server);
  if (values['no-deflate']) server.config('EnablePermessageDeflate=False');
  if (useTls) {
    try {
      server.sslCert = tlsPfx !== undefined
        ? new Certificate(CertStoreType.PFXFile, tlsPfx, tlsPass, '*')
        : new Certificate(CertStoreType.PEMKeyBlob, Buffer.concat([readFileSync(tlsKey!), Buffer.from('\n'), readFileSync(tlsCert!)]), tlsPass, '*');
      if (clientCa !== undefined) {
        server.config(`SSLCACerts=${readFileSync(clientCa, 'utf8')}`);
        server.sslAuthenticateClients = true;
      }
    } catch (err) {
      process.stderr.write(`wsworks: ${(err as Error).message}\n`);
      process.exit(1);
    }
    server.config('SSLEnabledProtocols=15360'); // TLS 1.2 and 1.3 (the reference's default leaves 1.3 off)
    server.useSSL = true;
  }
  server.on('error', (e) => process.stderr.write(`wsworks: [${e.errorCode}] ${e.description}${e.connectionId ? ` (connection ${e.connectionId})` : ''}\n`));

  // Handle signals before announcing "listening": whoever reads that line may signal at once.
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.config('DisconnectStatusCode=1001');
    server.config('DisconnectStatusDescription=Server shutting down');
    server.shutdown().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`wsworks: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    await server.startListening();
  } catch (err) {
    process.stderr.write(`wsworks: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening ${server.localPort}\n`);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'echo') {
  await echo(rest);
} else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(USAGE);
} else {
  fail(`unknown command "${command}"`);
}
