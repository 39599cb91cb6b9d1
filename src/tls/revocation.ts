/**
 * SSLCheckCRL and SSLCheckOCSP, applied to client certificates: the CRL named by the
 * certificate's CRL distribution points, or the OCSP responder named in its Authority
 * Information Access, checked against the issuing CA (from the client's chain or SSLCACerts).
 * Mode 1 carries on when the certificate names no CRL/OCSP or the check cannot be made; mode
 * 2 refuses then. A revoked certificate is refused in both modes.
 */
import { X509Certificate, createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { Tag, child, contextChild, der, derOid, oidOf, parseAsn1, timeOf, type Asn1 } from './der.js';
import { describeCertificate } from './x509-info.js';

export interface RevocationResult {
  readonly ok: boolean;
  /** Why not, in the Status format of SSLClientAuthentication. */
  readonly status: string;
}

const FETCH_TIMEOUT_MS = 10_000;

/** Signature algorithm OIDs → the digest crypto.verify needs (null: the key decides, e.g. Ed25519). */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};

/** Verifies `signature` (a BIT STRING) by `key` over `data` with the algorithm `algId`. */
function signatureValid(algId: Asn1, data: Buffer, signature: Asn1, key: KeyObject): boolean {
  const oid = oidOf(child(algId, 0));
  if (!(oid in SIGNATURE_DIGESTS)) return false;
  const sig = signature.value.subarray(1); // BIT STRING: skip the unused-bits octet
  try {
    return verifySignature(SIGNATURE_DIGESTS[oid]!, data, key, sig);
  } catch {
    return false;
  }
}

/** An INTEGER's magnitude without leading zero octets, for comparing serial numbers. */
function serialBytes(node: Asn1): string {
  let i = 0;
  while (i < node.value.length - 1 && node.value[i] === 0) i++;
  return node.value.subarray(i).toString('hex');
}

/** The certificate's serial number INTEGER, issuer Name and the fields needed for CertID. */
function certParts(cert: X509Certificate): { serial: Asn1; issuerName: Asn1 } {
  const tbs = child(parseAsn1(Buffer.from(cert.raw)), 0);
  const offset = contextChild(tbs, 0) ? 1 : 0;
  return { serial: child(tbs, offset, Tag.Integer), issuerName: child(tbs, offset + 2, Tag.Sequence) };
}

/** The subjectPublicKey bits of a certificate (what issuerKeyHash hashes). */
function publicKeyBits(cert: X509Certificate): Buffer {
  const tbs = child(parseAsn1(Buffer.from(cert.raw)), 0);
  const offset = contextChild(tbs, 0) ? 1 : 0;
  const spki = child(tbs, offset + 5, Tag.Sequence);
  return child(spki, 1, Tag.BitString).value.subarray(1);
}

async function fetchBytes(url: string, init?: RequestInit): Promise<Buffer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The issuer of `leaf` among the client's chain and the trusted CAs. */
function findIssuer(leaf: X509Certificate, socket: TLSSocket, caCerts: string): X509Certificate | null {
  const candidates: X509Certificate[] = [];
  let link = socket.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | null;
  const seen = new Set<unknown>();
  while (link && link.raw && !seen.has(link)) {
    seen.add(link);
    try {
      candidates.push(new X509Certificate(link.raw));
    } catch {
      /* skip */
    }
    link = link.issuerCertificate as typeof link;
  }
  for (const pem of caCerts.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) {
    try {
      candidates.push(new X509Certificate(pem));
    } catch {
      /* skip */
    }
  }
  return candidates.find((c) => c.raw.compare(leaf.raw) !== 0 && leaf.checkIssued(c) && leaf.verify(c.publicKey)) ?? null;
}

// ---- CRL ----------------------------------------------------------------------------------

interface ParsedCrl {
  readonly revoked: Set<string>;
  readonly nextUpdate: Date | null;
}

const crlCache = new Map<string, { crl: ParsedCrl; until: number }>();

