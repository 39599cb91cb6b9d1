/**
 * Certificate stores as Node can have them: PFX/PKCS#12, PEM (private key with its chain),
 * public-key certificates (PEM or DER), PKCS#7 bundles, JWK keys, and cstAuto telling them
 * apart. Windows stores, Java key stores, PKCS#11 tokens and the SSH/PuTTY/XML formats do not
 * exist for Node and fail with 271 naming what is supported.
 */
import { readFileSync, statSync } from 'node:fs';
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ErrorCode, WSServerError } from '../errors.js';
import { Tag, child, contextChild, oidOf, parseAsn1 } from './der.js';
import { Pkcs12Error, looksLikePkcs12, readPkcs12 } from './pkcs12.js';

/** Certificate store types of the reference (StoreType / CertStoreType). */
export const CertStoreType = Object.freeze({
  User: 0,
  Machine: 1,
  PFXFile: 2,
  PFXBlob: 3,
  JKSFile: 4,
  JKSBlob: 5,
  PEMKeyFile: 6,
  PEMKeyBlob: 7,
  PublicKeyFile: 8,
  PublicKeyBlob: 9,
  SSHPublicKeyBlob: 10,
  P7BFile: 11,
  P7BBlob: 12,
  SSHPublicKeyFile: 13,
  PPKFile: 14,
  PPKBlob: 15,
  XMLFile: 16,
  XMLBlob: 17,
  JWKFile: 18,
  JWKBlob: 19,
  BCFKSFile: 21,
  BCFKSBlob: 22,
  PKCS11: 23,
  Auto: 99,
} as const);

/** The formats wsworks reads, by the family of store types they belong to. */
type Format = 'pfx' | 'pem' | 'public' | 'p7b' | 'jwk';

const FILE_TYPES: Record<number, Format> = { 2: 'pfx', 6: 'pem', 8: 'public', 11: 'p7b', 18: 'jwk' };
const BLOB_TYPES: Record<number, Format> = { 3: 'pfx', 7: 'pem', 9: 'public', 12: 'p7b', 19: 'jwk' };

const SUPPORTED =
  'wsworks reads PFX/PKCS#12 (cstPFXFile 2, cstPFXBlob 3), PEM private keys with their certificates (cstPEMKeyFile 6, cstPEMKeyBlob 7), ' +
  'PEM or DER certificates (cstPublicKeyFile 8, cstPublicKeyBlob 9), PKCS#7 bundles (cstP7BFile 11, cstP7BBlob 12), JWK keys (cstJWKFile 18, cstJWKBlob 19) ' +
  'and cstAuto (99), which detects these.';

const UNSUPPORTED: Record<number, string> = {
  0: 'cstUser is a Windows certificate store, which Node cannot open: export the certificate with its private key to a .pfx file (cstPFXFile)',
  1: 'cstMachine is a Windows certificate store, which Node cannot open: export the certificate with its private key to a .pfx file (cstPFXFile)',
  4: 'cstJKSFile is a Java KeyStore, a Java-only format: convert it with `keytool -importkeystore -deststoretype PKCS12` and use cstPFXFile',
  5: 'cstJKSBlob is a Java KeyStore, a Java-only format: convert it with `keytool -importkeystore -deststoretype PKCS12` and use cstPFXBlob',
  10: 'SSH public keys (cstSSHPublicKeyBlob) cannot serve TLS',
  13: 'SSH public keys (cstSSHPublicKeyFile) cannot serve TLS',
  14: 'PuTTY keys (cstPPKFile) cannot serve TLS',
  15: 'PuTTY keys (cstPPKBlob) cannot serve TLS',
  16: 'XML keys (cstXMLFile) are a .NET format wsworks does not read',
  17: 'XML keys (cstXMLBlob) are a .NET format wsworks does not read',
  21: 'BCFKS (Bouncy Castle FIPS) stores are Java/.NET-only: convert to PKCS#12',
  22: 'BCFKS (Bouncy Castle FIPS) stores are Java/.NET-only: convert to PKCS#12',
  23: 'PKCS#11 tokens are not reachable from Node without a native module: export a PKCS#12 file or use OpenSSL engine configuration outside wsworks',
};

/** A certificate in a store, with the attributes that pair it with its key. */
export interface StoreCertificate {
  readonly x509: X509Certificate;
  readonly der: Buffer;
  readonly localKeyId: Buffer | null;
}

