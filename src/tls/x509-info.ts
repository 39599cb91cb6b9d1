/**
 * What the reference's Certificate type shows about an X.509 certificate, read from the
 * certificate itself: `crypto.X509Certificate` for what Node offers, and the DER for the rest
 * (the version, the names field by field, key usage bits, the signature algorithm, CRL
 * distribution points).
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { Tag, child, contextChild, intOf, oidOf, parseAsn1, stringOf, type Asn1 } from './der.js';

/** Short names of distinguished-name attributes, as the reference writes them (CN, O, OU, L, S, C, E). */
const DN_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'S',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'T',
  '2.5.4.17': 'PostalCode',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
};

/** Signature algorithm OIDs → names. */
const SIGNATURE_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5RSA',
  '1.2.840.113549.1.1.5': 'sha1RSA',
  '1.2.840.113549.1.1.14': 'sha224RSA',
  '1.2.840.113549.1.1.11': 'sha256RSA',
  '1.2.840.113549.1.1.12': 'sha384RSA',
  '1.2.840.113549.1.1.13': 'sha512RSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.1': 'sha1ECDSA',
  '1.2.840.10045.4.3.1': 'sha224ECDSA',
  '1.2.840.10045.4.3.2': 'sha256ECDSA',
  '1.2.840.10045.4.3.3': 'sha384ECDSA',
  '1.2.840.10045.4.3.4': 'sha512ECDSA',
  '1.2.840.10040.4.3': 'sha1DSA',
  '2.16.840.1.101.3.4.3.1': 'sha224DSA',
  '2.16.840.1.101.3.4.3.2': 'sha256DSA',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

/** KeyUsage bits (first byte of the BIT STRING) in the reference's UsageFlags order. */
const USAGE_NAMES: Array<[number, string]> = [
  [0x80, 'Digital Signatures'],
  [0x40, 'Key Authentication'],
  [0x20, 'Key Encryption'],
  [0x10, 'Data Encryption'],
  [0x08, 'Key Agreement'],
  [0x04, 'Certificate Signing'],
  [0x02, 'Key Signing'],
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The reference's date format, in UTC: `23-Jan-2000 15:00:00`. */
export function formatCertificateDate(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}`;
}

/** Colon-separated lower-case hex, the reference's fingerprint format (`bc:2a:72:...`). */
export function colonHex(bytes: Buffer): string {
  return bytes.toString('hex').replace(/(..)(?=.)/g, '$1:');
}

/** One attribute of a distinguished name. */
export interface NameAttribute {
  readonly type: string;
  readonly value: string;
}

/** Reads a Name (RDNSequence) into its RDNs, each a list of attributes, in DER order. */
export function readName(name: Asn1): NameAttribute[][] {
  return name.children.map((rdn) =>
    rdn.children.map((atv) => {
      const oid = oidOf(child(atv, 0));
      return { type: DN_NAMES[oid] ?? oid, value: stringOf(child(atv, 1)) };
    }),
  );
}

function quoteValue(value: string): string {
  return /[,+;"<>\\]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A distinguished name the reference's way: most specific first, `CN=host, O=Org, C=US`; values with commas quoted. */
export function formatName(rdns: NameAttribute[][]): string {
  return [...rdns]
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.type}=${quoteValue(a.value)}`).join(' + '))
    .join(', ');
}

/** Everything the Certificate type shows about one certificate. */
export interface CertificateDescription {
  readonly x509: X509Certificate;
  readonly der: Buffer;
  readonly subject: string;
  /** The subject in DER order (C first), also accepted when matching subjects. */
  readonly subjectForward: string;
  readonly issuer: string;
  readonly effectiveDate: string;
  readonly expirationDate: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string;
  readonly version: string;
  readonly signatureAlgorithm: string;
  readonly usageFlags: number;
  readonly usage: string;
  readonly extendedKeyUsage: string;
  readonly subjectAltNames: string;
  readonly crlDistributionPoints: string[];
  readonly ocspResponders: string[];
}

function extensions(tbs: Asn1): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const wrapper = contextChild(tbs, 3);
  if (!wrapper) return out;
  for (const ext of child(wrapper, 0).children) {
    const id = oidOf(child(ext, 0));
    const value = ext.children[ext.children.length - 1]!;
    if (value.tag === Tag.OctetString) out.set(id, value.value);
  }
  return out;
}

/** URIs among GeneralNames (uniformResourceIdentifier is [6] IMPLICIT IA5String). */
function uris(generalNames: Asn1): string[] {
  return generalNames.children.filter((g) => g.tag === 0x86).map((g) => g.value.toString('latin1'));
}

