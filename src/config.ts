/**
 * The table of config settings: every setting of the reference plus the few wsworks adds,
 * each with its type, default, per-connection form and what it means on Node.
 */
import { WSServerError, ErrorCode } from './errors.js';
import { closeCodeIsValid } from './protocol/constants.js';
import { checkCipherSuiteList } from './tls/options.js';
import { availableParallelism } from 'node:os';
import { measuredAutoThresholds } from './engine/auto-thresholds.js';

/** The `auto` engine's measured thresholds for this process (they depend on its CPUs). */
const AUTO = measuredAutoThresholds(availableParallelism());

/** How a setting's value is parsed and printed. */
export type SettingKind = 'bool' | 'int' | 'string';

/** One row of the settings table. */
export interface SettingSpec {
  /** Canonical name, as the reference spells it. */
  readonly name: string;
  readonly kind: SettingKind;
  readonly default: boolean | number | string;
  /** Also settable per connection as `Name[connectionId]`. */
  readonly perConnection?: boolean;
  /** Only the per-connection form exists (e.g. SSLNegotiatedCipher[connId]). */
  readonly connectionOnly?: boolean;
  /** Cannot be set by the application. */
  readonly readOnly?: boolean;
  /** Inclusive bounds for int settings. */
  readonly min?: number;
  readonly max?: number;
  /** The allowed values of an int setting, when they are a short list. */
  readonly oneOf?: readonly number[];
  /** The reference's error code raised when set while listening. */
  readonly lockedWhileListening?: number;
  /** Further validation of a parsed value: returns why it is refused, or null when it is fine. */
  readonly check?: (value: boolean | number | string) => string | null;
  /** What the setting does in wsworks, and where Node differs from the reference. */
  readonly doc: string;
}

const TLS12_SIGNATURE_ALGORITHMS =
  'sha512-ecdsa,sha512-rsa,sha512-dsa,sha384-ecdsa,sha384-rsa,sha384-dsa,sha256-ecdsa,sha256-rsa,sha256-dsa,sha224-ecdsa,sha224-rsa,sha224-dsa,sha1-ecdsa,sha1-rsa,sha1-dsa';
const TLS13_SIGNATURE_ALGORITHMS =
  'rsa_pss_sha256,rsa_pss_sha384,rsa_pss_sha512,rsa_pkcs1_sha256,rsa_pkcs1_sha384,rsa_pkcs1_sha512,ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384,ecdsa_secp521r1_sha512,ed25519,ed448';
const TLS13_SUPPORTED_GROUPS =
  'ecdhe_x25519,ecdhe_x448,ecdhe_secp256r1,ecdhe_secp384r1,ecdhe_secp521r1,ffdhe_2048,ffdhe_3072,ffdhe_4096,ffdhe_6144,ffdhe_8192';

const WSS = 'wss:// (UseSSL):';

/** A check that every comma-separated item of a list is one of `allowed` (an empty list is fine). */
function listOf(allowed: readonly string[]): (value: boolean | number | string) => string | null {
  return (value) => {
    const unknown = String(value).split(',').map((s) => s.trim()).filter((s) => s !== '' && !allowed.includes(s));
    return unknown.length === 0 ? null : `unknown value${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`;
  };
}

const TLS12_SIGNATURE_NAMES = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'].flatMap((h) => ['ecdsa', 'rsa', 'dsa'].map((s) => `${h}-${s}`));
const ECC_GROUPS = ['ecdhe_secp256r1', 'ecdhe_secp384r1', 'ecdhe_secp521r1'];
const TLS13_GROUPS = ['ecdhe_x25519', 'ecdhe_x448', ...ECC_GROUPS, 'ffdhe_2048', 'ffdhe_3072', 'ffdhe_4096', 'ffdhe_6144', 'ffdhe_8192'];
const TLS13_SIGNATURE_NAMES = [
  'ed25519', 'ed448', 'ecdsa_secp256r1_sha256', 'ecdsa_secp384r1_sha384', 'ecdsa_secp521r1_sha512', 'rsa_pkcs1_sha256',
  'rsa_pkcs1_sha384', 'rsa_pkcs1_sha512', 'rsa_pss_sha256', 'rsa_pss_sha384', 'rsa_pss_sha512',
];

