/**
 * The Certificate type against certificates `openssl` makes at test time: every store type Node
 * can have (PFX modern and legacy, PEM key with chain, public key PEM/DER, PKCS#7, JWK, cstAuto),
 * subject matching, selection by encoded form and thumbprint, every field compared with what
 * openssl says, and the 271/272 errors for stores Node cannot open. Also the pieces under it:
 * RC2 against RFC 2268's vectors and the PKCS#12 reader.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, CertStoreType, WSServerError } from '../src/index.js';
import { certificateMaterial } from '../src/tls/certificate.js';
import { rc2EncryptBlock, rc2Key } from '../src/tls/legacy-ciphers.js';
import { readPkcs12 } from '../src/tls/pkcs12.js';
import { KEY_PASSWORD, PFX_PASSWORD, makePki, type Pki } from './helpers/tls-pki.js';

let pki: Pki;
beforeAll(() => {
  pki = makePki();
}, 60_000);
afterAll(() => pki?.remove());

/** openssl's view of a certificate field. */
function opensslField(file: string, args: string[]): string {
  return pki.openssl(['x509', '-in', file, '-noout', ...args]).trim();
}

/** The reference's date format of an openssl date ("Jan  1 00:00:00 2020 GMT"). */
function referenceDate(opensslDate: string): string {
  const d = new Date(opensslDate);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function codeOf(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof WSServerError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a WSServerError');
}

describe('RC2 (RFC 2268 test vectors)', () => {
  it.each([
    ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
    ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
    ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
    ['88', 64, '0000000000000000', '61a8a244adacccf0'],
    ['88bca90e90875a', 64, '0000000000000000', '6ccf4308974c267f'],
    ['88bca90e90875a7f0f79c384627bafb2', 64, '0000000000000000', '1a807d272bbe5db1'],
    ['88bca90e90875a7f0f79c384627bafb2', 128, '0000000000000000', '2269552ab0f85ca6'],
  ])('key %s, %i effective bits', (key, bits, plain, cipher) => {
    const block = Buffer.from(plain, 'hex');
    rc2EncryptBlock(rc2Key(Buffer.from(key, 'hex'), bits), block);
    expect(block.toString('hex')).toBe(cipher);
  });
});

describe('PKCS#12 reader', () => {
  it('reads a modern (AES-256, PBKDF2-SHA256) PFX: the chain and the key, paired by localKeyId', () => {
    const contents = readPkcs12(pki.read('server-rsa.pfx'), PFX_PASSWORD);
    expect(contents.certs.map((c) => new X509Certificate(c.der).subject.split('\n').pop())).toEqual(['CN=localhost', 'CN=wsworks test CA']);
    expect(contents.keys).toHaveLength(1);
    const key = createPrivateKey({ key: contents.keys[0]!.der, format: 'der', type: 'pkcs8' });
    expect(new X509Certificate(contents.certs[0]!.der).checkPrivateKey(key)).toBe(true);
    expect(contents.certs[0]!.localKeyId?.equals(contents.keys[0]!.localKeyId!)).toBe(true);
    expect(contents.certs[0]!.friendlyName).toBe('wsworks server');
  });

  it('reads a legacy PFX (40-bit RC2 certificates, 3DES key) that Node itself refuses', () => {
    const contents = readPkcs12(pki.read('server-ec-legacy.pfx'), PFX_PASSWORD);
    expect(contents.certs).toHaveLength(1);
    expect(createPrivateKey({ key: contents.keys[0]!.der, format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('ec');
  });

  it('a wrong password fails the MAC check', () => {
    expect(() => readPkcs12(pki.read('server-rsa.pfx'), 'wrong')).toThrow(/wrong password/);
  });
});

describe('Certificate: stores', () => {
  it('PFX file (cstPFXFile) with password: the leaf with its key and its chain', () => {
    const cert = new Certificate(CertStoreType.PFXFile, pki.path('server-rsa.pfx'), PFX_PASSWORD, '*');
    expect(cert.subject).toBe('CN=localhost, O=wsworks tests, C=US');
    expect(cert.privateKeyAvailable).toBe(true);
    expect([cert.storeType, cert.store, cert.storePassword, cert.keyPassword]).toEqual([CertStoreType.PFXFile, pki.path('server-rsa.pfx'), PFX_PASSWORD, PFX_PASSWORD]);
    expect(new Certificate(CertStoreType.PFXBlob, pki.read('server-rsa.pfx'), PFX_PASSWORD, 'localhost').storeB.equals(pki.read('server-rsa.pfx'))).toBe(true);
    const material = certificateMaterial(cert)!;
    expect(material.chainPem).toHaveLength(1); // the self-signed root is not sent
    expect(createPrivateKey(cert.privateKey).asymmetricKeyType).toBe('rsa');
  });

  it('PFX blob (cstPFXBlob), as bytes and as Base64 text; the legacy encryption too', () => {
    const bytes = pki.read('server-rsa.pfx');
    expect(new Certificate(CertStoreType.PFXBlob, bytes, PFX_PASSWORD, '*').subject).toBe('CN=localhost, O=wsworks tests, C=US');
    expect(new Certificate(CertStoreType.PFXBlob, bytes.toString('base64'), PFX_PASSWORD, '*').privateKeyAvailable).toBe(true);
    const legacy = new Certificate(CertStoreType.PFXBlob, pki.read('server-ec-legacy.pfx'), PFX_PASSWORD, '*');
    expect([legacy.subject, legacy.publicKeyAlgorithm, legacy.publicKeyLength, legacy.privateKeyAvailable]).toEqual([
      'CN=localhost, OU=ecdsa, O=wsworks tests',
      'ECDSA',
      256,
      true,
    ]);
  });

  it('a wrong PFX password is 271 and says so', () => {
    const e = codeOf(() => new Certificate(CertStoreType.PFXFile, pki.path('server-rsa.pfx'), 'nope', '*'));
    expect(e.code).toBe(271);
    expect(e.message).toMatch(/password/i);
  });

  it('PEM key file (cstPEMKeyFile): key, leaf and CA; the chain is leaf first', () => {
    const cert = new Certificate(CertStoreType.PEMKeyFile, pki.path('server-rsa.pem'), '', '*');
    expect(cert.subject).toBe('CN=localhost, O=wsworks tests, C=US');
    expect(cert.privateKeyAvailable).toBe(true);
    const material = certificateMaterial(cert)!;
    expect(new X509Certificate(material.chainPem[0]!).subject).toContain('CN=localhost');
  });

  it('PEM key blob (cstPEMKeyBlob) with an encrypted key opens with the store password', () => {
    const blob = pki.read('server-rsa-enc.pem');
    const cert = new Certificate(CertStoreType.PEMKeyBlob, blob, KEY_PASSWORD, '*');
    expect(cert.privateKeyAvailable).toBe(true);
    expect(codeOf(() => new Certificate(CertStoreType.PEMKeyBlob, blob, 'wrong', '*')).code).toBe(271);
    expect(new Certificate(CertStoreType.PEMKeyBlob, blob.toString('utf8'), KEY_PASSWORD, 'localhost').subject).toContain('CN=localhost');
  });

  it('public key file and blob (cstPublicKeyFile/Blob), PEM or DER: no private key', () => {
    for (const cert of [
      new Certificate(CertStoreType.PublicKeyFile, pki.path('server-rsa.crt'), '', '*'),
      new Certificate(CertStoreType.PublicKeyFile, pki.path('server-rsa.der'), '', '*'),
      new Certificate(CertStoreType.PublicKeyBlob, pki.read('server-rsa.der'), '', '*'),
      new Certificate(CertStoreType.PublicKeyBlob, pki.read('server-rsa.der').toString('base64'), '', '*'),
      new Certificate(pki.path('server-rsa.crt')),
      new Certificate(pki.read('server-rsa.der')),
      new Certificate(pki.readText('server-rsa.crt')),
    ]) {
      expect(cert.subject).toBe('CN=localhost, O=wsworks tests, C=US');
      expect(cert.privateKeyAvailable).toBe(false);
      expect(cert.privateKey).toBe('');
    }
  });

  it('PKCS#7 (cstP7BFile, PEM and DER) and JWK (cstJWKBlob)', () => {
    pki.openssl(['crl2pkcs7', '-nocrl', '-certfile', 'chain.pem', '-out', 'chain.p7b']);
    pki.openssl(['crl2pkcs7', '-nocrl', '-certfile', 'chain.pem', '-outform', 'DER', '-out', 'chain-der.p7b']);
    for (const file of ['chain.p7b', 'chain-der.p7b']) {
      const ca = new Certificate(CertStoreType.P7BFile, pki.path(file), '', 'wsworks test CA');
      expect(ca.subject).toBe('CN=wsworks test CA, O=wsworks tests, C=US');
    }
    const jwk = JSON.stringify(createPrivateKey(pki.read('server-ec.key')).export({ format: 'jwk' }));
    const key = new Certificate(CertStoreType.JWKBlob, jwk, '', '*');
    expect([key.privateKeyAvailable, key.publicKeyAlgorithm, key.publicKeyLength, key.subject]).toEqual([true, 'ECDSA', 256, '']);
    // A key without certificate: fingerprints of its public key.
    expect(key.fingerprintSHA256).toMatch(/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
  });

  it('cstAuto detects each format, from a file or from bytes, and reports the store type it found', () => {
    const cases: Array<[string | Buffer, number]> = [
      [pki.path('server-rsa.pfx'), CertStoreType.PFXFile],
      [pki.read('server-rsa.pfx'), CertStoreType.PFXBlob],
      [pki.path('server-rsa.pem'), CertStoreType.PEMKeyFile],
      [pki.read('server-ec.pem'), CertStoreType.PEMKeyBlob],
      [pki.path('server-rsa.der'), CertStoreType.PublicKeyFile],
      [pki.readText('server-rsa.crt'), CertStoreType.PublicKeyBlob],
      [pki.read('server-rsa.der').toString('base64'), CertStoreType.PublicKeyBlob],
    ];
    for (const [store, type] of cases) {
      const cert = new Certificate(CertStoreType.Auto, store, PFX_PASSWORD, '*');
      expect(cert.storeType, String(type)).toBe(type);
      expect(cert.subject).toContain('CN=localhost');
    }
  });

  it('store types Node cannot have fail with 271 naming the supported ones', () => {
    for (const type of [0, 1, 4, 5, 10, 13, 14, 15, 16, 17, 21, 22, 23, 42]) {
      const e = codeOf(() => new Certificate(type, 'MY', '', '*'));
      expect(e.code, String(type)).toBe(271);
      expect(e.message).toContain('cstPFXFile');
      expect(e.message).toContain('cstPEMKeyFile');
    }
    expect(codeOf(() => new Certificate(CertStoreType.User, 'MY', '', '*')).message).toMatch(/Windows/);
    expect(codeOf(() => new Certificate(CertStoreType.JKSFile, 'k.jks', '', '*')).message).toMatch(/keytool/);
    // A Java KeyStore given to cstAuto is recognised and refused the same way.
    writeFileSync(pki.path('fake.jks'), Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
    expect(codeOf(() => new Certificate(CertStoreType.Auto, pki.path('fake.jks'), '', '*')).message).toMatch(/Java KeyStore/);
  });

  it('a missing file or unreadable data is 271', () => {
    expect(codeOf(() => new Certificate(CertStoreType.PFXFile, pki.path('missing.pfx'), '', '*')).code).toBe(271);
    expect(codeOf(() => new Certificate(CertStoreType.PFXBlob, Buffer.from([1, 2, 3]), '', '*')).code).toBe(271);
    expect(codeOf(() => new Certificate(CertStoreType.Auto, Buffer.from('not a certificate at all'), '', '*')).code).toBe(271);
  });
});

describe('Certificate: selecting by subject, encoded form and thumbprint', () => {
  it('exact subject, then substring; * picks the first one with a private key', () => {
    const file = pki.path('server-rsa.pem'); // key, leaf, CA
    expect(new Certificate(CertStoreType.PEMKeyFile, file, '', 'CN=wsworks test CA, O=wsworks tests, C=US').subject).toBe('CN=wsworks test CA, O=wsworks tests, C=US');
    // DER order and other spacing are accepted for an exact match too.
    expect(new Certificate(CertStoreType.PEMKeyFile, file, '', 'C=US,O=wsworks tests,CN=localhost').privateKeyAvailable).toBe(true);
    const ca = new Certificate(CertStoreType.PEMKeyFile, file, '', 'test ca');
    expect([ca.subject, ca.privateKeyAvailable]).toEqual(['CN=wsworks test CA, O=wsworks tests, C=US', false]);
    expect(new Certificate(CertStoreType.PEMKeyFile, file, '', '*').subject).toBe('CN=localhost, O=wsworks tests, C=US');
    expect(new Certificate(CertStoreType.PEMKeyFile, file, '', 'CN=localhost').privateKeyAvailable).toBe(true);
  });

  it('no match is 272 and lists the subjects in the store', () => {
    const e = codeOf(() => new Certificate(CertStoreType.PFXFile, pki.path('server-rsa.pfx'), PFX_PASSWORD, 'CN=nobody'));
    expect(e.code).toBe(272);
    expect(e.message).toContain('CN=localhost, O=wsworks tests, C=US');
  });

  it('an encoded certificate selects it (and its key)', () => {
    const caDer = new X509Certificate(pki.read('ca.crt')).raw;
    const ca = new Certificate(CertStoreType.PEMKeyFile, pki.path('server-rsa.pem'), '', caDer);
    expect(ca.subject).toContain('wsworks test CA');
    const leaf = new Certificate(CertStoreType.PFXFile, pki.path('server-rsa.pfx'), PFX_PASSWORD, pki.read('server-rsa.der'));
    expect(leaf.privateKeyAvailable).toBe(true);
    expect(codeOf(() => new Certificate(CertStoreType.PFXFile, pki.path('server-rsa.pfx'), PFX_PASSWORD, pki.read('other.crt'))).code).toBe(272);
  });

  it('Thumbprint= in the configuration string selects by MD5, SHA-1 or SHA-256, any spelling', () => {
    const ca = new X509Certificate(pki.read('ca.crt'));
    const sha1 = ca.fingerprint.replace(/:/g, '').toLowerCase();
    const byThumb = new Certificate(CertStoreType.PEMKeyFile, pki.path('server-rsa.pem'), '', '*', `Thumbprint=${sha1}`);
    expect(byThumb.subject).toContain('wsworks test CA');
    const bySha256 = new Certificate(CertStoreType.PEMKeyFile, pki.path('server-rsa.pem'), '', '*', `PersistPFXKey=True\r\nThumbprint=${ca.fingerprint256}`);
    expect(bySha256.subject).toContain('wsworks test CA');
  });
});

describe('Certificate: fields filled from the certificate', () => {
  let cert: Certificate;
  beforeAll(() => {
    cert = new Certificate(CertStoreType.PFXFile, pki.path('server-rsa.pfx'), PFX_PASSWORD, '*');
  });

  it('dates in the reference format (23-Jan-2000 15:00:00), UTC, equal to openssl', () => {
    expect(cert.effectiveDate).toMatch(/^\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d$/);
    expect(cert.effectiveDate).toBe(referenceDate(opensslField('server-rsa.crt', ['-startdate']).split('=')[1]!));
    expect(cert.expirationDate).toBe(referenceDate(opensslField('server-rsa.crt', ['-enddate']).split('=')[1]!));
    const expired = new Certificate(pki.path('client-expired.crt'));
    expect([expired.effectiveDate, expired.expirationDate]).toEqual(['01-Jan-2020 00:00:00', '01-Feb-2020 00:00:00']);
  });

  it('fingerprints (colon hex) and thumbprints (upper-case hex) equal openssl digests of the certificate', () => {
    for (const [digest, fingerprint, thumbprint] of [
      ['-md5', cert.fingerprint, cert.thumbprintMD5],
      ['-sha1', cert.fingerprintSHA1, cert.thumbprintSHA1],
      ['-sha256', cert.fingerprintSHA256, cert.thumbprintSHA256],
    ] as const) {
      const hex = opensslField('server-rsa.crt', ['-fingerprint', digest]).split('=')[1]!;
      expect(fingerprint).toBe(hex.toLowerCase());
      expect(thumbprint).toBe(hex.replace(/:/g, ''));
    }
    expect(cert.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  });

  it('issuer, subject, serial number, version, signature algorithm as openssl sees them', () => {
    expect(cert.issuer).toBe('CN=wsworks test CA, O=wsworks tests, C=US');
    expect(cert.subject).toBe('CN=localhost, O=wsworks tests, C=US');
    expect(cert.serialNumber).toBe(opensslField('server-rsa.crt', ['-serial']).split('=')[1]!);
    expect(cert.version).toBe('V3');
    expect(cert.signatureAlgorithm).toBe('sha256RSA');
    expect(new Certificate(pki.path('server-ec.crt')).signatureAlgorithm).toBe('sha256RSA'); // signed by the RSA CA
    expect(new Certificate(pki.path('client-self.crt')).signatureAlgorithm).toBe('sha256ECDSA');
  });

  it('key fields: algorithm, length, PEM public and private key that belong together', () => {
    expect([cert.publicKeyAlgorithm, cert.publicKeyLength]).toEqual(['RSA', 2048]);
    expect(cert.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(cert.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const pub = createPublicKey(cert.publicKey).export({ format: 'der', type: 'spki' });
    expect(createPublicKey(createPrivateKey(cert.privateKey)).export({ format: 'der', type: 'spki' }).equals(pub)).toBe(true);
  });

  it('usage, usage flags, extended key usage, subject alternative names, encoded forms', () => {
    expect(cert.usageFlags).toBe(0xa0);
    expect(cert.usage).toBe('Digital Signatures, Key Encryption');
    expect(cert.extendedKeyUsage).toBe('1.3.6.1.5.5.7.3.1');
    expect(cert.subjectAltNames).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(cert.encodedB.equals(pki.read('server-rsa.der'))).toBe(true);
    expect(Buffer.from(cert.encoded, 'base64').equals(cert.encodedB)).toBe(true);
    const ca = new Certificate(pki.path('ca.crt'));
    expect([ca.usageFlags, ca.usage]).toEqual([0x06, 'Certificate Signing, Key Signing']);
  });
});
