/**
 * A PKCS#12 (.pfx/.p12) reader (RFC 7292): checks the password-based MAC, decrypts the
 * encrypted SafeContents and shrouded key bags, and returns the certificates and private keys
 * with the attributes that pair them (localKeyId, friendlyName).
 *
 * Node has no PKCS#12 API beyond `tls.createSecureContext({ pfx })`, which neither hands the
 * certificate back nor opens the legacy files OpenSSL 1.x and Windows still write (40-bit RC2,
 * no longer in OpenSSL 3's default provider). Encryption schemes: PBES2 (PBKDF2 with
 * HMAC-SHA1/224/256/384/512; AES-128/192/256-CBC or 3DES-CBC) and the PKCS#12 PBE schemes
 * (SHA-1 with 3DES, 2-key 3DES, RC2-40/128 or RC4-40/128).
 */
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { Asn1Error, Tag, child, contextChild, intOf, oidOf, parseAsn1, stringOf, type Asn1 } from './der.js';
import { rc2CbcDecrypt, rc4 } from './legacy-ciphers.js';

/** A certificate or key found in the file, with its pairing attributes. */
export interface Pkcs12Entry {
  readonly der: Buffer;
  readonly localKeyId: Buffer | null;
  readonly friendlyName: string;
}

export interface Pkcs12Contents {
  /** DER X.509 certificates, in file order. */
  readonly certs: Pkcs12Entry[];
  /** Unencrypted PKCS#8 PrivateKeyInfo DER. */
  readonly keys: Pkcs12Entry[];
}

/** Why a file could not be read: `password` when the MAC or a decryption says the password is wrong. */
export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
  constructor(
    message: string,
    readonly reason: 'format' | 'password' | 'unsupported',
  ) {
    super(message);
  }
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
} as const;

/** Digest algorithm OIDs → Node hash name and block size (bytes). */
const DIGESTS: Record<string, { name: string; block: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', block: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', block: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', block: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', block: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', block: 128 },
  '1.2.840.113549.2.5': { name: 'md5', block: 64 },
};

/** PBKDF2 PRF OIDs → Node hash name. */
const PRFS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

/** PBES2 encryption scheme OIDs → Node cipher and key length. */
const PBES2_CIPHERS: Record<string, { cipher: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLength: 24 },
};

/** PKCS#12 PBE scheme OIDs (pkcs-12PbeIds). */
const PKCS12_PBE: Record<string, { cipher: 'rc4' | 'des-ede3-cbc' | 'des-ede-cbc' | 'rc2'; keyLength: number; ivLength: number }> = {
  '1.2.840.113549.1.12.1.1': { cipher: 'rc4', keyLength: 16, ivLength: 0 },
  '1.2.840.113549.1.12.1.2': { cipher: 'rc4', keyLength: 5, ivLength: 0 },
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16, ivLength: 8 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16, ivLength: 8 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5, ivLength: 8 },
};

/** The password as PKCS#12 PBE and the MAC use it: BMPString (UTF-16BE) with a 2-byte terminator. */
function bmpPassword(password: string): Buffer {
  const utf16 = Buffer.from(`${password}\0`, 'utf16le');
  return utf16.swap16();
}

