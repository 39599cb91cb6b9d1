/**
 * The WebSocket opening handshake, server side (RFC 6455 section 4.2), without I/O.
 *
 * Node's HTTP parser has already read and bounded the request (the server hands us what its
 * `'upgrade'` event received). This module decides whether the request is a valid WebSocket
 * upgrade and builds the exact bytes of the answer: a `101 Switching Protocols` or a complete
 * error response.
 */

import { createHash } from 'node:crypto';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { ErrorCode, WSServerError } from './errors.js';
import { WEBSOCKET_GUID } from './protocol/constants.js';
import { ExtensionHeaderError, parseExtensionHeader, type ExtensionOffer } from './protocol/extension-header.js';
import { headerListHasToken, isFieldValue, isToken, splitHeaderList } from './protocol/http-syntax.js';

/** What the handshake reads from a request; an `http.IncomingMessage` fits. */
export interface UpgradeRequestLike {
  readonly method?: string | undefined;
  /** E.g. `"1.1"`. */
  readonly httpVersion: string;
  readonly url?: string | undefined;
  /** Header values by lower-case name (Node joins repeated headers with `", "`). */
  readonly headers: IncomingHttpHeaders;
  /** Names and values alternately, as received; used for `requestHeaders`. */
  readonly rawHeaders?: readonly string[] | undefined;
}

/** A valid WebSocket upgrade request. */
export interface HandshakeRequest {
  readonly ok: true;
  /** `Sec-WebSocket-Key` as sent. */
  readonly key: string;
  /** The `Sec-WebSocket-Accept` value that answers `key`. */
  readonly accept: string;
  /** The subprotocols the client offered, in its order (empty when none). */
  readonly subprotocols: readonly string[];
  /** `Sec-WebSocket-Extensions` as received (`""` when absent): the reference's `Extensions`. */
  readonly extensionsHeader: string;
  /** The extension offers parsed from it, in order. */
  readonly extensionOffers: readonly ExtensionOffer[];
  /** `Origin`, else the legacy `Sec-WebSocket-Origin`, else `""`. */
  readonly origin: string;
  /** `Host`. */
  readonly host: string;
  /** The request target, e.g. `/chat?room=1`. */
  readonly requestUri: string;
  /** Every request header as a `Name: value` line in its original case, joined by CRLF. */
  readonly requestHeaders: string;
}

/** A request the server must refuse, and how. */
export interface HandshakeRejection {
  readonly ok: false;
  /** 400, 405 or 426. */
  readonly status: number;
  /** A short reason, sent as the response body. */
  readonly reason: string;
  /** Extra header lines for the response (CRLF-separated), `""` when none. */
  readonly headers: string;
}

/** The WebSocket version this server speaks (RFC 6455). */
export const WEBSOCKET_VERSION = '13';

/** A Sec-WebSocket-Key is 16 bytes in base64: 22 characters and `==`. */
const KEY_SHAPE = /^[A-Za-z0-9+/]{22}==$/;
const ACCEPT_SHAPE = /^[A-Za-z0-9+/]{27}=$/;
const HTTP_VERSION = /^(\d+)\.(\d+)$/;

function reject(status: number, reason: string, headers = ''): HandshakeRejection {
  return { ok: false, status, reason, headers };
}

/** A header's value as one string (repeated headers joined by `", "`), or undefined. */
function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The request headers as `Name: value` lines, original case from rawHeaders when available. */
function formatRequestHeaders(req: UpgradeRequestLike): string {
  const lines: string[] = [];
  const raw = req.rawHeaders;
  if (raw) {
    for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  } else {
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
  }
  return lines.join('\r\n');
}

/** `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (RFC 6455 4.2.2). */
export function computeAcceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID, 'latin1').digest('base64');
}

/**
 * Checks an upgrade request against RFC 6455 4.2.1 and parses its WebSocket headers.
 *
 * Refusals: a method other than GET → 405 (with `Allow: GET`); a missing or unsupported
 * `Sec-WebSocket-Version` → 426 (with `Sec-WebSocket-Version: 13`); anything else malformed
 * (HTTP before 1.1, no Host, Upgrade without `websocket`, Connection without `upgrade`, a
 * key that is not 16 bytes of base64, a bad subprotocol list, a malformed extensions
 * header) → 400. Extension offers are only parsed here; declining them is negotiation's job.
 */
