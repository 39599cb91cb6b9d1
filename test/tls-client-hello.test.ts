/**
 * The ClientHello reader on real ClientHellos (Node's TLS client, captured off a TCP socket)
 * and on the inputs a TLS port must refuse clearly: plaintext HTTP, SSLv2, garbage, truncated
 * and inconsistent hellos.
 */
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { inspectClientHello, type ClientHello } from '../src/tls/client-hello.js';
import { isGrease, suiteName } from '../src/tls/cipher-suites.js';
import { signatureSchemeName, groupName } from '../src/tls/tls-names.js';

/** The first bytes a TLS client sends (its ClientHello), captured by a plain TCP server. */
async function captureClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      server.once('connection', (socket) => {
        let bytes = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          bytes = Buffer.concat([bytes, chunk]);
          if (inspectClientHello(bytes).kind !== 'incomplete') {
            socket.destroy();
            resolve(bytes);
          }
        });
      });
      const client = tls.connect({ port, host: '127.0.0.1', ...options });
      client.on('error', () => undefined);
      setTimeout(() => reject(new Error('no ClientHello')), 5000).unref();
    });
  } finally {
    server.close();
  }
}

function helloOf(bytes: Buffer): ClientHello {
  const verdict = inspectClientHello(bytes);
  if (verdict.kind !== 'hello') throw new Error(`expected a hello, got ${JSON.stringify(verdict)}`);
  return verdict.hello;
}

describe('ClientHello reader', () => {
  it("reads what Node's TLS client offers: versions, suites, SNI, ALPN, signature algorithms, groups, key shares", async () => {
    const bytes = await captureClientHello({ servername: 'example.test', ALPNProtocols: ['http/1.1'] });
    const hello = helloOf(bytes);
    expect(hello.versions).toContain(0x0304);
    expect(hello.versions).toContain(0x0303);
    expect(hello.cipherSuites.map(suiteName)).toEqual(expect.arrayContaining(['TLS_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']));
    expect(hello.serverName).toBe('example.test');
    expect(hello.alpn).toEqual(['http/1.1']);
    expect(hello.signatureAlgorithms.map(signatureSchemeName)).toEqual(expect.arrayContaining(['ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256', 'ed25519']));
    expect(hello.supportedGroups.map(groupName)).toEqual(expect.arrayContaining(['x25519', 'secp256r1']));
    expect(hello.keyShareGroups.map(groupName)).toContain('x25519');
  });

  it('follows what the client restricts (a TLS 1.2-only client with two suites and RSA signatures)', async () => {
    const hello = helloOf(
      await captureClientHello({
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256',
        sigalgs: 'rsa_pkcs1_sha256:rsa_pss_rsae_sha256',
      }),
    );
    expect(hello.versions).toEqual([0x0303]);
    expect(hello.cipherSuites.filter((c) => c !== 0x00ff).map(suiteName)).toEqual([
      'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    ]);
    expect(hello.signatureAlgorithms.map(signatureSchemeName)).toEqual(['rsa_pkcs1_sha256', 'rsa_pss_rsae_sha256']);
    expect(hello.serverName).toBe(''); // no SNI for an IP address
  });

  it('asks for more until the hello is complete, whatever the chunking', async () => {
    const bytes = await captureClientHello({});
    for (let n = 0; n < bytes.length; n++) {
      const verdict = inspectClientHello(bytes.subarray(0, n));
      expect(verdict.kind, `after ${n} bytes`).toBe('incomplete');
    }
    expect(inspectClientHello(bytes).kind).toBe('hello');
  });

  it('reads a ClientHello split over several records', async () => {
    const bytes = await captureClientHello({});
    const handshake = bytes.subarray(5, 5 + bytes.readUInt16BE(3));
    const records = [handshake.subarray(0, 10), handshake.subarray(10, 100), handshake.subarray(100)].map((part) =>
      Buffer.concat([Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part]),
    );
    const split = Buffer.concat(records);
    expect(helloOf(split).cipherSuites).toEqual(helloOf(bytes).cipherSuites);
    expect(inspectClientHello(split.subarray(0, split.length - 1)).kind).toBe('incomplete');
  });

  it('names GREASE values as such and unknown suites by code', () => {
    expect(isGrease(0x0a0a)).toBe(true);
    expect(isGrease(0xfafa)).toBe(true);
    expect(isGrease(0x1301)).toBe(false);
    expect(suiteName(0xc0ff)).toBe('0xC0FF');
    expect(suiteName(0x00ff)).toBe('TLS_EMPTY_RENEGOTIATION_INFO_SCSV');
  });

  it('a plaintext HTTP request is recognised (waiting for enough bytes to tell)', () => {
    expect(inspectClientHello(Buffer.from('GE')).kind).toBe('incomplete');
    const verdict = inspectClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(verdict).toMatchObject({ kind: 'not-tls', what: 'http' });
  });

  it('an SSLv2 ClientHello and random bytes are not TLS', () => {
    expect(inspectClientHello(Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15]))).toMatchObject({ kind: 'not-tls', what: 'sslv2' });
    expect(inspectClientHello(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04]))).toMatchObject({ kind: 'not-tls', what: 'unknown' });
  });

  it('inconsistent lengths, a wrong first message, a bad record header are malformed', async () => {
    const bytes = await captureClientHello({});
    const badSuites = Buffer.from(bytes);
    // The cipher suite list length (after version, random and session id) made to overrun the hello.
    const sidLen = badSuites[5 + 4 + 2 + 32]!;
    badSuites.writeUInt16BE(0xfff0, 5 + 4 + 2 + 32 + 1 + sidLen);
    expect(inspectClientHello(badSuites)).toMatchObject({ kind: 'malformed' });
    const serverHello = Buffer.from(bytes);
    serverHello[5] = 0x02;
    expect(inspectClientHello(serverHello)).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('not a ClientHello') });
    const badVersion = Buffer.from(bytes);
    badVersion[1] = 0x07;
    expect(inspectClientHello(badVersion)).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('record version') });
    const huge = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x7f, 0xff, 0xff]);
    expect(inspectClientHello(huge)).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('claims') });
    const alertFirst = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00, 0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]);
    expect(inspectClientHello(alertFirst)).toMatchObject({ kind: 'malformed' });
  });
});
