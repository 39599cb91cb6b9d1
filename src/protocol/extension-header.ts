/**
 * The `Sec-WebSocket-Extensions` header (RFC 6455 section 9.1): parsing a client's offers
 * and formatting the server's answer.
 *
 * ```
 * Sec-WebSocket-Extensions = extension-list
 * extension-list  = 1#extension
 * extension       = extension-token *( ";" extension-param )
 * extension-token = registered-token            ; a token
 * extension-param = token [ "=" (token | quoted-string) ]
 * ```
 *
 * A quoted-string value must unescape to a token. Optional whitespace is allowed around
 * every separator (`;`, `,`, `=`). Empty list elements are ignored (RFC 9110 5.6.1), so
 * several headers that Node joined with `", "` parse as one list.
 */

import { isOws, isToken, isTokenChar } from './http-syntax.js';

/** One `name[=value]` parameter of an extension offer. */
export interface ExtensionParam {
  /** The parameter name, as sent (names are compared case-sensitively). */
  readonly name: string;
  /** The value (quoted-string values already unescaped), or null when the parameter had none. */
  readonly value: string | null;
}

/** One element of the extension list: an extension name and its parameters in the order sent. */
export interface ExtensionOffer {
  readonly name: string;
  readonly params: readonly ExtensionParam[];
}

/** A `Sec-WebSocket-Extensions` value that does not follow the RFC 6455 9.1 grammar. */
export class ExtensionHeaderError extends Error {
  /** Index in the header value where parsing stopped. */
  readonly position: number;

  constructor(message: string, position: number) {
    super(`Invalid Sec-WebSocket-Extensions header: ${message} at position ${position}`);
    this.name = 'ExtensionHeaderError';
    this.position = position;
  }
}

/** qdtext / quoted-pair content allowed inside a quoted-string (RFC 9110 5.6.4). */
function isQuotedChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff);
}

/**
 * Parses a `Sec-WebSocket-Extensions` header value into its offers, in order.
 * An empty (or whitespace-only) value yields no offers.
 *
 * @throws ExtensionHeaderError when the value breaks the grammar
 */
export function parseExtensionHeader(header: string): ExtensionOffer[] {
  const n = header.length;
  const offers: ExtensionOffer[] = [];
  let i = 0;

  const skipOws = (): void => {
    while (i < n && isOws(header.charCodeAt(i))) i++;
  };
  const readToken = (what: string): string => {
    const start = i;
    while (i < n && isTokenChar(header.charCodeAt(i))) i++;
    if (i === start) {
      throw new ExtensionHeaderError(
        i < n ? `expected ${what}, found ${JSON.stringify(header[i])}` : `expected ${what}, found end of header`,
        i,
      );
    }
    return header.slice(start, i);
  };
  const readQuoted = (): string => {
    const open = i;
    i++; // the opening quote
    let value = '';
    for (;;) {
      if (i >= n) throw new ExtensionHeaderError('unterminated quoted-string', open);
      const c = header.charCodeAt(i);
      if (c === 0x22) {
        i++;
        break;
      }
      if (c === 0x5c) {
        i++;
        if (i >= n) throw new ExtensionHeaderError('unterminated quoted-string', open);
        const escaped = header.charCodeAt(i);
        if (!isQuotedChar(escaped)) throw new ExtensionHeaderError('invalid character in quoted-string', i);
        value += header[i];
        i++;
        continue;
      }
      if (!isQuotedChar(c)) throw new ExtensionHeaderError('invalid character in quoted-string', i);
      value += header[i];
      i++;
    }
    if (!isToken(value)) {
      throw new ExtensionHeaderError('a quoted parameter value must be a token once unescaped', open);
    }
    return value;
  };

  for (;;) {
    skipOws();
    if (i >= n) break;
    if (header.charCodeAt(i) === 0x2c) {
      i++; // an empty list element
      continue;
    }
    const name = readToken('an extension name');
    const params: ExtensionParam[] = [];
    skipOws();
    while (i < n && header.charCodeAt(i) === 0x3b) {
      i++;
      skipOws();
      const paramName = readToken('a parameter name');
      skipOws();
      let value: string | null = null;
      if (i < n && header.charCodeAt(i) === 0x3d) {
        i++;
        skipOws();
        value = i < n && header.charCodeAt(i) === 0x22 ? readQuoted() : readToken('a parameter value');
        skipOws();
      }
      params.push({ name: paramName, value });
    }
    offers.push({ name, params });
    if (i >= n) break;
    if (header.charCodeAt(i) !== 0x2c) {
      throw new ExtensionHeaderError(`expected ',' or ';', found ${JSON.stringify(header[i])}`, i);
    }
    i++;
  }
  return offers;
}

/**
 * Formats one extension element, e.g. `permessage-deflate; client_max_window_bits=10`.
 *
 * @throws TypeError when a name or value is not a token (values are never quoted)
 */
export function formatExtension(offer: ExtensionOffer): string {
  if (!isToken(offer.name)) throw new TypeError(`Extension name is not a token: ${JSON.stringify(offer.name)}`);
  let out = offer.name;
  for (const p of offer.params) {
    if (!isToken(p.name)) throw new TypeError(`Extension parameter name is not a token: ${JSON.stringify(p.name)}`);
    if (p.value === null) {
      out += `; ${p.name}`;
    } else {
      if (!isToken(p.value)) {
        throw new TypeError(`Extension parameter value is not a token: ${JSON.stringify(p.value)}`);
      }
      out += `; ${p.name}=${p.value}`;
    }
  }
  return out;
}

/** Formats a whole `Sec-WebSocket-Extensions` value (elements joined by `", "`). */
export function formatExtensionHeader(offers: readonly ExtensionOffer[]): string {
  return offers.map(formatExtension).join(', ');
}
