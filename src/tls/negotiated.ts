/**
 * The per-connection, read-only SSLNegotiated* settings: cipher, its strength, the suite, the
 * key exchange and its strength, the protocol version. Node tells a server the suite and the
 * version; it does not tell which (EC)DHE group was used, so wsworks reads it from the
 * ServerHello when it sees the handshake records (LogSSLPackets) and otherwise derives it from
 * the ClientHello and the server's group list with OpenSSL 3.0's selection rule.
 */
import type { TLSSocket } from 'node:tls';
import { cipherAlgorithm, suiteByName } from './cipher-suites.js';
import type { ClientHello } from './client-hello.js';
import { groupInfo, protocolName } from './tls-names.js';

export interface NegotiatedValues {
  readonly SSLNegotiatedCipher: string;
  readonly SSLNegotiatedCipherStrength: number;
  readonly SSLNegotiatedCipherSuite: string;
  readonly SSLNegotiatedKeyExchange: string;
  readonly SSLNegotiatedKeyExchangeStrength: number;
  readonly SSLNegotiatedVersion: string;
  /** The (EC)DHE group's name, for SSLStatus ('' when none). */
  readonly group: string;
}

const BY_SOCKET = new WeakMap<object, NegotiatedValues>();

/** @internal Stores what a connection negotiated (at the end of its TLS handshake). */
export function rememberNegotiated(socket: object, values: NegotiatedValues): void {
  BY_SOCKET.set(socket, values);
}

/** The value of an SSLNegotiated* setting for a connection's socket, or undefined for a plain connection. */
export function negotiatedSetting(name: string, socket: object): string | undefined {
  const values = BY_SOCKET.get(socket);
  if (!values) return undefined;
  const value = values[name as keyof NegotiatedValues];
  return value === undefined ? undefined : String(value);
}

/**
 * The group the server picked, as OpenSSL 3.0 does: TLS 1.3 takes the client's first key share
 * in the server's list (else the server's first group the client supports, after a
 * HelloRetryRequest); TLS 1.2 ECDHE takes the server's first group the client supports.
 */
export function estimateGroup(hello: ClientHello, serverGroups: readonly number[], tls13: boolean): number | null {
  if (tls13) {
    const share = hello.keyShareGroups.find((g) => serverGroups.includes(g));
    if (share !== undefined) return share;
  }
  const clientGroups = hello.supportedGroups.length > 0 ? hello.supportedGroups : [0x0017, 0x0018];
  return serverGroups.find((g) => clientGroups.includes(g) && (tls13 || groupInfo(g)?.kind === 'ECDHE')) ?? null;
}

/** What a finished handshake negotiated. `group`: the (EC)DHE group when known exactly. */
export function describeNegotiated(
  socket: TLSSocket,
  hello: ClientHello,
  context: { groupPreference: readonly number[]; dhBits: number; serverKeyBits: number },
  observedGroup: number | null,
): NegotiatedValues {
  const cipher = socket.getCipher();
  const version = socket.getProtocol();
  const suite = suiteByName(cipher.standardName ?? cipher.name) ?? suiteByName(cipher.name);
  const tls13 = version === 'TLSv1.3';
  let keyExchange = '';
  let keyExchangeStrength = 0;
  let group = '';
  const kx = suite?.kx ?? '';
  if (tls13 || kx === 'ECDH' || kx === 'ECDHEPSK') {
    const code = observedGroup ?? estimateGroup(hello, context.groupPreference, tls13);
    const info = code === null ? undefined : groupInfo(code);
    keyExchange = info?.kind === 'DHE' ? 'DHE' : info?.kind === 'KEM' ? info.name : 'ECDHE';
    keyExchangeStrength = info?.bits ?? 0;
    group = info?.name ?? '';
  } else if (kx === 'DH' || kx === 'DHEPSK') {
    keyExchange = 'DHE';
    keyExchangeStrength = context.dhBits;
  } else if (kx === 'RSA' || kx === 'RSAPSK') {
    keyExchange = 'RSA';
    keyExchangeStrength = context.serverKeyBits;
  } else {
    keyExchange = kx;
  }
  return {
    SSLNegotiatedCipher: suite ? cipherAlgorithm(suite) : cipher.name,
    SSLNegotiatedCipherStrength: suite?.bits ?? 0,
    SSLNegotiatedCipherSuite: cipher.standardName ?? suite?.iana ?? cipher.name,
    SSLNegotiatedKeyExchange: keyExchange,
    SSLNegotiatedKeyExchangeStrength: keyExchangeStrength,
    SSLNegotiatedVersion: protocolName(version),
    group,
  };
}
