/**
 * wss:// end to end with real clients: the `ws` client echoing text, binary, large, fragmented
 * and compressed messages over TLS; the SSL events in order with one connection id; the
 * per-connection SSLNegotiated* settings; SSLConnectionRequest choosing a certificate by the
 * client's signature algorithms and by SNI; client certificates accepted and refused; the key
 * log file; session resumption; and the SSL settings as OpenSSL applies them.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, CertStoreType, WSServer, WSServerError } from '../src/index.js';
import type { WSServerEvents } from '../src/events.js';
import { KEY_PASSWORD, makePki, type Pki } from './helpers/tls-pki.js';
import { TLS12_AND_13, connectTls, openWss, rsaCertificate, startTlsServer, tlsFailure, type TlsTestServer } from './helpers/tls-server.js';
import { waitUntil, type TestClient } from './helpers/ws-client.js';

let pki: Pki;
beforeAll(() => {
  pki = makePki();
}, 60_000);
afterAll(() => pki?.remove());

const servers: TlsTestServer[] = [];
const clients: TestClient[] = [];
async function server(options: Parameters<typeof startTlsServer>[1] = {}): Promise<TlsTestServer> {
  const ts = await startTlsServer(pki, options);
  servers.push(ts);
  return ts;
}
async function wss(ts: TlsTestServer, options: Parameters<typeof openWss>[2] = {}): Promise<TestClient> {
  const c = await openWss(ts, pki, options);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Waits until the server reported `count` finished TLS handshakes (a client that leaves at once may beat its own Finished). */
async function handshakesDone(ts: TlsTestServer, count: number): Promise<void> {
  await waitUntil(() => eventsOf(ts, 'sslStatus').filter((e) => e.message.startsWith('Handshake complete')).length >= count, 5000, `${count} handshakes`);
}

function eventsOf<K extends keyof WSServerEvents>(ts: TlsTestServer, name: K): Array<WSServerEvents[K]> {
  return ts.events.filter((e) => e.name === name).map((e) => e.event as WSServerEvents[K]);
}

async function listenError(setup: (s: WSServer) => void): Promise<WSServerError> {
  const s = new WSServer({ localHost: '127.0.0.1', localPort: 0 });
  setup(s);
  try {
    await s.startListening();
  } catch (err) {
    expect(s.listening).toBe(false);
    if (err instanceof WSServerError) return err;
    throw err;
  } finally {
    await s.shutdown();
  }
  throw new Error('startListening succeeded');
}

describe('starting a wss:// server', () => {
  it('without SSLCert fails with 282, with a certificate that has no key with 273', async () => {
    const none = await listenError((s) => (s.useSSL = true));
    expect(none.code).toBe(282);
    expect(none.message).toMatch(/sslCert/);
    const empty = await listenError((s) => {
      s.useSSL = true;
      s.sslCert = new Certificate();
    });
    expect(empty.code).toBe(282);
    const publicOnly = await listenError((s) => {
      s.useSSL = true;
      s.sslCert = new Certificate(pki.path('server-rsa.crt'));
    });
    expect(publicOnly.code).toBe(273);
    expect(publicOnly.message).toMatch(/private key/);
  });

  it('settings OpenSSL cannot use fail with 273 saying which', async () => {
    const ca = await listenError((s) => {
      s.useSSL = true;
      s.sslCert = rsaCertificate(pki);
      s.config('SSLCACerts=not a certificate');
    });
    expect([ca.code, ca.message]).toEqual([273, expect.stringContaining('SSLCACerts')]);
    const legacyOnly = await listenError((s) => {
      s.useSSL = true;
      s.sslCert = rsaCertificate(pki);
      s.config('SSLEnabledProtocols=192');
    });
    expect([legacyOnly.code, legacyOnly.message]).toEqual([273, expect.stringContaining('@SECLEVEL=0')]);
    const ssl3 = await listenError((s) => {
      s.useSSL = true;
      s.sslCert = rsaCertificate(pki);
      s.config('SSLEnabledProtocols=48');
    });
    expect(ssl3.code).toBe(273);
  });

  it('an unknown IANA cipher suite is refused when set (10022)', () => {
    const s = new WSServer();
    expect(() => s.config('SSLEnabledCipherSuites=TLS_NO_SUCH_SUITE')).toThrow(/unknown cipher suite TLS_NO_SUCH_SUITE/);
    s.config('SSLEnabledCipherSuites=SSL_RSA_WITH_AES_128_CBC_SHA; TLS_AES_128_GCM_SHA256');
  });

  it('listens, logs wss://, and UseSSL cannot change while listening', async () => {
    const ts = await server({ setup: (s) => s.on('log', () => undefined) });
    expect(ts.server.listening).toBe(true);
    expect(eventsOf(ts, 'log').some((e) => /Listening on 127\.0\.0\.1:\d+ \(wss:\/\/\)/.test(e.message))).toBe(true);
    expect(() => (ts.server.useSSL = false)).toThrow(WSServerError);
  });
});

