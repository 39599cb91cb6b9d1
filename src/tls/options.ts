/**
 * The reference's SSL settings translated into Node's TLS options: protocol versions from the
 * SSLEnabledProtocols bit mask, IANA cipher suite names and SSLCipherStrength into an OpenSSL
 * cipher string, the TLS 1.2/1.3 signature algorithm and group lists into `sigalgs` and
 * `ecdhCurve`, PreferredDHGroupBits into DH parameters, ReuseSSLSession and
 * SSLEnableRenegotiation into OpenSSL options, SSLCACerts into the trusted CAs.
 */
import { X509Certificate, constants as cryptoConstants, getDiffieHellman } from 'node:crypto';
import tls, { type SecureContextOptions } from 'node:tls';
import type { Settings } from '../config.js';
import { ErrorCode, WSServerError } from '../errors.js';
import { der, derUnsigned, Tag } from './der.js';
import { CIPHER_SUITES, suiteByName } from './cipher-suites.js';
import { GROUP_CODES, groupsFor, sigalgsFor } from './tls-names.js';

/** SSLEnabledProtocols bits (the reference's table). */
export const ProtocolBits = Object.freeze({ SSL2: 0x000c, SSL3: 0x0030, TLS1: 0x00c0, TLS11: 0x0300, TLS12: 0x0c00, TLS13: 0x3000 } as const);

const VERSIONS: Array<{ bit: number; node: tls.SecureVersion; noFlag: number; name: string }> = [
  { bit: ProtocolBits.TLS1, node: 'TLSv1', noFlag: cryptoConstants.SSL_OP_NO_TLSv1, name: 'TLS 1.0' },
  { bit: ProtocolBits.TLS11, node: 'TLSv1.1', noFlag: cryptoConstants.SSL_OP_NO_TLSv1_1, name: 'TLS 1.1' },
  { bit: ProtocolBits.TLS12, node: 'TLSv1.2', noFlag: cryptoConstants.SSL_OP_NO_TLSv1_2, name: 'TLS 1.2' },
  { bit: ProtocolBits.TLS13, node: 'TLSv1.3', noFlag: cryptoConstants.SSL_OP_NO_TLSv1_3, name: 'TLS 1.3' },
];

/** OpenSSL 3.0's default group order, what the server prefers when no list is configured. */
const OPENSSL_DEFAULT_GROUPS = [0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104];

/** Node's options for one server, plus what the rest of the TLS code needs to know about them. */
export interface ServerTlsOptions {
  /** Passed to tls.createServer / createSecureContext (certificate and key added per credential). */
  readonly context: SecureContextOptions;
  /** Protocol versions served, lowest first (Node names). */
  readonly versions: tls.SecureVersion[];
  /** The server's group preference (code points), for naming the negotiated key exchange. */
  readonly groupPreference: number[];
  /** Size of the DH group used by DHE suites (bits). */
  readonly dhBits: number;
  readonly sessionReuse: boolean;
  readonly renegotiation: boolean;
  /** Lines for the Log event explaining what a setting cannot do on Node. */
  readonly notes: string[];
}

function credentialsError(detail: string, cause?: unknown): WSServerError {
  return new WSServerError(ErrorCode.CannotAcquireCredentials, detail, cause === undefined ? undefined : { cause });
}

/** The PEM DH parameters of the RFC 3526 MODP group at least `bits` large (2048 → modp14). */
export function dhParametersFor(bits: number): { pem: string; bits: number } {
  const groups: Array<[number, string]> = [
    [1024, 'modp2'],
    [1536, 'modp5'],
    [2048, 'modp14'],
    [3072, 'modp15'],
    [4096, 'modp16'],
    [6144, 'modp17'],
    [8192, 'modp18'],
  ];
  const [size, name] = groups.find(([b]) => b >= bits) ?? groups[groups.length - 1]!;
  const dh = getDiffieHellman(name);
  const body = der(Tag.Sequence, derUnsigned(dh.getPrime()), derUnsigned(dh.getGenerator()));
  const b64 = body.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return { pem: `-----BEGIN DH PARAMETERS-----\n${b64}\n-----END DH PARAMETERS-----\n`, bits: size };
}

/** Splits a cipher list on the separators the reference (`;`, `,`) and OpenSSL (`:`) use. */
function cipherTokens(list: string): string[] {
  return list.split(/[;,:\s]+/).map((s) => s.trim()).filter((s) => s !== '');
}

/** Problems with an SSLEnabledCipherSuites value, checked when it is set: unknown IANA names. */
export function checkCipherSuiteList(value: boolean | number | string): string | null {
  const unknown = cipherTokens(String(value)).filter((t) => /^(TLS|SSL)_/i.test(t) && !suiteByName(t));
  return unknown.length === 0 ? null : `unknown cipher suite${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, OpenSSL names, or *)`;
}