/** What a store holds. */
export interface OpenedStore {
  /** The concrete store type (cstAuto resolved). */
  readonly storeType: number;
  readonly certs: StoreCertificate[];
  readonly keys: Array<{ key: KeyObject; localKeyId: Buffer | null }>;
  /** Public keys without a certificate (a "PUBLIC KEY" PEM or a public JWK). */
  readonly publicKeys: KeyObject[];
}

function storeError(code: number, detail: string, cause?: unknown): WSServerError {
  return new WSServerError(code, detail, cause === undefined ? undefined : { cause });
}

/** Throws 271 for a store type Node cannot have, naming the supported ones. */
export function assertSupportedStoreType(storeType: number): void {
  if (FILE_TYPES[storeType] || BLOB_TYPES[storeType] || storeType === CertStoreType.Auto) return;
  const why = UNSUPPORTED[storeType] ?? `${storeType} is not a store type of the reference`;
  throw storeError(ErrorCode.CannotOpenStore, `${why}. ${SUPPORTED}`);
}

/** Reads the bytes of a file store. */
function readStoreFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw storeError(ErrorCode.CannotOpenStore, `Cannot read the store file "${path}" (${(err as Error).message}).`, err);
  }
}

const BASE64 = /^[A-Za-z0-9+/=\s]+$/;

/** A blob given as a string: PEM/JSON text stays text; Base64 is decoded; anything else is binary (latin1). */
export function blobBytes(blob: string | Buffer): Buffer {
  if (Buffer.isBuffer(blob)) return blob;
  const trimmed = blob.trim();
  if (trimmed.startsWith('-----BEGIN') || trimmed.startsWith('{')) return Buffer.from(blob, 'utf8');
  if (BASE64.test(trimmed) && trimmed.replace(/\s/g, '').length % 4 === 0) return Buffer.from(trimmed, 'base64');
  return Buffer.from(blob, 'latin1');
}

/** PEM blocks in text: label and DER, with the raw block (for encrypted keys). */
function pemBlocks(text: string): Array<{ label: string; der: Buffer; pem: string }> {
  const out: Array<{ label: string; der: Buffer; pem: string }> = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m; (m = re.exec(text)); ) {
    const body = m[2]!.split(/\r?\n/).filter((l) => !/^[A-Za-z-]+:/.test(l.trim())).join('');
    out.push({ label: m[1]!, der: Buffer.from(body.replace(/\s/g, ''), 'base64'), pem: m[0] });
  }
  return out;
}

function isPemText(bytes: Buffer): boolean {
  return bytes.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
}

function looksLikeCertificate(der: Buffer): boolean {
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

function looksLikePkcs7(der: Buffer): boolean {
  try {
    const info = parseAsn1(der, true);
    return info.tag === Tag.Sequence && oidOf(child(info, 0)) === '1.2.840.113549.1.7.2';
  } catch {
    return false;
  }
}

/** Decides what `bytes` are (cstAuto). */
function detectFormat(bytes: Buffer): Format {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0xfeedfeed) {
    throw storeError(ErrorCode.CannotOpenStore, `This is a Java KeyStore (JKS), a Java-only format: convert it with \`keytool -importkeystore -deststoretype PKCS12\`. ${SUPPORTED}`);
  }
  if (isPemText(bytes)) {
    const labels = pemBlocks(bytes.toString('utf8')).map((b) => b.label);
    if (labels.some((l) => l.endsWith('PRIVATE KEY'))) return 'pem';
    if (labels.includes('CERTIFICATE') || labels.includes('TRUSTED CERTIFICATE') || labels.includes('PUBLIC KEY')) return 'public';
    if (labels.includes('PKCS7')) return 'p7b';
  }
  const text = bytes.subarray(0, 1).toString('latin1');
  if (text === '{') return 'jwk';
  if (looksLikePkcs12(bytes)) return 'pfx';
  if (looksLikeCertificate(bytes)) return 'public';
  if (looksLikePkcs7(bytes)) return 'p7b';
  try {
    createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' });
    return 'pem';
  } catch {
    /* not a DER private key */
  }
  const ascii = bytes.toString('latin1').trim();
  if (ascii.length > 0 && BASE64.test(ascii)) {
    const decoded = Buffer.from(ascii, 'base64');
    if (decoded.length > 0 && !decoded.equals(bytes)) return detectFormat(decoded);
  }
  throw storeError(ErrorCode.CannotOpenStore, `The store's format was not recognised. ${SUPPORTED}`);
}