export function validateUpgradeRequest(req: UpgradeRequestLike): HandshakeRequest | HandshakeRejection {
  if (req.method !== 'GET') return reject(405, 'The WebSocket handshake must use GET', 'Allow: GET');

  const version = HTTP_VERSION.exec(req.httpVersion);
  const major = version ? Number(version[1]) : 0;
  const minor = version ? Number(version[2]) : 0;
  if (major < 1 || (major === 1 && minor < 1)) return reject(400, 'HTTP/1.1 or later is required');

  const host = headerValue(req.headers, 'host');
  if (!host) return reject(400, 'Missing Host header');

  const upgrade = headerValue(req.headers, 'upgrade');
  if (upgrade === undefined || !headerListHasToken(upgrade, 'websocket')) {
    return reject(400, 'The Upgrade header must contain "websocket"');
  }
  const connection = headerValue(req.headers, 'connection');
  if (connection === undefined || !headerListHasToken(connection, 'upgrade')) {
    return reject(400, 'The Connection header must contain "Upgrade"');
  }

  const wsVersion = headerValue(req.headers, 'sec-websocket-version');
  if (wsVersion !== WEBSOCKET_VERSION) {
    return reject(
      426,
      wsVersion === undefined ? 'Missing Sec-WebSocket-Version header' : 'Unsupported WebSocket version',
      `Upgrade: websocket\r\nSec-WebSocket-Version: ${WEBSOCKET_VERSION}`,
    );
  }

  const key = headerValue(req.headers, 'sec-websocket-key');
  if (key === undefined) return reject(400, 'Missing Sec-WebSocket-Key header');
  if (!KEY_SHAPE.test(key)) return reject(400, 'Sec-WebSocket-Key must be 16 bytes in base64');

  const subprotocols: string[] = [];
  const protocolHeader = headerValue(req.headers, 'sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    for (const protocol of splitHeaderList(protocolHeader)) {
      if (!isToken(protocol)) return reject(400, 'Invalid Sec-WebSocket-Protocol header');
      if (subprotocols.includes(protocol)) return reject(400, 'Duplicate subprotocol in Sec-WebSocket-Protocol header');
      subprotocols.push(protocol);
    }
  }

  const extensionsHeader = headerValue(req.headers, 'sec-websocket-extensions') ?? '';
  let extensionOffers: ExtensionOffer[];
  try {
    extensionOffers = parseExtensionHeader(extensionsHeader);
  } catch (err) {
    if (err instanceof ExtensionHeaderError) {
      return reject(400, `Invalid Sec-WebSocket-Extensions header (position ${err.position})`);
    }
    throw err;
  }

  return {
    ok: true,
    key,
    accept: computeAcceptKey(key),
    subprotocols,
    extensionsHeader,
    extensionOffers,
    origin: headerValue(req.headers, 'origin') ?? headerValue(req.headers, 'sec-websocket-origin') ?? '',
    host,
    requestUri: req.url ?? '/',
    requestHeaders: formatRequestHeaders(req),
  };
}

/**
 * Picks the subprotocol to answer with from what the application set (the reference's
 * `WebSocketOpenRequest.SubProtocols`, which starts as the comma-separated list the client
 * sent).
 *
 * The rule: `chosen`, trimmed, is returned if it is exactly (case-sensitively) one of the
 * offered values; anything else gives null, meaning no `Sec-WebSocket-Protocol` header.
 * So an application that leaves the field unchanged agrees to the client's only offer when
 * there was one (browsers fail the connection if an offered protocol is not echoed), and
 * selects nothing when there were several (`"a, b"` is not a value the client offered); an
 * empty string or a value the client did not offer also selects nothing. Note that a
 * browser which offered subprotocols fails the connection when none is selected, so an
 * application that receives several must choose one.
 */
export function selectSubprotocol(offered: readonly string[], chosen: string): string | null {
  const value = chosen.replace(/^[ \t]+|[ \t]+$/g, '');
  return value.length > 0 && offered.includes(value) ? value : null;
}

/** One header line of an application-supplied header block. */
export interface HeaderLine {
  readonly name: string;
  readonly value: string;
}

/**
 * Parses an application-supplied header block (the reference's `ResponseHeaders`): `Name:
 * value` lines separated by CRLF or LF. Blank lines are dropped; surrounding whitespace of
 * a value is trimmed.
 *
 * @throws WSServerError (10022) on a bare CR, a folded (indented) line, a line that is not
 *   `token: value`, or a value with control characters
 */
export function parseHeaderLines(text: string): HeaderLine[] {
  if (/\r(?!\n)/.test(text)) {
    throw new WSServerError(ErrorCode.InvalidArgument, 'Response headers must not contain a bare CR.');
  }
  const out: HeaderLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^[ \t]*$/.test(line)) continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!isToken(name) || !isFieldValue(value)) {
      throw new WSServerError(
        ErrorCode.InvalidArgument,
        `Response header line ${i + 1} is not a valid "Name: value" header.`,
      );
    }
    out.push({ name, value });
  }
  return out;
}

