/**
 * SSLCheckCRL and SSLCheckOCSP on client certificates, against a CRL and an OCSP responder
 * run by `openssl` behind a local HTTP server: a good certificate is let in, a revoked one
 * refused, and modes 1 and 2 differ when a certificate names no CRL/OCSP or it cannot be reached.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WSServer } from '../src/index.js';
import type { WSServerEvents } from '../src/events.js';
import { makePki, type Pki } from './helpers/tls-pki.js';
import { openWss, startTlsServer, tlsFailure, type TlsTestServer } from './helpers/tls-server.js';

let pki: Pki;
let authority: http.Server;
let base = '';
const servers: TlsTestServer[] = [];

beforeAll(async () => {
  pki = makePki();
  authority = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/ca.crl') {
        res.writeHead(200, { 'Content-Type': 'application/pkix-crl' });
        res.end(pki.crl());
      } else if (req.url === '/ocsp' && req.method === 'POST') {
        res.writeHead(200, { 'Content-Type': 'application/ocsp-response' });
        res.end(pki.ocspRespond(Buffer.concat(chunks)));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => authority.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(authority.address() as AddressInfo).port}`;
  const clientExt = ['basicConstraints = CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = clientAuth'];
  const withUrls = [...clientExt, `crlDistributionPoints = URI:${base}/ca.crl`, `authorityInfoAccess = OCSP;URI:${base}/ocsp`];
  pki.issue('good', { subject: '/O=wsworks tests/CN=still good', ext: withUrls });
  pki.issue('revoked', { subject: '/O=wsworks tests/CN=revoked', ext: withUrls });
  // Names a CRL and a responder nobody answers at.
  pki.issue('unreachable', { subject: '/O=wsworks tests/CN=unreachable', ext: [...clientExt, 'crlDistributionPoints = URI:http://127.0.0.1:9/ca.crl', 'authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/ocsp'] });
  pki.revoke('revoked');
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => authority?.close(() => r()));
  pki?.remove();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(configure: (s: WSServer) => void): Promise<TlsTestServer> {
  const ts = await startTlsServer(pki, {
    setup: (s) => {
      s.sslAuthenticateClients = true;
      s.config(`SSLCACerts=${pki.readText('ca.crt')}`);
      configure(s);
    },
  });
  servers.push(ts);
  return ts;
}

const creds = (name: string): { cert: Buffer; key: Buffer } => ({ cert: pki.read(`${name}.crt`), key: pki.read(`${name}.key`) });

/** The first `name` event recorded after index `from` that passes `filter`. */
async function eventAfter<K extends keyof WSServerEvents>(ts: TlsTestServer, name: K, from: number, filter: (e: WSServerEvents[K]) => boolean = () => true): Promise<WSServerEvents[K]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = ts.events.slice(from).find((e) => e.name === name && filter(e.event as WSServerEvents[K]));
    if (found) return found.event as WSServerEvents[K];
    if (Date.now() > deadline) throw new Error(`no ${name} event`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function admitted(ts: TlsTestServer, name: string): Promise<WSServerEvents['sslClientAuthentication']> {
  const from = ts.events.length;
  const c = await openWss(ts, pki, creds(name));
  c.ws.send('in');
  expect((await c.message(0)).data.toString()).toBe('in');
  c.ws.terminate();
  return eventAfter(ts, 'sslClientAuthentication', from, (e) => e.accept);
}

async function refused(ts: TlsTestServer, name: string): Promise<WSServerEvents['sslClientAuthentication']> {
  const from = ts.events.length;
  await tlsFailure(ts.port, creds(name));
  const auth = await eventAfter(ts, 'sslClientAuthentication', from, (e) => !e.accept);
  expect((await eventAfter(ts, 'error', from)).errorCode).toBe(280);
  return auth;
}

function statuses(ts: TlsTestServer): string[] {
  return ts.events.filter((e) => e.name === 'sslStatus').map((e) => (e.event as { message: string }).message);
}

describe('SSLCheckCRL', () => {
  it('1: a good certificate is let in, a revoked one refused', async () => {
    const ts = await server((s) => s.config('SSLCheckCRL=1'));
    expect((await admitted(ts, 'good')).status).toBe('OK');
    expect(statuses(ts)).toContain(`CRL ${base}/ca.crl: not revoked`);
    expect((await refused(ts, 'revoked')).status).toBe(`CERT_REVOKED: certificate revoked (CRL ${base}/ca.crl)`);
  });

  it('1 goes on without a CRL; 2 refuses a certificate that names none, or whose CRL cannot be fetched', async () => {
    const soft = await server((s) => s.config('SSLCheckCRL=1'));
    await admitted(soft, 'client');
    await admitted(soft, 'unreachable');
    expect(statuses(soft).some((m) => m.startsWith('CRL check not possible'))).toBe(true);
    const hard = await server((s) => s.config('SSLCheckCRL=2'));
    expect((await refused(hard, 'client')).status).toMatch(/names no CRL distribution point/);
  });

  it('2 refuses when the CRL cannot be fetched', async () => {
    const hard = await server((s) => s.config('SSLCheckCRL=2'));
    expect((await refused(hard, 'unreachable')).status).toMatch(/^CRL check failed: http:\/\/127\.0\.0\.1:9\/ca\.crl/);
  });
});

describe('SSLCheckOCSP', () => {
  it('1: the responder says good for one and revoked for the other', async () => {
    const ts = await server((s) => s.config('SSLCheckOCSP=1'));
    expect((await admitted(ts, 'good')).status).toBe('OK');
    expect(statuses(ts)).toContain(`OCSP ${base}/ocsp: good`);
    expect((await refused(ts, 'revoked')).status).toBe('CERT_REVOKED: certificate revoked (OCSP)');
  });

  it('1 goes on without a responder; 2 refuses', async () => {
    const soft = await server((s) => s.config('SSLCheckOCSP=1'));
    await admitted(soft, 'client');
    await admitted(soft, 'unreachable');
    const hard = await server((s) => s.config('SSLCheckOCSP=2'));
    expect((await refused(hard, 'client')).status).toMatch(/names no OCSP responder/);
    expect((await refused(hard, 'unreachable')).status).toMatch(/^OCSP check failed/);
  });

  it('the application can still let a revoked certificate in', async () => {
    const ts = await server((s) => {
      s.config('SSLCheckOCSP=1');
      s.on('sslClientAuthentication', (e) => (e.accept = true));
    });
    await openWss(ts, pki, creds('revoked')).then((c) => c.ws.terminate());
    const auth = await ts.waitFor('sslClientAuthentication');
    expect(auth.status).toMatch(/CERT_REVOKED/);
    await ts.waitFor('connected');
  });
});