/** AllowedClients/BlockedClients: host names or IP addresses with `*` wildcards (no CIDR, no other separators). */
function clientList(value: boolean | number | string): string | null {
  const bad = String(value).split(',').map((s) => s.trim()).filter((s) => s !== '' && !/^[A-Za-z0-9.:*_-]+$/.test(s));
  return bad.length === 0 ? null : `"${bad.join('", "')}" is not a host name or IP address (use * as a wildcard, e.g. 10.*; CIDR is not supported)`;
}

/** A close reason must fit a close frame: 123 bytes of UTF-8. */
function closeReason(value: boolean | number | string): string | null {
  const bytes = Buffer.byteLength(String(value), 'utf8');
  return bytes <= 123 ? null : `a close reason is at most 123 bytes of UTF-8 (got ${bytes})`;
}

/** Every setting `config()` accepts. */
export const SETTINGS: readonly SettingSpec[] = [
  // WebSocketServer settings
  { name: 'BufferMessage', kind: 'bool', default: false, doc: 'True: DataIn fires once per whole message. False: once per received frame, with EOM on the last.' },
  { name: 'DisconnectStatusCode', kind: 'int', default: 1000, min: 1000, max: 4999, check: (v) => (closeCodeIsValid(Number(v)) ? null : 'a close code sent on the wire is 1000-1003, 1007-1011 or 3000-4999'), doc: 'Close code sent by Disconnect().' },
  { name: 'DisconnectStatusDescription', kind: 'string', default: '', check: closeReason, doc: 'Close reason sent by Disconnect(); empty uses the standard description of DisconnectStatusCode.' },
  { name: 'EnablePermessageDeflate', kind: 'bool', default: true, doc: 'Accept permessage-deflate (RFC 7692) when a client offers it.' },
  { name: 'MaxFrameSize', kind: 'int', default: 131072, min: 1, max: 0x7fffffff, doc: 'Outgoing messages longer than this are sent as several fragments of at most this size.' },
  { name: 'MaxLineLength', kind: 'int', default: 2048, min: 1, max: 0x7fffffff, perConnection: true, doc: 'In line mode, DataIn fires with EOL=False when a line reaches this length. Server-wide value is the default for new connections.' },
  { name: 'MessageLength', kind: 'int', default: 0, min: 0, max: Number.MAX_SAFE_INTEGER, perConnection: true, doc: 'Async sending: the next MessageLength bytes sent form one message; only its last frame has FIN. 0: every send is a whole message.' },
  { name: 'WaitForCloseResponse', kind: 'bool', default: true, doc: "True: after sending a close frame, wait (up to CloseTimeout) for the client's close before dropping TCP. False: drop TCP right after sending it." },
  // TCPServer settings
  { name: 'AllowedClients', kind: 'string', default: '*', check: clientList, doc: 'Comma-separated host names or IP addresses (wildcard *) that may connect; others get ConnectionRequest with accept=false.' },
  { name: 'BindExclusively', kind: 'bool', default: true, doc: 'True: listen with exclusive: true (the port is not shared with cluster workers). Node/libuv always sets SO_REUSEADDR; a port in use fails with 10048 either way.' },
  { name: 'BlockedClients', kind: 'string', default: '', check: clientList, doc: 'Comma-separated host names or IP addresses (wildcard *) that may not connect.' },
  { name: 'CloseStreamAfterTransfer', kind: 'bool', default: true, doc: 'SetUploadStream/UploadStream: destroy the stream after it was sent.' },
  { name: 'DefaultConnectionTimeout', kind: 'int', default: 0, min: 0, max: 86400, doc: `${WSS} seconds of inactivity allowed while waiting for the ClientHello; the rest of the TLS handshake must then finish within the same time (Node does not show handshake progress). 0: only HandshakeTimeout bounds the handshake.` },
  { name: 'InBufferSize', kind: 'int', default: 65536, min: 1024, max: 0x7fffffff, doc: 'Bytes a connection may have received but not yet decoded (while a decode job is in flight or AcceptData is False) before reading pauses. Node exposes no SO_RCVBUF for TCP.' },
  { name: 'KeepAliveInterval', kind: 'int', default: 0, min: 0, max: 0x7fffffff, doc: 'Accepted; Node 20 exposes no TCP_KEEPINTVL, so the system interval applies.' },
  { name: 'KeepAliveTime', kind: 'int', default: 0, min: 0, max: 0x7fffffff, doc: 'Milliseconds of inactivity before TCP keep-alive probes (socket.setKeepAlive). 0: keep-alive off.' },
  { name: 'MaxConnections', kind: 'int', default: 1000, min: 1, max: 100000, lockedWhileListening: ErrorCode.MaxConnectionsLocked, doc: 'Simultaneous connections; one more is answered with HTTP 503 and closed.' },
  { name: 'OutBufferSize', kind: 'int', default: 1048576, min: 1024, max: 0x7fffffff, doc: 'Bytes a connection may have queued for sending; an async send beyond it fails with 10035 and ReadyToSend fires once it drains.' },
  { name: 'PreferredDHGroupBits', kind: 'int', default: 2048, min: 1024, max: 8192, doc: `${WSS} size of the Diffie-Hellman group for DHE cipher suites (TLS 1.2 and below): the RFC 3526 MODP group of at least this size (2048: modp14) is OpenSSL's dhparam. TLS 1.3 uses the ffdhe groups of TLS13SupportedGroups instead.` },
  { name: 'TcpNoDelay', kind: 'bool', default: false, doc: "True disables Nagle's algorithm on each connection (socket.setNoDelay)." },
  { name: 'UseIPv6', kind: 'int', default: 0, oneOf: [0, 1, 2], doc: '0: IPv4 only, 1: IPv6 only, 2: both.' },
  // SSL settings (wss://)
  { name: 'LogSSLPackets', kind: 'bool', default: false, doc: `${WSS} SSLStatus (and Log at level 3) reports every TLS record sent and received: type, version, length, and the handshake messages of cleartext records. The TLS bytes then pass through JavaScript, so use it for debugging; it also makes SSLNegotiatedKeyExchange exact (read from the ServerHello).` },
  { name: 'ReuseSSLSession', kind: 'bool', default: false, doc: `${WSS} True lets returning clients resume their session without a full handshake (TLS session tickets, and a 10-hour session-ID cache for TLS 1.2). False: every connection does a full handshake (SSL_OP_NO_TICKET).` },
  { name: 'SSLCACerts', kind: 'string', default: '', doc: `${WSS} PEM certificates (newline-separated) trusted for client certificates (SSLAuthenticateClients) and named to clients as acceptable CAs. Empty: Node's bundled root CAs. Checked at StartListening.` },
  { name: 'SSLCheckCRL', kind: 'int', default: 0, oneOf: [0, 1, 2], doc: `${WSS} client certificates: 1 fetches the CRL the certificate names (HTTP/HTTPS, signature checked against the issuing CA) and goes on when there is none or it cannot be fetched; 2 refuses then. A revoked certificate makes SSLClientAuthentication recommend Accept=False.` },
  { name: 'SSLCheckOCSP', kind: 'int', default: 0, oneOf: [0, 1, 2], doc: `${WSS} client certificates: 1 asks the OCSP responder the certificate names (response signed by the issuing CA or its OCSP responder) and goes on when there is none or it cannot be reached; 2 refuses then. A revoked certificate makes SSLClientAuthentication recommend Accept=False.` },
  { name: 'SSLCipherStrength', kind: 'int', default: 0, min: 0, max: 4096, doc: `${WSS} minimum bulk cipher strength in bits: weaker suites are removed from the cipher list (256 leaves the AES-256 and ChaCha20 suites). 0: no minimum.` },
  { name: 'SSLContextProtocol', kind: 'string', default: 'TLS', doc: 'Java-only (SSLContext.getInstance); accepted and ignored on Node.' },
  { name: 'SSLEnabledCipherSuites', kind: 'string', default: '*', check: checkCipherSuiteList, doc: `${WSS} the cipher suites: IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; the reference's SSL_ names too), OpenSSL names or cipher-string terms, separated by ; , or :. *: Node's default list. TLS 1.3 is used only if TLS 1.3 suites are listed; @SECLEVEL=0 in the list allows TLS 1.0/1.1.` },
  { name: 'SSLEnabledProtocols', kind: 'int', default: 4032, min: 0, max: 0xffff, doc: `${WSS} bit mask of protocols (TLS1.3 12288, TLS1.2 3072, TLS1.1 768, TLS1 192) mapped to OpenSSL's minimum and maximum version, gaps excluded. As in the reference the default 4032 (TLS 1.0-1.2) leaves TLS 1.3 off. OpenSSL 3 serves TLS 1.0/1.1 only with @SECLEVEL=0 in SSLEnabledCipherSuites; SSL2/SSL3 bits are ignored (not in OpenSSL 3).` },
  { name: 'SSLEnableRenegotiation', kind: 'bool', default: true, doc: `${WSS} True: a client may renegotiate (secure renegotiation, RFC 5746: OpenSSL always sends renegotiation_info; Node allows 3 renegotiations per 10 minutes). False: renegotiation is off (SSL_OP_NO_RENEGOTIATION, tlsSocket.disableRenegotiation()): a client that tries is disconnected.` },
  { name: 'SSLIncludeCertChain', kind: 'bool', default: false, doc: 'Client-side setting of the reference (SSLServerAuthentication); accepted, no effect on a server.' },
  { name: 'SSLKeyLogFile', kind: 'string', default: '', doc: `${WSS} appends every connection's TLS secrets to this file in NSS key log format (CLIENT_RANDOM, CLIENT_TRAFFIC_SECRET_0, ...), which Wireshark reads. Debugging only: the file decrypts the traffic.` },
  { name: 'SSLNegotiatedCipher', kind: 'string', default: '', connectionOnly: true, readOnly: true, doc: "Per connection, wss:// (read-only): the bulk cipher, AES, CHACHA20, CAMELLIA, ARIA, ... ('' on ws://)." },
  { name: 'SSLNegotiatedCipherStrength', kind: 'int', default: 0, connectionOnly: true, readOnly: true, doc: 'Per connection, wss:// (read-only): the bulk cipher strength in bits.' },
  { name: 'SSLNegotiatedCipherSuite', kind: 'string', default: '', connectionOnly: true, readOnly: true, doc: 'Per connection, wss:// (read-only): the cipher suite, IANA name (TLS_AES_256_GCM_SHA384).' },
  { name: 'SSLNegotiatedKeyExchange', kind: 'string', default: '', connectionOnly: true, readOnly: true, doc: 'Per connection, wss:// (read-only): ECDHE, DHE or RSA (a hybrid group by its name, e.g. X25519MLKEM768).' },
  { name: 'SSLNegotiatedKeyExchangeStrength', kind: 'int', default: 0, connectionOnly: true, readOnly: true, doc: "Per connection, wss:// (read-only): the key exchange size in bits: the group (X25519 256, P-384 384, ffdhe3072 3072) or the RSA key. Node does not tell a server its group: wsworks applies OpenSSL's selection rule to the ClientHello, or reads the ServerHello with LogSSLPackets." },
  { name: 'SSLNegotiatedVersion', kind: 'string', default: '', connectionOnly: true, readOnly: true, doc: 'Per connection, wss:// (read-only): TLS1.2 or TLS1.3 (TLS1, TLS1.1).' },
  { name: 'SSLServerCACerts', kind: 'string', default: '', doc: 'Client-side setting of the reference; accepted, no effect on a server.' },
  { name: 'SSLTrustManagerFactoryAlgorithm', kind: 'string', default: '', doc: 'Java-only (TrustManagerFactory); accepted and ignored on Node.' },
  { name: 'TLS12SignatureAlgorithms', kind: 'string', default: TLS12_SIGNATURE_ALGORITHMS, check: listOf(TLS12_SIGNATURE_NAMES), doc: `${WSS} signature algorithms allowed in TLS 1.2 handshakes (the server's signature, client certificate verification), as OpenSSL sigalgs. OpenSSL has one list for every version: with TLS 1.2 and 1.3 both enabled, the union of both settings applies.` },
  { name: 'TLS12SupportedGroups', kind: 'string', default: 'ecdhe_secp256r1,ecdhe_secp384r1,ecdhe_secp521r1', check: listOf(ECC_GROUPS), doc: `${WSS} ECDHE groups for TLS 1.2, as OpenSSL groups (ecdhCurve); with TLS 1.3 also enabled, the union with TLS13SupportedGroups (TLS 1.3's first).` },
  { name: 'TLS13KeyShareGroups', kind: 'string', default: 'ecdhe_x25519,ecdhe_secp256r1,ecdhe_secp384r1,ffdhe_2048,ffdhe_3072', check: listOf(TLS13_GROUPS), doc: 'No effect on a server: key shares are pregenerated by clients; the server answers with a share of the group it picks from TLS13SupportedGroups.' },
  { name: 'TLS13SignatureAlgorithms', kind: 'string', default: TLS13_SIGNATURE_ALGORITHMS, check: listOf(TLS13_SIGNATURE_NAMES), doc: `${WSS} signature algorithms allowed in TLS 1.3 (rsa_pss_sha256 allows both RSA-PSS forms), as OpenSSL sigalgs (see TLS12SignatureAlgorithms).` },
  { name: 'TLS13SupportedGroups', kind: 'string', default: TLS13_SUPPORTED_GROUPS, check: listOf(TLS13_GROUPS), doc: `${WSS} key exchange groups for TLS 1.3 in preference order, as OpenSSL groups (ecdhCurve).` },
  // Base settings
  { name: 'BuildInfo', kind: 'string', default: '', readOnly: true, doc: 'wsworks version, Node version and engine.' },
  { name: 'GUIAvailable', kind: 'bool', default: false, doc: 'No meaning on Node (the event loop always runs); accepted and ignored.' },
  { name: 'LicenseInfo', kind: 'string', default: '', readOnly: true, doc: 'wsworks is MIT licensed; no license key is needed.' },
  { name: 'MaskSensitive', kind: 'bool', default: true, doc: 'Mask Authorization/Cookie header values in Log messages.' },
  { name: 'UseDaemonThreads', kind: 'bool', default: true, doc: 'True: the worker threads of the pool and auto engines do not keep the process alive. False: they do until Shutdown. Takes effect when the engine starts (StartListening).' },
  { name: 'UseInternalSecurityAPI', kind: 'bool', default: false, doc: 'No meaning on Node (TLS is always OpenSSL); accepted and ignored.' },
  // wsworks settings beyond the reference
  { name: 'LogLevel', kind: 'int', default: 1, oneOf: [0, 1, 2, 3], doc: 'Log event verbosity: 0 none, 1 info, 2 verbose, 3 debug.' },
  { name: 'MaxMessageSize', kind: 'int', default: 104857600, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'Largest message (after inflation) a client may send; more closes with 1009. 0: no limit.' },
  { name: 'HandshakeTimeout', kind: 'int', default: 30, min: 0, max: 86400, doc: 'Seconds a new TCP connection has to complete the WebSocket opening handshake. 0: no limit.' },
  { name: 'CloseTimeout', kind: 'int', default: 5, min: 0, max: 86400, doc: "Seconds to wait for the client's close frame after sending one (WaitForCloseResponse)." },
  { name: 'PingInterval', kind: 'int', default: 0, min: 0, max: 86400, doc: 'Send a ping after this many seconds without traffic from the client. 0: off.' },
  { name: 'IdleTimeout', kind: 'int', default: 0, min: 0, max: 86400, doc: 'Close (1001) a connection after this many seconds without traffic from the client (pongs count). 0: off.' },
  { name: 'MaxHandshakeSize', kind: 'int', default: 16384, min: 1024, max: 1048576, lockedWhileListening: ErrorCode.InvalidArgument, doc: 'Largest opening-handshake request (bytes of headers); larger gets HTTP 431.' },
  { name: 'Engine', kind: 'string', default: 'auto', doc: 'Codec engine: auto (the WASM kernels inline, the worker pool for jobs it does better: the default), wasm (WASM kernels inline), pool (WASM kernels in worker threads), js (pure TypeScript and pako: the baseline). Set before StartListening.' },
  // Worker pool and compression (beyond the reference)
  { name: 'WorkerThreads', kind: 'int', default: Math.max(1, availableParallelism()), min: 1, max: 256, doc: 'Worker threads of the pool and auto engines; the default is os.availableParallelism() (the CPUs this process may use). Takes effect when the engine starts (StartListening).' },
  { name: 'AutoDeflateThreshold', kind: 'int', default: AUTO.deflate, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'Engine auto: an outgoing compressed message at least this long (bytes, uncompressed) is compressed in the worker pool, shorter ones inline. Measured default: 4096 when the process may use 2 or more CPUs, 1048576 with one (bench/results/pool-crossover.md).' },
  { name: 'AutoInflateThreshold', kind: 'int', default: AUTO.inflate, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'Engine auto: received data whose frames announce at least this many compressed bytes is decoded (inflated) in the worker pool. Measured default: 2048 with 2 or more CPUs, 1048576 with one (bench/results/pool-crossover.md).' },
  { name: 'AutoDecodeThreshold', kind: 'int', default: AUTO.decode, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'Engine auto: received data whose frames announce at least this many bytes in all is decoded in the worker pool. Measured default: never (9007199254740991): the pool costs more than decoding uncompressed data inline, even on the main thread alone.' },
  { name: 'CompressionLevel', kind: 'int', default: 6, min: 0, max: 9, doc: 'permessage-deflate: zlib level for outgoing messages (0 stores, 1 fastest, 9 smallest). Applies to new connections.' },
  { name: 'CompressionMemLevel', kind: 'int', default: 8, min: 1, max: 9, doc: 'permessage-deflate: zlib memory level for outgoing messages (hash table and buffer sizes; 8 as in zlib). Lower saves memory per connection with context takeover. Applies to new connections.' },
  { name: 'CompressionThreshold', kind: 'int', default: 0, min: 0, max: 0x7fffffff, doc: 'permessage-deflate: whole outgoing messages shorter than this (bytes) are sent uncompressed. 0 compresses every message. Applies to new connections.' },
  { name: 'ServerMaxWindowBits', kind: 'int', default: 15, min: 9, max: 15, doc: 'permessage-deflate: the largest window (bits) the server compresses with; below 15 it is announced as server_max_window_bits. Applies to new connections.' },
  { name: 'ClientMaxWindowBits', kind: 'int', default: 15, min: 9, max: 15, doc: 'permessage-deflate: below 15, ask clients that offer client_max_window_bits to compress with at most this window. Applies to new connections.' },
  { name: 'ServerNoContextTakeover', kind: 'bool', default: false, doc: 'permessage-deflate: the server resets its compression context after every message (server_no_context_takeover), saving its deflate context per connection. Applies to new connections.' },
  { name: 'ClientNoContextTakeover', kind: 'bool', default: false, doc: 'permessage-deflate: ask clients to reset their compression context after every message (client_no_context_takeover), saving the inflate window per connection. Applies to new connections.' },
];