function crlDistributionPoints(value: Buffer | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const dp of parseAsn1(value).children) {
    const name = contextChild(dp, 0); // distributionPoint [0]
    const full = name && contextChild(name, 0); // fullName [0] GeneralNames
    if (full) out.push(...uris(full));
  }
  return out;
}

/** Reads one certificate (DER). Throws on anything that is not an X.509 certificate. */
export function describeCertificate(der: Buffer): CertificateDescription {
  const x509 = new X509Certificate(der);
  const raw = Buffer.from(x509.raw);
  const cert = parseAsn1(raw);
  const tbs = child(cert, 0, Tag.Sequence);
  const versionNode = contextChild(tbs, 0);
  const version = versionNode ? intOf(child(versionNode, 0)) + 1 : 1;
  const offset = versionNode ? 1 : 0;
  const issuerRdns = readName(child(tbs, offset + 2, Tag.Sequence));
  const subjectRdns = readName(child(tbs, offset + 4, Tag.Sequence));
  const sigOid = oidOf(child(child(cert, 1, Tag.Sequence), 0));
  const exts = extensions(tbs);
  const ku = exts.get('2.5.29.15');
  const usageFlags = ku ? (parseAsn1(ku).value[1] ?? 0) : 0;
  const eku = exts.get('2.5.29.37');
  const ekuOids = eku ? parseAsn1(eku).children.map(oidOf) : [];
  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  const ocsp = (x509.infoAccess ?? '')
    .split('\n')
    .map((line) => /^OCSP - URI:(.+)$/.exec(line.trim())?.[1])
    .filter((u): u is string => u !== undefined);
  let serial = x509.serialNumber.toUpperCase();
  if (serial.length % 2 === 1) serial = `0${serial}`;
  return {
    x509,
    der: raw,
    subject: formatName(subjectRdns),
    subjectForward: subjectRdns.map((rdn) => rdn.map((a) => `${a.type}=${quoteValue(a.value)}`).join(' + ')).join(', '),
    issuer: formatName(issuerRdns),
    effectiveDate: formatCertificateDate(notBefore),
    expirationDate: formatCertificateDate(notAfter),
    notBefore,
    notAfter,
    serialNumber: serial,
    version: `V${version}`,
    signatureAlgorithm: SIGNATURE_NAMES[sigOid] ?? sigOid,
    usageFlags,
    usage: USAGE_NAMES.filter(([bit]) => (usageFlags & bit) !== 0).map(([, name]) => name).join(', '),
    extendedKeyUsage: ekuOids.join(', '),
    subjectAltNames: x509.subjectAltName ?? '',
    crlDistributionPoints: crlDistributionPoints(exts.get('2.5.29.31')),
    ocspResponders: ocsp,
  };
}

/** The reference's name for a key's algorithm. */
export function keyAlgorithmName(key: KeyObject): string {
  switch (key.asymmetricKeyType as string | undefined) {
    case 'rsa':
      return 'RSA';
    case 'rsa-pss':
      return 'RSASSA-PSS';
    case 'ec':
      return 'ECDSA';
    case 'dsa':
      return 'DSA';
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    case 'x25519':
      return 'X25519';
    case 'x448':
      return 'X448';
    case 'dh':
      return 'DH';
    default:
      return key.asymmetricKeyType ?? '';
  }
}

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  prime192v1: 192,
  secp224r1: 224,
};

/** The length in bits of a key (RSA/DSA modulus, EC curve size, 256 for Ed25519/X25519, ...). */
export function keyLength(key: KeyObject): number {
  const details = key.asymmetricKeyDetails ?? {};
  if (details.modulusLength) return details.modulusLength;
  if (details.namedCurve) return CURVE_BITS[details.namedCurve] ?? Number(/(\d{3})/.exec(details.namedCurve)?.[1] ?? 0);
  switch (key.asymmetricKeyType) {
    case 'ed25519':
    case 'x25519':
      return 256;
    case 'ed448':
      return 456;
    case 'x448':
      return 448;
    default:
      return 0;
  }
}

/** The digests the reference shows: fingerprints (colon hex) and thumbprints (upper-case hex) of `bytes`. */
export function digests(bytes: Buffer): { md5: Buffer; sha1: Buffer; sha256: Buffer } {
  return {
    md5: createHash('md5').update(bytes).digest(),
    sha1: createHash('sha1').update(bytes).digest(),
    sha256: createHash('sha256').update(bytes).digest(),
  };
}