/** With cstAuto on Base64 text, the decoded bytes are what the format applies to. */
function decodeIfBase64(bytes: Buffer): Buffer {
  if (isPemText(bytes) || bytes[0] === 0x7b /* { */) return bytes;
  const ascii = bytes.toString('latin1').trim();
  if (ascii.length > 0 && BASE64.test(ascii) && ascii.replace(/\s/g, '').length % 4 === 0) {
    const decoded = Buffer.from(ascii, 'base64');
    if (decoded.length > 0 && decoded[0] === 0x30) return decoded;
  }
  return bytes;
}

function toCert(der: Buffer, localKeyId: Buffer | null = null): StoreCertificate {
  const x509 = new X509Certificate(der);
  return { x509, der: Buffer.from(x509.raw), localKeyId };
}

function openPfx(bytes: Buffer, password: string): Omit<OpenedStore, 'storeType'> {
  try {
    const contents = readPkcs12(bytes, password);
    return {
      certs: contents.certs.map((c) => toCert(c.der, c.localKeyId)),
      keys: contents.keys.map((k) => ({ key: createPrivateKey({ key: k.der, format: 'der', type: 'pkcs8' }), localKeyId: k.localKeyId })),
      publicKeys: [],
    };
  } catch (err) {
    if (err instanceof Pkcs12Error) {
      const detail = err.reason === 'password' ? 'The PFX password is wrong (StorePassword).' : `The PFX store cannot be read: ${err.message}.`;
      throw storeError(ErrorCode.CannotOpenStore, detail, err);
    }
    throw storeError(ErrorCode.CannotOpenStore, `The PFX store cannot be read (${(err as Error).message}).`, err);
  }
}

function openPem(bytes: Buffer, password: string, keyPassword: string, format: Format): Omit<OpenedStore, 'storeType'> {
  const certs: StoreCertificate[] = [];
  const keys: OpenedStore['keys'] = [];
  const publicKeys: KeyObject[] = [];
  if (!isPemText(bytes)) {
    // DER: a certificate, or (PEM key store) a PKCS#8 private key.
    if (looksLikeCertificate(bytes)) certs.push(toCert(bytes));
    else if (format === 'pem') keys.push({ key: privateKey(bytes, keyPassword || password, 'der'), localKeyId: null });
    else throw storeError(ErrorCode.CannotOpenStore, 'The store holds neither a PEM nor a DER certificate.');
    return { certs, keys, publicKeys };
  }
  for (const block of pemBlocks(bytes.toString('utf8'))) {
    if (block.label === 'CERTIFICATE' || block.label === 'TRUSTED CERTIFICATE' || block.label === 'X509 CERTIFICATE') {
      try {
        certs.push(toCert(block.der));
      } catch (err) {
        throw storeError(ErrorCode.CannotOpenStore, `A CERTIFICATE block cannot be read (${(err as Error).message}).`, err);
      }
    } else if (block.label.endsWith('PRIVATE KEY')) {
      if (format === 'pem') keys.push({ key: privateKey(block.pem, keyPassword || password, 'pem'), localKeyId: null });
    } else if (block.label === 'PUBLIC KEY') {
      publicKeys.push(createPublicKey(block.pem));
    }
  }
  return { certs, keys, publicKeys };
}

function privateKey(key: string | Buffer, passphrase: string, format: 'pem' | 'der'): KeyObject {
  try {
    return format === 'pem'
      ? createPrivateKey({ key, format: 'pem', passphrase: passphrase || undefined })
      : createPrivateKey({ key: key as Buffer, format: 'der', type: 'pkcs8', passphrase: passphrase || undefined });
  } catch (err) {
    const message = (err as Error).message;
    const detail = /pass ?phrase|decrypt|bad decrypt/i.test(message)
      ? 'The private key is encrypted and StorePassword/KeyPassword does not open it.'
      : `The private key cannot be read (${message}).`;
    throw storeError(ErrorCode.CannotOpenStore, detail, err);
  }
}