const BY_LOWER_NAME = new Map(SETTINGS.map((s) => [s.name.toLowerCase(), s]));

/** The spec of a setting by name (case-insensitive), or undefined. */
export function findSetting(name: string): SettingSpec | undefined {
  return BY_LOWER_NAME.get(name.toLowerCase());
}

/** A parsed `config()` argument: `Name`, `Name=Value`, `Name[connId]` or `Name[connId]=Value`. */
export interface ConfigRequest {
  readonly spec: SettingSpec;
  readonly connectionId: string | null;
  /** null when the call reads the setting. */
  readonly value: string | null;
}

/** Parses the argument of `config()`; unknown names throw 10022 with a hint. */
export function parseConfigRequest(configurationString: string): ConfigRequest {
  const eq = configurationString.indexOf('=');
  const left = (eq < 0 ? configurationString : configurationString.slice(0, eq)).trim();
  const value = eq < 0 ? null : configurationString.slice(eq + 1);
  const m = /^([A-Za-z0-9]+)(?:\[([^\]]*)\])?$/.exec(left);
  if (!m) {
    throw new WSServerError(ErrorCode.InvalidArgument, `Malformed config string "${configurationString}": use "Name", "Name=Value" or "Name[connectionId]=Value".`);
  }
  const spec = findSetting(m[1]!);
  if (!spec) {
    throw new WSServerError(ErrorCode.InvalidArgument, `Unknown config setting "${m[1]}". The README lists every supported setting.`);
  }
  const connectionId = m[2] === undefined ? null : m[2].trim();
  if (connectionId !== null && !spec.perConnection && !spec.connectionOnly) {
    throw new WSServerError(ErrorCode.InvalidArgument, `Config setting ${spec.name} has no per-connection form; use "${spec.name}=Value".`);
  }
  if (connectionId === null && spec.connectionOnly) {
    throw new WSServerError(ErrorCode.InvalidArgument, `Config setting ${spec.name} is per connection: use "${spec.name}[connectionId]".`);
  }
  if (value !== null && spec.readOnly) {
    throw new WSServerError(ErrorCode.InvalidArgument, `Config setting ${spec.name} is read-only.`);
  }
  return { spec, connectionId, value };
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Parses and range-checks a value for a setting; a bad value throws 10022 saying what is allowed. */
export function parseSettingValue(spec: SettingSpec, raw: string): boolean | number | string {
  const text = raw.trim();
  if (spec.kind === 'bool') {
    const lower = text.toLowerCase();
    if (TRUE_WORDS.has(lower)) return true;
    if (FALSE_WORDS.has(lower)) return false;
    throw new WSServerError(ErrorCode.InvalidArgument, `${spec.name} is a boolean: use True, False, 1, 0, Yes or No (got "${raw}").`);
  }
  if (spec.kind === 'int') {
    if (!/^-?\d+$/.test(text)) {
      throw new WSServerError(ErrorCode.InvalidArgument, `${spec.name} is an integer (got "${raw}").`);
    }
    const n = Number(text);
    if (spec.oneOf && !spec.oneOf.includes(n)) {
      throw new WSServerError(ErrorCode.InvalidArgument, `${spec.name} must be one of ${spec.oneOf.join(', ')} (got ${n}).`);
    }
    if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max) || !Number.isSafeInteger(n)) {
      throw new WSServerError(ErrorCode.InvalidArgument, `${spec.name} must be between ${spec.min ?? '-∞'} and ${spec.max ?? '∞'} (got ${text}).`);
    }
    return checked(spec, n);
  }
  return checked(spec, raw);
}