function parseCrl(bytes: Buffer, issuer: X509Certificate, leafIssuerName: Asn1): ParsedCrl {
  const text = bytes.subarray(0, 64).toString('latin1');
  const derBytes = text.includes('-----BEGIN')
    ? Buffer.from(/-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(bytes.toString('latin1'))?.[1]?.replace(/\s/g, '') ?? '', 'base64')
    : bytes;
  const list = parseAsn1(derBytes);
  const tbs = child(list, 0, Tag.Sequence);
  if (!signatureValid(child(list, 1), Buffer.from(tbs.raw), child(list, 2, Tag.BitString), issuer.publicKey)) {
    throw new Error('the CRL is not signed by the certificate issuer');
  }
  let i = tbs.children[0]!.tag === Tag.Integer ? 1 : 0;
  i++; // signature
  const issuerName = child(tbs, i++, Tag.Sequence);
  if (!issuerName.raw.equals(leafIssuerName.raw)) throw new Error("the CRL's issuer is not the certificate's issuer");
  i++; // thisUpdate
  let nextUpdate: Date | null = null;
  const maybeNext = tbs.children[i];
  if (maybeNext && (maybeNext.tag === Tag.UtcTime || maybeNext.tag === Tag.GeneralizedTime)) {
    nextUpdate = timeOf(maybeNext);
    i++;
  }
  const revoked = new Set<string>();
  const entries = tbs.children[i];
  if (entries && entries.tag === Tag.Sequence) for (const entry of entries.children) revoked.add(serialBytes(child(entry, 0, Tag.Integer)));
  return { revoked, nextUpdate };
}

async function checkCrl(leaf: X509Certificate, issuer: X509Certificate | null, mode: number, say: (m: string) => void): Promise<RevocationResult | null> {
  const urls = describeCertificate(Buffer.from(leaf.raw)).crlDistributionPoints.filter((u) => /^https?:/i.test(u));
  if (urls.length === 0) return mode === 2 ? { ok: false, status: 'CRL check required (SSLCheckCRL=2) but the certificate names no CRL distribution point.' } : null;
  if (!issuer) return mode === 2 ? { ok: false, status: 'CRL check required but the issuing CA is not known (SSLCACerts).' } : null;
  const { serial, issuerName } = certParts(leaf);
  const problems: string[] = [];
  for (const url of urls) {
    try {
      let cached = crlCache.get(url);
      if (!cached || cached.until < Date.now()) {
        const crl = parseCrl(await fetchBytes(url), issuer, issuerName);
        cached = { crl, until: Math.min(crl.nextUpdate?.getTime() ?? Infinity, Date.now() + 3600_000) };
        crlCache.set(url, cached);
      }
      if (cached.crl.nextUpdate && cached.crl.nextUpdate.getTime() < Date.now()) throw new Error(`the CRL at ${url} is out of date`);
      const revoked = cached.crl.revoked.has(serialBytes(serial));
      say(`CRL ${url}: ${revoked ? 'certificate revoked' : 'not revoked'}`);
      return revoked ? { ok: false, status: `CERT_REVOKED: certificate revoked (CRL ${url})` } : { ok: true, status: 'OK' };
    } catch (err) {
      problems.push(`${url}: ${(err as Error).message}`);
    }
  }
  say(`CRL check not possible: ${problems.join('; ')}`);
  return mode === 2 ? { ok: false, status: `CRL check failed: ${problems.join('; ')}` } : null;
}

// ---- OCSP ---------------------------------------------------------------------------------

const SHA1_ALG = der(Tag.Sequence, derOid('1.3.14.3.2.26'), der(Tag.Null));

/** An OCSP request for one certificate (RFC 6960), CertID hashed with SHA-1 as responders expect. */
export function ocspRequest(leaf: X509Certificate, issuer: X509Certificate): Buffer {
  const { serial, issuerName } = certParts(leaf);
  const nameHash = createHash('sha1').update(issuerName.raw).digest();
  const keyHash = createHash('sha1').update(publicKeyBits(issuer)).digest();
  const certId = der(Tag.Sequence, SHA1_ALG, der(Tag.OctetString, nameHash), der(Tag.OctetString, keyHash), Buffer.from(serial.raw));
  const request = der(Tag.Sequence, certId);
  const tbsRequest = der(Tag.Sequence, der(Tag.Sequence, request));
  return der(Tag.Sequence, tbsRequest);
}