describe('echo over wss:// with the ws client', () => {
  it('text, binary, empty, large and fragmented messages, the certificate verified against the test CA', async () => {
    const ts = await server();
    const c = await wss(ts);
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    c.ws.send('hello over TLS é');
    c.ws.send(Buffer.from([0, 1, 2, 255]));
    c.ws.send('');
    c.ws.send(big);
    c.ws.send('frag', { fin: false });
    c.ws.send('mented', { fin: true });
    const got = await c.waitForMessages(5, 20_000);
    expect(got[0]).toEqual({ data: Buffer.from('hello over TLS é'), isBinary: false });
    expect(got[1]).toEqual({ data: Buffer.from([0, 1, 2, 255]), isBinary: true });
    expect(got[2]).toEqual({ data: Buffer.alloc(0), isBinary: false });
    expect(got[3]!.data.equals(big)).toBe(true);
    expect(got[4]).toEqual({ data: Buffer.from('fragmented'), isBinary: false });
  });

  it('permessage-deflate works over TLS', async () => {
    const ts = await server();
    const c = await wss(ts, { perMessageDeflate: true });
    expect(c.ws.extensions).toMatch(/^permessage-deflate/);
    const text = 'compress me '.repeat(20_000);
    c.ws.send(text);
    expect((await c.message(0, 10_000)).data.toString()).toBe(text);
  });

  it('many clients at once each get their own messages back', async () => {
    const ts = await server();
    const many = await Promise.all(Array.from({ length: 12 }, () => wss(ts)));
    many.forEach((c, i) => {
      for (let n = 0; n < 30; n++) c.ws.send(`client ${i} message ${n}`);
    });
    for (const [i, c] of many.entries()) {
      const got = await c.waitForMessages(30, 15_000);
      expect(got.map((m) => m.data.toString())).toEqual(Array.from({ length: 30 }, (_, n) => `client ${i} message ${n}`));
    }
  });

  it('the events of one connection, in order, share its connection id', async () => {
    const ts = await server();
    const c = await wss(ts);
    await ts.waitFor('connected');
    const id = [...ts.server.connections.keys()][0]!;
    const names = ts.events
      .filter((e) => e.name !== 'log' && e.name !== 'readyToSend' && e.name !== 'connectionRequest')
      .map((e) => ({ name: e.name, id: (e.event as { connectionId?: string }).connectionId }));
    expect(names.map((n) => n.name)).toEqual(['sslStatus', 'sslConnectionRequest', 'sslStatus', 'sslStatus', 'webSocketOpenRequest', 'connected']);
    expect(new Set(names.map((n) => n.id))).toEqual(new Set([id]));
    const statuses = eventsOf(ts, 'sslStatus').map((e) => e.message);
    expect(statuses[0]).toMatch(/^ClientHello from 127\.0\.0\.1:\d+: TLS1\.3, TLS1\.2; \d+ cipher suites/);
    expect(statuses[1]).toMatch(/^Certificate: CN=localhost, O=wsworks tests, C=US \(RSA 2048 bits, expires /);
    expect(statuses[2]).toMatch(/^Handshake complete: TLS1\.3, TLS_AES_256_GCM_SHA384 \(AES 256 bits\), key exchange ECDHE x25519 \(256 bits\)$/);
    const request = eventsOf(ts, 'sslConnectionRequest')[0]!;
    expect(request.supportedCipherSuites.split(',')).toEqual(expect.arrayContaining(['TLS_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']));
    expect(request.supportedSignatureAlgs.split(',')).toEqual(expect.arrayContaining(['ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256']));
    expect(request.certStoreType).toBe(CertStoreType.PFXFile);
    expect(request.certStore).toBe(pki.path('server-rsa.pfx'));
    expect(eventsOf(ts, 'connectionRequest')).toHaveLength(1);
    await c.close();
  });

  it('SSLNegotiated*[id] report what the client sees (TLS 1.3), also during webSocketOpenRequest', async () => {
    let duringOpen = '';
    const ts = await server({ setup: (s) => s.on('webSocketOpenRequest', (e) => (duringOpen = s.config(`SSLNegotiatedVersion[${e.connectionId}]`))) });
    const c = await wss(ts);
    const id = [...ts.server.connections.keys()][0]!;
    const socket = c.socket as tls.TLSSocket;
    const read = (name: string): string => ts.server.config(`${name}[${id}]`);
    expect(duringOpen).toBe('TLS1.3');
    expect(read('SSLNegotiatedVersion')).toBe('TLS1.3');
    expect(read('SSLNegotiatedCipherSuite')).toBe(socket.getCipher().standardName);
    expect(read('SSLNegotiatedCipher')).toBe('AES');
    expect(read('SSLNegotiatedCipherStrength')).toBe('256');
    expect(read('SSLNegotiatedKeyExchange')).toBe('ECDHE');
    expect(socket.getEphemeralKeyInfo()).toMatchObject({ type: 'ECDH', name: 'X25519' });
    expect(read('SSLNegotiatedKeyExchangeStrength')).toBe('256');
    expect(() => ts.server.config('SSLNegotiatedVersion[999]')).toThrow(WSServerError);
  });

  it('with the reference default SSLEnabledProtocols (4032) TLS 1.2 is the highest', async () => {
    const ts = await server({ protocols: 4032 });
    const c = await wss(ts);
    const id = [...ts.server.connections.keys()][0]!;
    expect(ts.server.config(`SSLNegotiatedVersion[${id}]`)).toBe('TLS1.2');
    expect(ts.server.config(`SSLNegotiatedCipherSuite[${id}]`)).toBe((c.socket as tls.TLSSocket).getCipher().standardName);
    const refused = await tlsFailure(ts.port, { minVersion: 'TLSv1.3' });
    expect(refused).not.toBeNull();
    const error = await ts.waitFor('error');
    expect(error.errorCode).toBe(276);
    expect(error.description).toMatch(/SSLEnabledProtocols/);
    c.ws.send('still fine');
    expect((await c.message(0)).data.toString()).toBe('still fine');
  });
});

describe('SSLConnectionRequest chooses the certificate', () => {
  it('ECDSA for clients that offer ECDSA signatures, RSA for the rest', async () => {
    const ts = await server({
      setup: (s) =>
        s.on('sslConnectionRequest', (e) => {
          if (e.supportedSignatureAlgs.split(',').includes('ecdsa_secp256r1_sha256')) {
            e.certStoreType = CertStoreType.PEMKeyFile;
            e.certStore = pki.path('server-ec.pem');
            e.certPassword = '';
            e.certSubject = '*';
          }
        }),
    });
    const ec = await connectTls(ts.port, { ca: pki.read('ca.crt') });
    expect(ec.getPeerX509Certificate()!.publicKey.asymmetricKeyType).toBe('ec');
    expect(ec.authorized).toBe(true);
    ec.destroy();
    const rsa = await connectTls(ts.port, { sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256' });
    expect(rsa.getPeerX509Certificate()!.publicKey.asymmetricKeyType).toBe('rsa');
    rsa.destroy();
    const statuses = eventsOf(ts, 'sslStatus').map((e) => e.message).filter((m) => m.startsWith('Certificate:'));
    expect(statuses[0]).toMatch(/ECDSA 256 bits/);
    expect(statuses[1]).toMatch(/RSA 2048 bits/);
  });

  it('by SNI: the server name the client asks for', async () => {
    const otherPem = Buffer.concat([pki.read('other.key'), pki.read('other.crt')]);
    const ts = await server({
      setup: (s) =>
        s.on('sslConnectionRequest', (e) => {
          if (e.serverName === 'other.test') {
            e.certStoreType = CertStoreType.PEMKeyBlob;
            e.certStore = otherPem;
            e.certSubject = 'other.test';
          }
        }),
    });
    const other = await connectTls(ts.port, { servername: 'other.test' });
    expect(other.getPeerX509Certificate()!.subject).toContain('CN=other.test');
    other.destroy();
    const plain = await connectTls(ts.port, { servername: 'localhost' });
    expect(plain.getPeerX509Certificate()!.subject).toContain('CN=localhost');
    plain.destroy();
    expect(eventsOf(ts, 'sslConnectionRequest').map((e) => e.serverName)).toEqual(['other.test', 'localhost']);
  });

  it('a certificate that cannot be loaded ends that connection only (Error with the store error)', async () => {
    const ts = await server({
      setup: (s) =>
        s.on('sslConnectionRequest', (e) => {
          if (e.serverName === 'broken.test') {
            e.certStoreType = CertStoreType.PEMKeyFile;
            e.certStore = pki.path('server-rsa-enc.pem');
            e.certPassword = 'wrong';
          }
        }),
    });
    expect(await tlsFailure(ts.port, { servername: 'broken.test' })).not.toBeNull();
    const error = await ts.waitFor('error');
    expect(error.errorCode).toBe(271);
    expect(error.description).toMatch(/sslConnectionRequest/);
    const c = await wss(ts);
    c.ws.send('ok');
    expect((await c.message(0)).data.toString()).toBe('ok');
  });

  it('an encrypted PEM key as SSLCert, opened with its password', async () => {
    const ts = await server({ cert: new Certificate(CertStoreType.PEMKeyFile, pki.path('server-rsa-enc.pem'), KEY_PASSWORD, '*') });
    const c = await wss(ts);
    c.ws.send('enc');
    expect((await c.message(0)).data.toString()).toBe('enc');
  });
});

describe('client certificates (SSLAuthenticateClients)', () => {
  const withClientAuth = (extra?: (s: WSServer) => void) => (s: WSServer): void => {
    s.sslAuthenticateClients = true;
    s.config(`SSLCACerts=${pki.readText('ca.crt')}`);
    extra?.(s);
  };
  const clientCert = (name: string): { cert: Buffer; key: Buffer } => ({ cert: pki.read(`${name}.crt`), key: pki.read(`${name}.key`) });

  describe.each([
    ['TLS 1.2', 'TLSv1.2' as const],
    ['TLS 1.3', 'TLSv1.3' as const],
  ])('%s', (_label, version) => {
    it('a certificate the CA issued: SSLClientAuthentication says OK and the echo works', async () => {
      const ts = await server({ setup: withClientAuth() });
      const c = await wss(ts, { ...clientCert('client'), maxVersion: version, minVersion: version });
      const auth = await ts.waitFor('sslClientAuthentication');
      expect(auth).toMatchObject({
        certSubject: 'CN=client one, O=wsworks tests',
        certIssuer: 'CN=wsworks test CA, O=wsworks tests, C=US',
        status: 'OK',
        accept: true,
      });
      expect(auth.certEncoded.equals(new X509Certificate(pki.read('client.crt')).raw)).toBe(true);
      expect(auth.connectionId).toBe([...ts.server.connections.keys()][0]);
      c.ws.send('authenticated');
      expect((await c.message(0)).data.toString()).toBe('authenticated');
    });

    it.each([
      ['no certificate', null, 281, /presented no certificate/],
      ['an expired certificate', 'client-expired', 280, /^CERT_HAS_EXPIRED: certificate has expired$/],
      ['a self-signed certificate', 'client-self', 280, /^DEPTH_ZERO_SELF_SIGNED_CERT/],
    ] as const)('%s is refused before any WebSocket traffic', async (_what, name, code, status) => {
      const ts = await server({ setup: withClientAuth() });
      await tlsFailure(ts.port, { ...(name ? clientCert(name) : {}), maxVersion: version, minVersion: version });
      const auth = await ts.waitFor('sslClientAuthentication');
      expect(auth.accept).toBe(false);
      expect(auth.status).toMatch(status);
      const error = await ts.waitFor('error');
      expect(error.errorCode).toBe(code);
      expect(error.connectionId).toBe(auth.connectionId);
      expect(eventsOf(ts, 'webSocketOpenRequest')).toHaveLength(0);
      expect(eventsOf(ts, 'connected')).toHaveLength(0);
      await expect(openWss(ts, pki, { ...(name ? clientCert(name) : {}), maxVersion: version, minVersion: version })).rejects.toThrow();
    });

    it("the listener's Accept decides: a self-signed certificate let in, a valid one kept out", async () => {
      const ts = await server({
        setup: withClientAuth((s) =>
          s.on('sslClientAuthentication', (e) => {
            e.accept = e.certSubject.includes('self-signed');
          }),
        ),
      });
      const self = await wss(ts, { ...clientCert('client-self'), maxVersion: version, minVersion: version });
      self.ws.send('let in');
      expect((await self.message(0)).data.toString()).toBe('let in');
      await expect(openWss(ts, pki, { ...clientCert('client'), maxVersion: version, minVersion: version })).rejects.toThrow();
      await waitUntil(() => eventsOf(ts, 'error').some((e) => e.errorCode === 280));
      expect(eventsOf(ts, 'connected')).toHaveLength(1);
    });
  });
});

describe('SSLKeyLogFile', () => {
  it("appends the session's secrets in NSS key log format, the same lines the client logs", async () => {
    const file = join(pki.dir, 'keys.log');
    writeFileSync(file, '# earlier content stays\n');
    const ts = await server({ setup: (s) => s.config(`SSLKeyLogFile=${file}`) });
    for (const [i, version] of (['TLSv1.3', 'TLSv1.2'] as const).entries()) {
      const clientLines: string[] = [];
      const socket = tls.connect({ port: ts.port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: version, maxVersion: version });
      socket.on('keylog', (line: Buffer) => clientLines.push(line.toString().trim()));
      await new Promise<void>((r) => socket.once('secureConnect', () => r()));
      await handshakesDone(ts, i + 1);
      socket.destroy();
      expect(clientLines.length).toBeGreaterThan(0);
      await waitUntil(() => clientLines.every((l) => readFileSync(file, 'utf8').includes(l)), 5000, 'the key log lines');
    }
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# earlier content stays\n')).toBe(true);
    expect(text).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64,}$/m);
    expect(text).toMatch(/^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64,}$/m);
    expect(text).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/m);
  });
});