function checked<T extends boolean | number | string>(spec: SettingSpec, value: T): T {
  const problem = spec.check?.(value);
  if (problem) throw new WSServerError(ErrorCode.InvalidArgument, `${spec.name}: ${problem}.`);
  return value;
}

/** Prints a setting's value the way `config("Name")` returns it. */
export function formatSettingValue(value: boolean | number | string): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/** Typed view of the server-wide settings, keyed by canonical name. */
export interface Settings {
  BufferMessage: boolean;
  DisconnectStatusCode: number;
  DisconnectStatusDescription: string;
  EnablePermessageDeflate: boolean;
  MaxFrameSize: number;
  MaxLineLength: number;
  MessageLength: number;
  WaitForCloseResponse: boolean;
  AllowedClients: string;
  BindExclusively: boolean;
  BlockedClients: string;
  CloseStreamAfterTransfer: boolean;
  DefaultConnectionTimeout: number;
  InBufferSize: number;
  KeepAliveInterval: number;
  KeepAliveTime: number;
  MaxConnections: number;
  OutBufferSize: number;
  TcpNoDelay: boolean;
  UseIPv6: number;
  MaskSensitive: boolean;
  LogLevel: number;
  MaxMessageSize: number;
  HandshakeTimeout: number;
  CloseTimeout: number;
  PingInterval: number;
  IdleTimeout: number;
  MaxHandshakeSize: number;
  Engine: string;
  UseDaemonThreads: boolean;
  WorkerThreads: number;
  AutoDeflateThreshold: number;
  AutoInflateThreshold: number;
  AutoDecodeThreshold: number;
  CompressionLevel: number;
  CompressionMemLevel: number;
  CompressionThreshold: number;
  ServerMaxWindowBits: number;
  ClientMaxWindowBits: number;
  ServerNoContextTakeover: boolean;
  ClientNoContextTakeover: boolean;
  [name: string]: boolean | number | string;
}

/** Fresh server-wide settings holding every default. */
export function defaultSettings(): Settings {
  const values: Record<string, boolean | number | string> = {};
  for (const spec of SETTINGS) if (!spec.connectionOnly) values[spec.name] = spec.default;
  return values as Settings;
}