const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** The certificate status in an OCSP response for `serial`, after checking who signed it. */
function parseOcspResponse(bytes: Buffer, issuer: X509Certificate, serial: Asn1): { status: 'good' | 'revoked' | 'unknown'; nextUpdate: Date | null } {
  const response = parseAsn1(bytes);
  const responseStatus = child(response, 0).value[0];
  if (responseStatus !== 0) throw new Error(`the responder answered status ${responseStatus} (not successful)`);
  const responseBytes = child(contextChild(response, 0)!, 0);
  if (oidOf(child(responseBytes, 0)) !== '1.3.6.1.5.5.7.48.1.1') throw new Error('not a basic OCSP response');
  const basic = parseAsn1(child(responseBytes, 1, Tag.OctetString).value);
  const tbs = child(basic, 0, Tag.Sequence);
  // Signed by the issuer itself, or by a responder certificate the issuer issued for OCSP signing.
  let signer: KeyObject | null = null;
  if (signatureValid(child(basic, 1), Buffer.from(tbs.raw), child(basic, 2, Tag.BitString), issuer.publicKey)) signer = issuer.publicKey;
  else {
    for (const c of contextChild(basic, 0)?.children[0]?.children ?? []) {
      const responder = new X509Certificate(Buffer.from(c.raw));
      const eku = describeCertificate(Buffer.from(responder.raw)).extendedKeyUsage;
      if (responder.checkIssued(issuer) && responder.verify(issuer.publicKey) && eku.includes(OCSP_SIGNING)) {
        if (signatureValid(child(basic, 1), Buffer.from(tbs.raw), child(basic, 2, Tag.BitString), responder.publicKey)) signer = responder.publicKey;
      }
    }
  }
  if (!signer) throw new Error('the OCSP response is not signed by the issuer or its OCSP responder');
  const offset = contextChild(tbs, 0) && tbs.children[0]!.tag === 0xa0 ? 1 : 0;
  const responses = child(tbs, offset + 2, Tag.Sequence);
  const want = serialBytes(serial);
  for (const single of responses.children) {
    const certId = child(single, 0, Tag.Sequence);
    if (serialBytes(child(certId, 3, Tag.Integer)) !== want) continue;
    const status = child(single, 1);
    // nextUpdate is [0] EXPLICIT after thisUpdate (a "good" status is [0] IMPLICIT NULL too).
    const nextUpdateWrapper = single.children.slice(3).find((c) => c.tag === 0xa0);
    const nextUpdate = nextUpdateWrapper ? timeOf(child(nextUpdateWrapper, 0)) : null;
    const kind = status.tag & 0x1f;
    return { status: kind === 0 ? 'good' : kind === 1 ? 'revoked' : 'unknown', nextUpdate };
  }
  throw new Error('the OCSP response does not cover this certificate');
}

const ocspCache = new Map<string, { status: 'good' | 'revoked' | 'unknown'; until: number }>();

async function checkOcsp(leaf: X509Certificate, issuer: X509Certificate | null, mode: number, say: (m: string) => void): Promise<RevocationResult | null> {
  const urls = describeCertificate(Buffer.from(leaf.raw)).ocspResponders.filter((u) => /^https?:/i.test(u));
  if (urls.length === 0) return mode === 2 ? { ok: false, status: 'OCSP check required (SSLCheckOCSP=2) but the certificate names no OCSP responder.' } : null;
  if (!issuer) return mode === 2 ? { ok: false, status: 'OCSP check required but the issuing CA is not known (SSLCACerts).' } : null;
  const { serial } = certParts(leaf);
  const cacheKey = `${leaf.fingerprint256}`;
  const problems: string[] = [];
  let cached = ocspCache.get(cacheKey);
  if (!cached || cached.until < Date.now()) {
    cached = undefined;
    for (const url of urls) {
      try {
        const body = await fetchBytes(url, { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: ocspRequest(leaf, issuer) });
        const { status, nextUpdate } = parseOcspResponse(body, issuer, serial);
        cached = { status, until: Math.min(nextUpdate?.getTime() ?? Infinity, Date.now() + 3600_000) };
        ocspCache.set(cacheKey, cached);
        say(`OCSP ${url}: ${status}`);
        break;
      } catch (err) {
        problems.push(`${url}: ${(err as Error).message}`);
      }
    }
  }
  if (!cached) {
    say(`OCSP check not possible: ${problems.join('; ')}`);
    return mode === 2 ? { ok: false, status: `OCSP check failed: ${problems.join('; ')}` } : null;
  }
  if (cached.status === 'revoked') return { ok: false, status: 'CERT_REVOKED: certificate revoked (OCSP)' };
  if (cached.status === 'unknown') return mode === 2 ? { ok: false, status: 'OCSP: the responder does not know the certificate' } : null;
  return { ok: true, status: 'OK' };
}

/** Checks a client certificate as SSLCheckCRL / SSLCheckOCSP ask. `say` reports each step (SSLStatus). */
export async function checkRevocation(
  leaf: X509Certificate,
  socket: TLSSocket,
  options: { crl: number; ocsp: number; caCerts: string },
  say: (message: string) => void,
): Promise<RevocationResult> {
  const issuer = findIssuer(leaf, socket, options.caCerts);
  if (options.ocsp > 0) {
    const r = await checkOcsp(leaf, issuer, options.ocsp, say);
    if (r && !r.ok) return r;
  }
  if (options.crl > 0) {
    const r = await checkCrl(leaf, issuer, options.crl, say);
    if (r && !r.ok) return r;
  }
  return { ok: true, status: 'OK' };
}