/** The PKCS#12 key derivation (RFC 7292 appendix B.2). `id`: 1 key, 2 IV, 3 MAC key. */
export function pkcs12Kdf(hash: string, blockSize: number, password: Buffer, salt: Buffer, iterations: number, id: number, length: number): Buffer {
  const v = blockSize;
  const D = Buffer.alloc(v, id);
  const repeat = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = Buffer.concat([repeat(salt), repeat(password)]);
  const chunks: Buffer[] = [];
  let produced = 0;
  while (produced < length) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    chunks.push(A);
    produced += A.length;
    if (produced >= length) break;
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % A.length]!;
    for (let off = 0; off < I.length; off += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[off + k]! + B[k]! + carry;
        I[off + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(chunks).subarray(0, length);
}

/** Decrypts `data` encrypted under the AlgorithmIdentifier `alg` with `password`. */
function decrypt(alg: Asn1, data: Buffer, password: string): Buffer {
  const oid = oidOf(child(alg, 0));
  const params = alg.children[1];
  try {
    if (oid === OID.pbes2) return decryptPbes2(params!, data, password);
    const pbe = PKCS12_PBE[oid];
    if (!pbe) throw new Pkcs12Error(`unsupported encryption algorithm ${oid}`, 'unsupported');
    const salt = child(params!, 0, Tag.OctetString).value;
    const iterations = intOf(child(params!, 1));
    const pw = bmpPassword(password);
    const key = pkcs12Kdf('sha1', 64, pw, salt, iterations, 1, pbe.keyLength);
    if (pbe.cipher === 'rc4') return rc4(key, data);
    const iv = pkcs12Kdf('sha1', 64, pw, salt, iterations, 2, pbe.ivLength);
    if (pbe.cipher === 'rc2') return rc2CbcDecrypt(key, key.length * 8, iv, data);
    const decipher = createDecipheriv(pbe.cipher, key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch (err) {
    if (err instanceof Pkcs12Error || err instanceof Asn1Error) throw err;
    // A bad padding after decryption: the password is wrong (the MAC would normally have said so).
    throw new Pkcs12Error('decryption failed: wrong password?', 'password');
  }
}

function decryptPbes2(params: Asn1, data: Buffer, password: string): Buffer {
  const kdf = child(params, 0);
  const scheme = child(params, 1);
  if (oidOf(child(kdf, 0)) !== OID.pbkdf2) throw new Pkcs12Error(`unsupported PBES2 key derivation ${oidOf(child(kdf, 0))}`, 'unsupported');
  const kdfParams = child(kdf, 1);
  const salt = child(kdfParams, 0, Tag.OctetString).value;
  const iterations = intOf(child(kdfParams, 1));
  let prf = 'sha1';
  let keyLength: number | null = null;
  for (const c of kdfParams.children.slice(2)) {
    if (c.tag === Tag.Integer) keyLength = intOf(c);
    else if (c.tag === Tag.Sequence) {
      const name = PRFS[oidOf(child(c, 0))];
      if (!name) throw new Pkcs12Error(`unsupported PBKDF2 PRF ${oidOf(child(c, 0))}`, 'unsupported');
      prf = name;
    }
  }
  const cipherOid = oidOf(child(scheme, 0));
  const cipher = PBES2_CIPHERS[cipherOid];
  if (!cipher) throw new Pkcs12Error(`unsupported PBES2 cipher ${cipherOid}`, 'unsupported');
  const iv = child(scheme, 1, Tag.OctetString).value;
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyLength ?? cipher.keyLength, prf);
  const decipher = createDecipheriv(cipher.cipher, key, iv);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

/** The OCTET STRING content of a `data` ContentInfo ([0] EXPLICIT OCTET STRING). */
function dataContent(contentInfo: Asn1): Buffer {
  const explicit = contextChild(contentInfo, 0);
  if (!explicit) throw new Asn1Error('ContentInfo without content');
  return child(explicit, 0).value;
}

function verifyMac(macData: Asn1, authSafe: Buffer, password: string): void {
  const digestInfo = child(macData, 0);
  const algOid = oidOf(child(child(digestInfo, 0), 0));
  if (algOid === OID.pbmac1) throw new Pkcs12Error('PBMAC1-protected PKCS#12 files are not supported', 'unsupported');
  const digest = DIGESTS[algOid];
  if (!digest) throw new Pkcs12Error(`unsupported MAC digest ${algOid}`, 'unsupported');
  const expected = child(digestInfo, 1, Tag.OctetString).value;
  const salt = child(macData, 1, Tag.OctetString).value;
  const iterations = macData.children[2] ? intOf(macData.children[2]) : 1;
  const macLength = createHash(digest.name).digest().length;
  // OpenSSL tries the BMP-encoded password and, for an empty one, also the zero-length form.
  const candidates = password === '' ? [bmpPassword(''), Buffer.alloc(0)] : [bmpPassword(password)];
  for (const pw of candidates) {
    const key = pkcs12Kdf(digest.name, digest.block, pw, salt, iterations, 3, macLength);
    const mac = createHmac(digest.name, key).update(authSafe).digest();
    if (mac.length === expected.length && timingSafeEqual(mac, expected)) return;
  }
  throw new Pkcs12Error('the MAC does not verify: wrong password', 'password');
}

function bagAttributes(bag: Asn1): { localKeyId: Buffer | null; friendlyName: string } {
  let localKeyId: Buffer | null = null;
  let friendlyName = '';
  const attrs = bag.children[2];
  if (attrs && attrs.tag === Tag.Set) {
    for (const attr of attrs.children) {
      const type = oidOf(child(attr, 0));
      const value = child(attr, 1).children[0];
      if (!value) continue;
      if (type === OID.localKeyId) localKeyId = value.value;
      else if (type === OID.friendlyName) friendlyName = stringOf(value);
    }
  }
  return { localKeyId, friendlyName };
}

function readSafeContents(safeContents: Asn1, password: string, out: { certs: Pkcs12Entry[]; keys: Pkcs12Entry[] }, depth = 0): void {
  if (depth > 4) throw new Asn1Error('SafeContents nested too deep');
  for (const bag of safeContents.children) {
    const type = oidOf(child(bag, 0));
    const value = contextChild(bag, 0)?.children[0];
    if (!value) continue;
    const attrs = bagAttributes(bag);
    if (type === OID.certBag) {
      if (oidOf(child(value, 0)) !== OID.x509Certificate) continue; // SDSI certificates: not X.509
      out.certs.push({ der: Buffer.from(child(contextChild(value, 0)!, 0, Tag.OctetString).value), ...attrs });
    } else if (type === OID.keyBag) {
      out.keys.push({ der: Buffer.from(value.raw), ...attrs });
    } else if (type === OID.shroudedKeyBag) {
      const plain = decrypt(child(value, 0), child(value, 1, Tag.OctetString).value, password);
      out.keys.push({ der: plain, ...attrs });
    } else if (type === OID.safeContentsBag) {
      readSafeContents(value, password, out, depth + 1);
    }
    // CRL and secret bags carry nothing a TLS server uses.
  }
}

/** Reads a PKCS#12 file. Throws Pkcs12Error (format, password or unsupported). */
export function readPkcs12(bytes: Buffer, password: string): Pkcs12Contents {
  try {
    const pfx = parseAsn1(bytes, true);
    if (pfx.tag !== Tag.Sequence || intOf(child(pfx, 0)) !== 3) throw new Pkcs12Error('not a PKCS#12 (PFX version 3) file', 'format');
    const authSafeInfo = child(pfx, 1, Tag.Sequence);
    const contentType = oidOf(child(authSafeInfo, 0));
    if (contentType === OID.signedData) throw new Pkcs12Error('public-key integrity mode (signedData) PKCS#12 files are not supported', 'unsupported');
    if (contentType !== OID.data) throw new Pkcs12Error(`unexpected authSafe content type ${contentType}`, 'format');
    const authSafeBytes = dataContent(authSafeInfo);
    const macData = pfx.children[2];
    if (macData) verifyMac(macData, authSafeBytes, password);
    const out = { certs: [] as Pkcs12Entry[], keys: [] as Pkcs12Entry[] };
    for (const info of parseAsn1(authSafeBytes).children) {
      const type = oidOf(child(info, 0));
      if (type === OID.data) {
        readSafeContents(parseAsn1(dataContent(info)), password, out);
      } else if (type === OID.encryptedData) {
        const encryptedData = child(contextChild(info, 0)!, 0);
        const eci = child(encryptedData, 1);
        const encrypted = contextChild(eci, 0);
        if (!encrypted) continue;
        const plain = decrypt(child(eci, 1), encrypted.value, password);
        readSafeContents(parseAsn1(plain), password, out);
      } else {
        throw new Pkcs12Error(`unsupported SafeContents type ${type}`, 'unsupported');
      }
    }
    return out;
  } catch (err) {
    if (err instanceof Pkcs12Error) throw err;
    throw new Pkcs12Error(`malformed PKCS#12 data (${(err as Error).message})`, 'format');
  }
}

/** True when `bytes` look like a PKCS#12 PFX: SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data|signedData ... } }. */
export function looksLikePkcs12(bytes: Buffer): boolean {
  try {
    const pfx = parseAsn1(bytes, true);
    if (pfx.tag !== Tag.Sequence || pfx.children.length < 2) return false;
    if (child(pfx, 0).tag !== Tag.Integer || intOf(child(pfx, 0)) !== 3) return false;
    const type = oidOf(child(child(pfx, 1, Tag.Sequence), 0));
    return type === OID.data || type === OID.signedData;
  } catch {
    return false;
  }
}