/** Parses `extraHeaders` and refuses names the response builder writes itself. */
function extraHeaderLines(extraHeaders: string | undefined, reserved: ReadonlySet<string>): HeaderLine[] {
  if (!extraHeaders) return [];
  const lines = parseHeaderLines(extraHeaders);
  for (const { name } of lines) {
    if (reserved.has(name.toLowerCase())) {
      throw new WSServerError(
        ErrorCode.InvalidArgument,
        `Response headers must not set ${name}; wsworks writes it itself.`,
      );
    }
  }
  return lines;
}

const ACCEPT_RESERVED: ReadonlySet<string> = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

const REJECT_RESERVED: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'content-type',
  'transfer-encoding',
]);

/** What a 101 response carries. */
export interface AcceptResponseOptions {
  /** The `Sec-WebSocket-Accept` value (see `computeAcceptKey`). */
  readonly accept: string;
  /** The selected subprotocol, if any. */
  readonly subprotocol?: string | null | undefined;
  /** The `Sec-WebSocket-Extensions` answer (e.g. from deflate negotiation), if any. */
  readonly extensions?: string | null | undefined;
  /** The application's extra headers (the reference's `ResponseHeaders`). */
  readonly extraHeaders?: string | undefined;
}

/**
 * The bytes of the `101 Switching Protocols` answer.
 *
 * @throws WSServerError (10022) when a value cannot be sent as given: an accept value of the
 *   wrong shape, a subprotocol that is not a token, an extensions value with control
 *   characters, or extra headers that are malformed or set a header written here
 *   (Upgrade, Connection, Sec-WebSocket-*, Content-Length, Transfer-Encoding)
 */
export function buildAcceptResponse(options: AcceptResponseOptions): Buffer {
  const { accept, subprotocol, extensions, extraHeaders } = options;
  if (!ACCEPT_SHAPE.test(accept)) {
    throw new WSServerError(ErrorCode.InvalidArgument, 'Sec-WebSocket-Accept must be 20 bytes in base64.');
  }
  let head =
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\n`;
  if (subprotocol) {
    if (!isToken(subprotocol)) {
      throw new WSServerError(ErrorCode.InvalidArgument, 'The selected subprotocol must be a token.');
    }
    head += `Sec-WebSocket-Protocol: ${subprotocol}\r\n`;
  }
  if (extensions) {
    if (!isFieldValue(extensions)) {
      throw new WSServerError(ErrorCode.InvalidArgument, 'Sec-WebSocket-Extensions contains invalid characters.');
    }
    head += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  }
  for (const { name, value } of extraHeaderLines(extraHeaders, ACCEPT_RESERVED)) head += `${name}: ${value}\r\n`;
  return Buffer.from(head + '\r\n', 'latin1');
}

/**
 * The bytes of a complete error response that ends the connection: the status with its
 * standard reason phrase, `Connection: close` (`Upgrade, close` when the extra headers carry
 * an Upgrade header, as a 426 must), a plain-text body (`reason`, else the reason phrase)
 * and its `Content-Length`.
 *
 * @param status - an HTTP status from 200 to 599 (e.g. 400, 401, 403, 426, 503)
 * @param reason - the body text
 * @param extraHeaders - `Name: value` lines (CRLF or LF separated), e.g. `WWW-Authenticate: Basic realm="x"`
 * @throws WSServerError (10022) on a status outside 200–599 or malformed extra headers
 *   (or ones that set Connection, Content-Length, Content-Type or Transfer-Encoding)
 */
export function buildRejectResponse(status: number, reason?: string, extraHeaders?: string): Buffer {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new WSServerError(ErrorCode.InvalidArgument, `A rejection needs an HTTP status from 200 to 599, got ${status}.`);
  }
  const phrase = STATUS_CODES[status] ?? 'Unknown';
  const lines = extraHeaderLines(extraHeaders, REJECT_RESERVED);
  const upgrades = lines.some(({ name }) => name.toLowerCase() === 'upgrade');
  const body = Buffer.from(`${reason || phrase}\n`, 'utf8');
  let head =
    `HTTP/1.1 ${status} ${phrase}\r\n` +
    `Connection: ${upgrades ? 'Upgrade, close' : 'close'}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${body.length}\r\n`;
  for (const { name, value } of lines) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), body]);
}