describe('ReuseSSLSession', () => {
  /** Connects, keeps the session the server gave, reconnects with it: was it resumed? */
  async function resumed(ts: TlsTestServer, version: tls.SecureVersion): Promise<boolean> {
    const first = tls.connect({ port: ts.port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: version, maxVersion: version });
    const session = await new Promise<Buffer>((resolve, reject) => {
      first.once('session', resolve);
      first.once('error', reject);
      setTimeout(() => reject(new Error('no session')), 3000).unref();
    });
    first.destroy();
    const second = await connectTls(ts.port, { session, minVersion: version, maxVersion: version });
    const reused = second.isSessionReused();
    await handshakesDone(ts, 2);
    second.destroy();
    return reused;
  }

  it.each([['TLSv1.3' as const], ['TLSv1.2' as const]])('%s: True resumes, False does a full handshake every time', async (version) => {
    const on = await server({ setup: (s) => s.config('ReuseSSLSession=True') });
    expect(await resumed(on, version)).toBe(true);
    await waitUntil(() => eventsOf(on, 'sslStatus').some((e) => e.message.endsWith('session resumed')));
    const off = await server({ setup: (s) => s.config('ReuseSSLSession=False') });
    expect(await resumed(off, version)).toBe(false);
  });
});

describe('SSL settings as OpenSSL applies them', () => {
  it('SSLEnabledCipherSuites by IANA name, SSLNegotiatedCipher* follow', async () => {
    const ts = await server({ protocols: 3072, setup: (s) => s.config('SSLEnabledCipherSuites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384') });
    const c = await wss(ts);
    const id = [...ts.server.connections.keys()][0]!;
    expect((c.socket as tls.TLSSocket).getCipher().standardName).toBe('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
    expect([ts.server.config(`SSLNegotiatedCipher[${id}]`), ts.server.config(`SSLNegotiatedCipherStrength[${id}]`)]).toEqual(['AES', '256']);
    expect(await tlsFailure(ts.port, { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).not.toBeNull();
    expect((await ts.waitFor('error')).description).toMatch(/cipher suite/);
  });

  it('SSLCipherStrength=256 removes the 128-bit suites', async () => {
    const ts = await server({ setup: (s) => s.config('SSLCipherStrength=256') });
    const strong = await connectTls(ts.port);
    expect(strong.getCipher().standardName).not.toMatch(/_128_/);
    strong.destroy();
    expect(await tlsFailure(ts.port, { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' })).not.toBeNull();
    expect(await tlsFailure(ts.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).not.toBeNull();
  });

  it('TLS13SupportedGroups: only P-384 makes the client retry with P-384; KeyExchangeStrength says 384', async () => {
    const ts = await server({ protocols: 0x3000, setup: (s) => s.config('TLS13SupportedGroups=ecdhe_secp384r1') });
    const c = await wss(ts);
    const id = [...ts.server.connections.keys()][0]!;
    expect((c.socket as tls.TLSSocket).getEphemeralKeyInfo()).toMatchObject({ name: 'secp384r1', size: 384 });
    expect(ts.server.config(`SSLNegotiatedKeyExchangeStrength[${id}]`)).toBe('384');
  });

  it('TLS12SupportedGroups: only P-521 for TLS 1.2 ECDHE', async () => {
    const ts = await server({ protocols: 0x0c00, setup: (s) => s.config('TLS12SupportedGroups=ecdhe_secp521r1') });
    const c = await wss(ts);
    const id = [...ts.server.connections.keys()][0]!;
    expect((c.socket as tls.TLSSocket).getEphemeralKeyInfo()).toMatchObject({ name: 'secp521r1' });
    expect([ts.server.config(`SSLNegotiatedKeyExchange[${id}]`), ts.server.config(`SSLNegotiatedKeyExchangeStrength[${id}]`)]).toEqual(['ECDHE', '521']);
  });

  it('TLS13SignatureAlgorithms limits what the server signs with', async () => {
    const ts = await server({ protocols: 0x3000, setup: (s) => s.config('TLS13SignatureAlgorithms=rsa_pss_sha384') });
    const ok = await connectTls(ts.port, { sigalgs: 'rsa_pss_rsae_sha384:rsa_pss_rsae_sha256' });
    ok.destroy();
    expect(await tlsFailure(ts.port, { sigalgs: 'rsa_pss_rsae_sha256' })).not.toBeNull();
    expect((await ts.waitFor('error')).errorCode).toBe(276);
  });

  it('PreferredDHGroupBits sizes the DHE group', async () => {
    const ts = await server({ protocols: 0x0c00, setup: (s) => {
      s.config('SSLEnabledCipherSuites=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256');
      s.config('PreferredDHGroupBits=3072');
    } });
    const c = await wss(ts);
    const id = [...ts.server.connections.keys()][0]!;
    expect((c.socket as tls.TLSSocket).getEphemeralKeyInfo()).toMatchObject({ type: 'DH', size: 3072 });
    expect([ts.server.config(`SSLNegotiatedKeyExchange[${id}]`), ts.server.config(`SSLNegotiatedKeyExchangeStrength[${id}]`)]).toEqual(['DHE', '3072']);
  });

  it('SSLEnableRenegotiation=False disconnects a client that renegotiates; True lets it', async () => {
    for (const allowed of [true, false]) {
      const ts = await server({ protocols: 0x0c00, setup: (s) => s.config(`SSLEnableRenegotiation=${allowed}`) });
      const c = await wss(ts);
      const socket = c.socket as tls.TLSSocket;
      const result = await new Promise<Error | null>((resolve) => {
        socket.renegotiate({}, (err) => resolve(err ?? null));
        socket.once('close', () => resolve(new Error('closed')));
      });
      if (allowed) {
        expect(result).toBeNull();
        c.ws.send('after renegotiation');
        expect((await c.message(0)).data.toString()).toBe('after renegotiation');
      } else {
        expect(result).not.toBeNull();
        await c.closed;
      }
    }
  });

  it('LogSSLPackets reports every record and reads the group from the ServerHello', async () => {
    const ts = await server({ setup: (s) => s.config('LogSSLPackets=True') });
    const c = await wss(ts, { ecdhCurve: 'P-384' });
    c.ws.send('tapped');
    expect((await c.message(0)).data.toString()).toBe('tapped');
    const id = [...ts.server.connections.keys()][0]!;
    const messages = eventsOf(ts, 'sslStatus').map((e) => e.message);
    expect(messages).toContainEqual(expect.stringMatching(/^Received Handshake \[ClientHello\], TLS1(\.0)? record, \d+ bytes$/));
    expect(messages).toContainEqual(expect.stringMatching(/^Sent Handshake \[ServerHello\], TLS1\.2 record, \d+ bytes$/));
    expect(messages).toContainEqual(expect.stringMatching(/^Received ApplicationData, TLS1\.2 record, \d+ bytes$/));
    expect(ts.server.config(`SSLNegotiatedKeyExchangeStrength[${id}]`)).toBe('384');
    expect(ts.server.connections.get(id)!.remoteHost).toBe('127.0.0.1');
  });
});