/** The OpenSSL cipher string for SSLEnabledCipherSuites and SSLCipherStrength. */
function cipherString(list: string, minStrength: number, notes: string[]): string {
  const available = new Set(tls.getCiphers().map((c) => c.toUpperCase()));
  let tokens: string[];
  if (list.trim() === '*' || list.trim() === '') {
    tokens = tls.DEFAULT_CIPHERS.split(':');
  } else {
    tokens = [];
    for (const t of cipherTokens(list)) {
      if (!/^(TLS|SSL)_/i.test(t)) {
        tokens.push(t); // OpenSSL syntax: a name, a class (HIGH), an exclusion (!aNULL), @SECLEVEL=n
        continue;
      }
      const suite = suiteByName(t);
      if (!suite) throw credentialsError(`SSLEnabledCipherSuites: unknown cipher suite ${t}.`);
      if (!available.has(suite.openssl.toUpperCase())) {
        notes.push(`SSLEnabledCipherSuites: ${suite.iana} is not available in Node's OpenSSL build (${process.versions.openssl}); ignored.`);
        continue;
      }
      tokens.push(suite.openssl);
    }
    if (tokens.length === 0) throw credentialsError('SSLEnabledCipherSuites names no cipher suite Node can use.');
  }
  if (minStrength > 0) {
    // TLS 1.3 suites are listed one by one: keep the strong ones. TLS 1.2 suites: exclude the weak ones.
    tokens = tokens.filter((t) => {
      const suite = /^TLS_/i.test(t) ? suiteByName(t) : undefined;
      return !suite || suite.minVersion !== 'TLSv1.3' || suite.bits >= minStrength;
    });
    for (const s of CIPHER_SUITES) if (s.minVersion !== 'TLSv1.3' && s.bits < minStrength) tokens.push(`!${s.openssl}`);
  }
  return tokens.join(':');
}

/** Trusted CAs from SSLCACerts (PEM certificates, newline-separated). */
function caList(pem: string): string[] | undefined {
  if (pem.trim() === '') return undefined;
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw credentialsError('SSLCACerts holds no PEM certificate (-----BEGIN CERTIFICATE-----).');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw credentialsError(`SSLCACerts holds a certificate that cannot be read (${(err as Error).message}).`, err);
    }
  }
  return blocks;
}

/** Builds the TLS options of a server from its settings. Throws 273 when they cannot work. */
export function serverTlsOptions(settings: Settings): ServerTlsOptions {
  const notes: string[] = [];
  const mask = Number(settings.SSLEnabledProtocols);
  const cipherList = String(settings.SSLEnabledCipherSuites);
  const lowSecurityAllowed = /@SECLEVEL=0/i.test(cipherList);
  if (mask & (ProtocolBits.SSL2 | ProtocolBits.SSL3)) notes.push('SSLEnabledProtocols: SSL 2.0 and 3.0 are not supported by OpenSSL 3 (Node); ignored.');
  let enabled = VERSIONS.filter((v) => (mask & v.bit) !== 0);
  const legacy = enabled.filter((v) => v.node === 'TLSv1' || v.node === 'TLSv1.1');
  if (legacy.length > 0 && !lowSecurityAllowed) {
    const rest = enabled.filter((v) => !legacy.includes(v));
    if (rest.length === 0) {
      throw credentialsError(
        `SSLEnabledProtocols enables only ${legacy.map((v) => v.name).join(' and ')}, which OpenSSL 3 refuses at its default security level: add @SECLEVEL=0 to SSLEnabledCipherSuites to allow them, or enable TLS 1.2 (3072).`,
      );
    }
    notes.push(`SSLEnabledProtocols: ${legacy.map((v) => v.name).join(' and ')} need @SECLEVEL=0 in SSLEnabledCipherSuites on OpenSSL 3; serving ${rest.map((v) => v.name).join(' and ')}.`);
    enabled = rest;
  }
  if (enabled.length === 0) throw credentialsError(`SSLEnabledProtocols (${mask}) enables no protocol Node supports: use TLS 1.0 (192), 1.1 (768), 1.2 (3072) or 1.3 (12288) bits.`);
  const min = enabled[0]!;
  const max = enabled[enabled.length - 1]!;
  let secureOptions = 0;
  for (const v of VERSIONS) if (VERSIONS.indexOf(v) > VERSIONS.indexOf(min) && VERSIONS.indexOf(v) < VERSIONS.indexOf(max) && !enabled.includes(v)) secureOptions |= v.noFlag;

  const useTls13 = enabled.some((v) => v.node === 'TLSv1.3');
  const useTls12 = enabled.some((v) => v.node !== 'TLSv1.3');
  const minStrength = Number(settings.SSLCipherStrength);
  const ciphers = cipherString(cipherList, minStrength, notes);
  const sigalgs = sigalgsFor(String(settings.TLS12SignatureAlgorithms), String(settings.TLS13SignatureAlgorithms), useTls12, useTls13);
  const groups = groupsFor(String(settings.TLS12SupportedGroups), String(settings.TLS13SupportedGroups), useTls12, useTls13);
  const dh = dhParametersFor(Number(settings.PreferredDHGroupBits));
  const sessionReuse = Boolean(settings.ReuseSSLSession);
  const renegotiation = Boolean(settings.SSLEnableRenegotiation);
  if (!sessionReuse) secureOptions |= cryptoConstants.SSL_OP_NO_TICKET;
  if (!renegotiation) secureOptions |= cryptoConstants.SSL_OP_NO_RENEGOTIATION;

  const context: SecureContextOptions = {
    minVersion: min.node,
    maxVersion: max.node,
    ciphers,
    honorCipherOrder: true,
    dhparam: dh.pem,
    secureOptions: secureOptions || undefined,
    ca: caList(String(settings.SSLCACerts)),
    sessionTimeout: sessionReuse ? 36000 : undefined,
  };
  if (sigalgs) context.sigalgs = sigalgs;
  if (groups) context.ecdhCurve = groups;
  // Validate the whole set once, so a bad value fails startListening with a clear message.
  try {
    tls.createSecureContext(context);
  } catch (err) {
    throw credentialsError(`The SSL settings are refused by OpenSSL (${(err as Error).message}): check SSLEnabledCipherSuites, TLS12/TLS13 signature algorithms and supported groups.`, err);
  }
  const groupPreference = groups ? groups.split(':').map((g) => GROUP_CODES[g]!).filter((c) => c !== undefined) : OPENSSL_DEFAULT_GROUPS;
  return { context, versions: enabled.map((v) => v.node), groupPreference, dhBits: dh.bits, sessionReuse, renegotiation, notes };
}
