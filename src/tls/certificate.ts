/**
 * The reference's Certificate type. A certificate is loaded from a store when constructed
 * (PFX/PKCS#12, PEM key, public-key certificate, PKCS#7, JWK, or cstAuto), selected by subject
 * (exact, then substring, `*` for the first), by its encoded form or by a thumbprint, and every
 * field is filled from the real certificate and key.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, WSServerError } from '../errors.js';
import { CertStoreType, assertSupportedStoreType, blobBytes, openStore, type OpenedStore, type StoreCertificate } from './stores.js';
import { colonHex, describeCertificate, digests, keyAlgorithmName, keyLength } from './x509-info.js';

export { CertStoreType } from './stores.js';

/** @internal What TLS needs of a loaded certificate: the private key and the chain (leaf first), as PEM. */
export interface CertificateMaterial {
  readonly keyPem: string | null;
  readonly chainPem: readonly string[];
  readonly leaf: X509Certificate | null;
  readonly key: KeyObject | null;
}

const MATERIAL = new WeakMap<Certificate, CertificateMaterial>();

/** @internal The key and chain a loaded Certificate carries (null for one built field by field). */
export function certificateMaterial(cert: Certificate): CertificateMaterial | null {
  return MATERIAL.get(cert) ?? null;
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

/** Lower-case hex without separators, for comparing thumbprints however they were written. */
function normaliseHex(s: string): string {
  return s.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
}

function normaliseSubject(s: string): string {
  return s.replace(/\s*([,=+])\s*/g, '$1').trim().toLowerCase();
}

/** The certificate's DER from an encoded form: DER bytes, PEM, or Base64 text. */
function encodedDer(encoded: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(encoded) ? encoded : blobBytes(encoded);
  const text = bytes.subarray(0, 64).toString('latin1');
  if (text.includes('-----BEGIN')) return Buffer.from(new X509Certificate(bytes).raw);
  return bytes;
}

/**
 * A digital certificate (the reference's Certificate type).
 *
 * ```ts
 * server.sslCert = new Certificate(CertStoreType.PFXFile, 'server.pfx', 'password', '*');
 * server.sslCert = new Certificate(CertStoreType.PEMKeyFile, 'server.pem', '', 'CN=example.com');
 * ```
 */
export class Certificate {
  /** When the certificate becomes valid, `23-Jan-2000 15:00:00` (UTC). */
  effectiveDate = '';
  /** The certificate, Base64 (DER). */
  encoded = '';
  /** The certificate, DER bytes. */
  encodedB: Buffer = Buffer.alloc(0);
  /** When the certificate expires, `23-Jan-2001 15:00:00` (UTC). */
  expirationDate = '';
  /** Extended key usage OIDs, comma-separated. */
  extendedKeyUsage = '';
  /** MD5 of the certificate (of the public key for a key without certificate), `bc:2a:...`. */
  fingerprint = '';
  /** SHA-1, as `fingerprint`. */
  fingerprintSHA1 = '';
  /** SHA-256, as `fingerprint`. */
  fingerprintSHA256 = '';
  /** The issuer's distinguished name, `CN=..., O=..., C=...`. */
  issuer = '';
  /** Password of the private key; defaults to StorePassword. */
  keyPassword = '';
  /** The private key, PEM (PKCS#8), when the store holds it. */
  privateKey = '';
  /** Whether the store holds the private key of this certificate. */
  privateKeyAvailable = false;
  /** Windows-only in the reference; always ''. */
  privateKeyContainer = '';
  /** The public key, PEM (SubjectPublicKeyInfo). */
  publicKey = '';
  /** RSA, RSASSA-PSS, ECDSA, DSA, Ed25519, Ed448, ... */
  publicKeyAlgorithm = '';
  /** Key length in bits (RSA modulus, EC curve size, ...). */
  publicKeyLength = 0;
  /** Serial number, upper-case hex, a pair of digits per byte. */
  serialNumber = '';
  /** sha256RSA, sha384ECDSA, RSASSA-PSS, Ed25519, ... (or the OID). */
  signatureAlgorithm = '';
  /** The store: a file name for file types ('MY' until set). */
  store = 'MY';
  /** The store's bytes for blob types. */
  storeB: Buffer = Buffer.alloc(0);
  storePassword = '';
  /** The store type (CertStoreType); cstAuto is resolved to the detected type once loaded. */
  storeType: number = CertStoreType.User;
  /** The subject's distinguished name, `CN=..., O=..., C=...`. */
  subject = '';
  /** Subject alternative names, comma-separated (`DNS:example.com, IP Address:127.0.0.1`). */
  subjectAltNames = '';
  /** MD5 of the certificate, upper-case hex. */
  thumbprintMD5 = '';
  /** SHA-1 of the certificate, upper-case hex. */
  thumbprintSHA1 = '';
  /** SHA-256 of the certificate, upper-case hex. */
  thumbprintSHA256 = '';
  /** Key usage in words (`Digital Signatures, Key Encryption`). */
  usage = '';
  /** Key usage bits: 0x80 digital signature ... 0x02 key (CRL) signing. */
  usageFlags = 0;
  /** V1, V2 or V3. */
  version = '';

  /** An empty certificate whose fields can be set. */
  constructor();
  /** A public-key certificate from a file name, or from its data (PEM, DER, or Base64). */
  constructor(certificateFileOrData: string | Buffer);
  /**
   * A certificate in a store: `store` is a file name (file types) or the store's data (blob
   * types). `subject` selects it (exact, then substring, `*` for the first); an encoded
   * certificate (Buffer) selects that certificate instead. `configurationString` may hold
   * `Thumbprint=<MD5, SHA-1 or SHA-256 hex>`. Throws WSServerError 271 (store cannot be opened,
   * unsupported store type) or 272 (no such certificate).
   */
  constructor(storeType: number, store: string | Buffer, storePassword: string, subjectOrEncoded: string | Buffer, configurationString?: string);
  constructor(
    storeTypeOrData?: number | string | Buffer,
    store?: string | Buffer,
    storePassword?: string,
    subjectOrEncoded?: string | Buffer,
    configurationString?: string,
  ) {
    if (storeTypeOrData === undefined) return;
    if (typeof storeTypeOrData !== 'number') {
      this.loadPublicCertificate(storeTypeOrData);
      return;
    }
    this.storeType = storeTypeOrData;
    if (typeof store === 'string') this.store = store;
    else if (store) this.storeB = store;
    this.storePassword = storePassword ?? '';
    this.keyPassword = this.storePassword;
    if (typeof subjectOrEncoded === 'string') this.subject = subjectOrEncoded;
    assertSupportedStoreType(this.storeType);
    if (store === undefined) return;
    const thumbprint = /(?:^|[\r\n;])\s*Thumbprint\s*=\s*([^\r\n;]*)/i.exec(configurationString ?? '')?.[1]?.trim() ?? '';
    this.loadFromStore(Buffer.isBuffer(subjectOrEncoded) ? subjectOrEncoded : null, thumbprint);
  }

  /** @internal Loads (again) from Store/StoreB, StoreType, StorePassword and Subject (or the given encoded certificate). */
  loadFromStore(encoded: Buffer | null = null, thumbprint = ''): void {
    const source = this.storeB.length > 0 ? this.storeB : this.store;
    const opened = openStore(this.storeType, source, this.storePassword, this.keyPassword || this.storePassword);
    const chosen = selectCertificate(opened, this.subject, encoded, thumbprint);
    this.storeType = opened.storeType;
    if (chosen.cert) this.fillFromCertificate(chosen.cert);
    else if (chosen.key || chosen.publicKey) this.fillFromKey(chosen.key, chosen.publicKey);
    if (chosen.key) {
      this.privateKey = chosen.key.export({ format: 'pem', type: 'pkcs8' }).toString();
      this.privateKeyAvailable = true;
    }
    const chain = chosen.cert ? chainFor(chosen.cert, opened.certs) : [];
    MATERIAL.set(this, {
      keyPem: this.privateKey || null,
      chainPem: chain.map((c) => toPem(c.der)),
      leaf: chosen.cert?.x509 ?? null,
      key: chosen.key,
    });
  }

  private loadPublicCertificate(fileOrData: string | Buffer): void {
    let bytes: Buffer;
    if (typeof fileOrData === 'string' && !/-----BEGIN|^[A-Za-z0-9+/=\s]{64,}$/.test(fileOrData)) {
      this.storeType = CertStoreType.PublicKeyFile;
      this.store = fileOrData;
      try {
        bytes = readFileSync(fileOrData);
      } catch (err) {
        throw new WSServerError(ErrorCode.CannotOpenStore, `Cannot read the certificate file "${fileOrData}" (${(err as Error).message}).`, { cause: err });
      }
    } else {
      this.storeType = CertStoreType.PublicKeyBlob;
      bytes = blobBytes(fileOrData);
      this.storeB = bytes;
    }
    let der: Buffer;
    try {
      der = encodedDer(bytes);
      new X509Certificate(der);
    } catch (err) {
      throw new WSServerError(ErrorCode.CannotOpenStore, `The data is not an X.509 certificate (PEM, DER or Base64): ${(err as Error).message}.`, { cause: err });
    }
    const cert: StoreCertificate = { x509: new X509Certificate(der), der, localKeyId: null };
    this.fillFromCertificate(cert);
    MATERIAL.set(this, { keyPem: null, chainPem: [toPem(cert.der)], leaf: cert.x509, key: null });
  }

  private fillFromCertificate(cert: StoreCertificate): void {
    const d = describeCertificate(cert.der);
    const h = digests(d.der);
    const pub = d.x509.publicKey;
    this.effectiveDate = d.effectiveDate;
    this.expirationDate = d.expirationDate;
    this.encodedB = d.der;
    this.encoded = d.der.toString('base64');
    this.extendedKeyUsage = d.extendedKeyUsage;
    this.fingerprint = colonHex(h.md5);
    this.fingerprintSHA1 = colonHex(h.sha1);
    this.fingerprintSHA256 = colonHex(h.sha256);
    this.thumbprintMD5 = h.md5.toString('hex').toUpperCase();
    this.thumbprintSHA1 = h.sha1.toString('hex').toUpperCase();
    this.thumbprintSHA256 = h.sha256.toString('hex').toUpperCase();
    this.issuer = d.issuer;
    this.subject = d.subject;
    this.subjectAltNames = d.subjectAltNames;
    this.serialNumber = d.serialNumber;
    this.signatureAlgorithm = d.signatureAlgorithm;
    this.usage = d.usage;
    this.usageFlags = d.usageFlags;
    this.version = d.version;
    this.publicKey = pub.export({ format: 'pem', type: 'spki' }).toString();
    this.publicKeyAlgorithm = keyAlgorithmName(pub);
    this.publicKeyLength = keyLength(pub);
  }

  /** A key without certificate: the key fields, and fingerprints of the public key (SubjectPublicKeyInfo DER). */
  private fillFromKey(key: KeyObject | null, publicKey: KeyObject | null): void {
    const pub = publicKey ?? createPublicKey(key!);
    const spki = pub.export({ format: 'der', type: 'spki' });
    const h = digests(spki);
    this.fingerprint = colonHex(h.md5);
    this.fingerprintSHA1 = colonHex(h.sha1);
    this.fingerprintSHA256 = colonHex(h.sha256);
    this.publicKey = pub.export({ format: 'pem', type: 'spki' }).toString();
    this.publicKeyAlgorithm = keyAlgorithmName(pub);
    this.publicKeyLength = keyLength(pub);
    this.subject = '';
  }
}

interface Selection {
  cert: StoreCertificate | null;
  key: KeyObject | null;
  publicKey: KeyObject | null;
}

/** The private key of `cert` among the store's keys: same localKeyId, or the key that matches its public key. */
function keyFor(cert: StoreCertificate, keys: OpenedStore['keys']): KeyObject | null {
  if (cert.localKeyId) {
    const byId = keys.find((k) => k.localKeyId?.equals(cert.localKeyId!));
    if (byId && cert.x509.checkPrivateKey(byId.key)) return byId.key;
  }
  return keys.find((k) => cert.x509.checkPrivateKey(k.key))?.key ?? null;
}

/** Subject matching as the reference says: `*` the first (preferring one with a key), else exact, else substring. */
function selectCertificate(opened: OpenedStore, subject: string, encoded: Buffer | null, thumbprint: string): Selection {
  const withKeys = opened.certs.map((cert) => ({ cert, key: keyFor(cert, opened.keys) }));
  if (opened.certs.length === 0) {
    const key = opened.keys[0]?.key ?? null;
    const publicKey = opened.publicKeys[0] ?? null;
    if (!key && !publicKey) throw new WSServerError(ErrorCode.CertificateNotFound, 'The store holds no certificate and no key.');
    return { cert: null, key, publicKey };
  }
  let pick: { cert: StoreCertificate; key: KeyObject | null } | undefined;
  if (encoded) {
    let der: Buffer;
    try {
      der = encodedDer(encoded);
    } catch (err) {
      throw new WSServerError(ErrorCode.CertificateNotFound, `The encoded certificate cannot be read (${(err as Error).message}).`, { cause: err });
    }
    pick = withKeys.find((c) => c.cert.der.equals(der));
    if (!pick) throw new WSServerError(ErrorCode.CertificateNotFound, 'The encoded certificate is not in the store.');
  } else if (thumbprint) {
    const want = normaliseHex(thumbprint);
    pick = withKeys.find(({ cert }) => {
      const h = digests(cert.der);
      return [h.md5, h.sha1, h.sha256].some((d) => d.toString('hex') === want);
    });
    if (!pick) throw new WSServerError(ErrorCode.CertificateNotFound, `No certificate in the store has the thumbprint ${thumbprint}.`);
  } else if (subject === '*' || subject === '') {
    pick = withKeys.find((c) => c.key) ?? withKeys[0];
  } else {
    const want = normaliseSubject(subject);
    const described = withKeys.map((c) => ({ ...c, d: describeCertificate(c.cert.der) }));
    const exact = described.filter((c) => normaliseSubject(c.d.subject) === want || normaliseSubject(c.d.subjectForward) === want);
    const partial = described.filter((c) =>
      [c.d.subject, c.d.subjectForward, c.cert.x509.subject.replace(/\n/g, ', ')].some((s) => normaliseSubject(s).includes(want)),
    );
    const candidates = exact.length > 0 ? exact : partial;
    pick = candidates.find((c) => c.key) ?? candidates[0];
    if (!pick) {
      const subjects = described.map((c) => `"${c.d.subject}"`).join(', ');
      throw new WSServerError(ErrorCode.CertificateNotFound, `No certificate in the store matches the subject "${subject}" (the store holds ${subjects}).`);
    }
  }
  return { cert: pick!.cert, key: pick!.key, publicKey: null };
}

/** The leaf, then the certificates of the store that issued it, up to (not including) a self-signed root. */
function chainFor(leaf: StoreCertificate, certs: StoreCertificate[]): StoreCertificate[] {
  const chain = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    if (current.x509.checkIssued(current.x509)) break; // self-signed: the chain ends here
    const issuer = certs.find((c) => !chain.includes(c) && current.x509.checkIssued(c.x509));
    if (!issuer || issuer.x509.checkIssued(issuer.x509)) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}
