/**
 * wss:// test servers and clients: a WSServer with UseSSL on 127.0.0.1 (events recorded as
 * startServer records them), `ws` clients that trust the test CA, and raw TLS clients.
 */
import tls from 'node:tls';
import type { ClientOptions } from 'ws';
import { Certificate, CertStoreType, attachEcho, type WSServer } from '../../src/index.js';
import { startServer, type TestServer } from './server.js';
import { openWs, type TestClient } from './ws-client.js';
import { PFX_PASSWORD, type Pki } from './tls-pki.js';

/** SSLEnabledProtocols for TLS 1.2 and 1.3. */
export const TLS12_AND_13 = 0x0c00 | 0x3000;

export interface TlsTestServer extends TestServer {
  wssUrl: string;
}

export interface TlsServerOptions {
  /** The server certificate (default: the RSA PFX). */
  cert?: Certificate;
  /** SSLEnabledProtocols (default TLS 1.2 + 1.3). */
  protocols?: number;
  /** Echo every message back (BufferMessage, attachEcho), as `wsworks echo`. Default true. */
  echo?: boolean;
  engine?: string;
  /** More setup before listening (settings, listeners). */
  setup?: (server: WSServer) => void;
}

/** The RSA server certificate from the PFX. */
export function rsaCertificate(pki: Pki): Certificate {
  return new Certificate(CertStoreType.PFXFile, pki.path('server-rsa.pfx'), PFX_PASSWORD, '*');
}

/** Starts a wss:// server on 127.0.0.1 with a free port. */
export async function startTlsServer(pki: Pki, options: TlsServerOptions = {}): Promise<TlsTestServer> {
  const ts = await startServer({
    engine: options.engine,
    setup: (s) => {
      s.useSSL = true;
      s.sslCert = options.cert ?? rsaCertificate(pki);
      s.config(`SSLEnabledProtocols=${options.protocols ?? TLS12_AND_13}`);
      if (options.echo !== false) {
        s.config('BufferMessage=True');
        s.config('TcpNoDelay=True');
      }
      options.setup?.(s);
      if (options.echo !== false) attachEcho(s);
    },
  });
  return Object.assign(ts, { wssUrl: `wss://127.0.0.1:${ts.port}` });
}

/** A `ws` client over wss:// that trusts the test CA. */
export function openWss(ts: TlsTestServer, pki: Pki, options: ClientOptions = {}, path = '/'): Promise<TestClient> {
  return openWs(`${ts.wssUrl}${path}`, undefined, { ca: pki.read('ca.crt'), ...options });
}

/** A raw TLS connection (no WebSocket) that resolves once the TLS handshake is done, or rejects with its error. */
export function connectTls(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** What the TLS port tells a client that is refused: its error (or null if the socket just closed). */
export function tlsFailure(port: number, options: tls.ConnectionOptions = {}): Promise<Error | null> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
    socket.once('secureConnect', () => {
      // TLS 1.3: the server decides on a client certificate after the client's Finished; ask
      // for something so a refusal shows up as an error or a close.
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    socket.on('data', (d: Buffer) => {
      if (d.toString('latin1').startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(new Error('the server accepted the connection'));
      }
    });
    socket.once('error', (err) => resolve(err));
    socket.once('close', () => resolve(null));
  });
}