function openP7b(bytes: Buffer): Omit<OpenedStore, 'storeType'> {
  let der = bytes;
  if (isPemText(bytes)) {
    const block = pemBlocks(bytes.toString('utf8')).find((b) => b.label === 'PKCS7');
    if (!block) throw storeError(ErrorCode.CannotOpenStore, 'No PKCS7 block in the store.');
    der = block.der;
  }
  try {
    const signedData = child(contextChild(parseAsn1(der, true), 0)!, 0, Tag.Sequence);
    const certSet = contextChild(signedData, 0);
    return { certs: (certSet?.children ?? []).map((c) => toCert(Buffer.from(c.raw))), keys: [], publicKeys: [] };
  } catch (err) {
    throw storeError(ErrorCode.CannotOpenStore, `The PKCS#7 store cannot be read (${(err as Error).message}).`, err);
  }
}

function openJwk(bytes: Buffer): Omit<OpenedStore, 'storeType'> {
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw storeError(ErrorCode.CannotOpenStore, 'The JWK store is not JSON.', err);
  }
  const list = Array.isArray(jwk.keys) ? (jwk.keys as Array<Record<string, unknown>>) : [jwk];
  const keys: OpenedStore['keys'] = [];
  const publicKeys: KeyObject[] = [];
  for (const k of list) {
    try {
      if (k.d !== undefined) keys.push({ key: createPrivateKey({ key: k as never, format: 'jwk' }), localKeyId: null });
      else publicKeys.push(createPublicKey({ key: k as never, format: 'jwk' }));
    } catch (err) {
      throw storeError(ErrorCode.CannotOpenStore, `A JWK cannot be read (${(err as Error).message}).`, err);
    }
  }
  return { certs: [], keys, publicKeys };
}

/**
 * Opens a store: `store` is a file name (file types) or the store's bytes (blob types; a string
 * blob may be Base64). Throws WSServerError 271 when it cannot be opened.
 */
export function openStore(storeType: number, store: string | Buffer, password: string, keyPassword = password): OpenedStore {
  assertSupportedStoreType(storeType);
  let bytes: Buffer;
  let format: Format;
  let fromFile = FILE_TYPES[storeType] !== undefined;
  if (storeType === CertStoreType.Auto) {
    fromFile = typeof store === 'string' && isFile(store);
    bytes = fromFile ? readStoreFile(store as string) : blobBytes(store);
    format = detectFormat(bytes);
    bytes = decodeIfBase64(bytes);
  } else if (FILE_TYPES[storeType]) {
    if (typeof store !== 'string' || store === '') throw storeError(ErrorCode.CannotOpenStore, `Store type ${storeType} is a file type: set Store to the file's name.`);
    bytes = readStoreFile(store);
    format = FILE_TYPES[storeType]!;
  } else {
    bytes = blobBytes(store);
    format = BLOB_TYPES[storeType]!;
    if (format === 'pfx' || format === 'public' || format === 'p7b') bytes = decodeIfBase64(bytes);
  }
  if (bytes.length === 0) throw storeError(ErrorCode.CannotOpenStore, 'The store is empty.');
  const resolved = resolvedType(format, storeType, fromFile);
  const opened =
    format === 'pfx' ? openPfx(bytes, password)
    : format === 'p7b' ? openP7b(bytes)
    : format === 'jwk' ? openJwk(bytes)
    : openPem(bytes, password, keyPassword, format);
  return { storeType: resolved, ...opened };
}

/** A string that names an existing file rather than holding data (cstAuto). */
function isFile(s: string): boolean {
  if (s.length > 4096 || s.includes('\n') || s.trim().startsWith('-----BEGIN') || s.trim().startsWith('{')) return false;
  try {
    return statSync(s).isFile();
  } catch {
    return false;
  }
}

function resolvedType(format: Format, requested: number, file: boolean): number {
  if (requested !== CertStoreType.Auto) return requested;
  switch (format) {
    case 'pfx':
      return file ? CertStoreType.PFXFile : CertStoreType.PFXBlob;
    case 'pem':
      return file ? CertStoreType.PEMKeyFile : CertStoreType.PEMKeyBlob;
    case 'public':
      return file ? CertStoreType.PublicKeyFile : CertStoreType.PublicKeyBlob;
    case 'p7b':
      return file ? CertStoreType.P7BFile : CertStoreType.P7BBlob;
    case 'jwk':
      return file ? CertStoreType.JWKFile : CertStoreType.JWKBlob;
  }
}
