/**
 * permessage-deflate negotiation for the server side (RFC 7692 section 7.1).
 *
 * The client lists offers in order of preference; the server accepts the first one it can
 * honour and answers with exactly the parameters agreed. An offer the server cannot accept
 * (an unknown or repeated parameter, a malformed value, a request the server cannot meet) is
 * declined and the next one is tried: a bad offer never fails the handshake. Offers for
 * other extensions are ignored.
 *
 * ### The 8-bit window
 *
 * `server_max_window_bits=8` is honoured (`DeflateParams.serverMaxWindowBits` is 8). The WASM
 * deflater keeps its matches within 256 bytes. pako cannot: zlib 1.2.9+ refuses a raw 8-bit
 * window (Node's `DeflateRaw` silently turns 8 into 9; pako 3 throws "stream error"). What the
 * client's 8-bit inflater needs is that no back-reference reaches further than 256 bytes, and
 * a 9-bit zlib/pako deflater never emits a distance above `w_size - MIN_LOOKAHEAD` =
 * 512 - 262 = 250, so the pako deflater runs with 9 bits (see `deflaterWindowBits`).
 */

import type { DeflateParams } from './codec.js';
import { formatExtension, type ExtensionOffer, type ExtensionParam } from './extension-header.js';

/** The extension token. */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The parameters in force when an offer is accepted with nothing restricted. */
export const DEFAULT_DEFLATE_PARAMS: DeflateParams = Object.freeze({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
});

/** The server's preferences. Every field is optional. */
export interface DeflateSettings {
  /** Accept permessage-deflate at all (default true; `EnablePermessageDeflate` in the reference). */
  readonly enabled?: boolean;
  /** The server resets its compression context after every message, whatever the client offered. */
  readonly serverNoContextTakeover?: boolean;
  /** Ask the client to reset its compression context after every message. */
  readonly clientNoContextTakeover?: boolean;
  /**
   * The largest window (bits, 9–15) the server compresses with. A client asking for less
   * still gets what it asked for; without this the server uses 15 or the client's limit.
   */
  readonly serverMaxWindowBits?: number;
  /**
   * Ask the client to compress with at most this window (bits, 9–15). Sent only when the
   * client's offer carries `client_max_window_bits`; an offer without it is still accepted
   * (the server then inflates with a 15-bit window). 8 is refused here because zlib-based
   * clients (Python's `zlib.compressobj(wbits=-8)`) fail when asked for it; a client that
   * offers 8 itself gets 8.
   */
  readonly clientMaxWindowBits?: number;
}

/** An accepted offer: the parameters for the codec and the `Sec-WebSocket-Extensions` value to answer with. */
export interface DeflateAgreement {
  readonly params: DeflateParams;
  /** E.g. `permessage-deflate; client_no_context_takeover`. */
  readonly responseHeader: string;
}

/** What the server makes of one offer. */
export type DeflateOfferVerdict =
  | ({ readonly accepted: true } & DeflateAgreement)
  | { readonly accepted: false; readonly reason: string };

const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';
const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';

/** 8–15 written as RFC 7692 requires: decimal, no sign, no leading zero. */
const WINDOW_BITS = /^(?:[89]|1[0-5])$/;

/**
 * Checks a settings object.
 *
 * @throws RangeError when a window size is not an integer 9–15
 */
export function validateDeflateSettings(settings: DeflateSettings): void {
  for (const key of ['serverMaxWindowBits', 'clientMaxWindowBits'] as const) {
    const bits = settings[key];
    if (bits !== undefined && !(Number.isInteger(bits) && bits >= 9 && bits <= 15)) {
      throw new RangeError(`permessage-deflate ${key} must be an integer from 9 to 15, got ${String(bits)}`);
    }
  }
}

/** The offer's four parameters, or why the offer must be declined. */
interface ParsedOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** The client's limit on the server's window, or null when not sent. */
  serverMaxWindowBits: number | null;
  /** null: not sent; true: sent without a value (client supports it); number: the client's limit. */
  clientMaxWindowBits: number | true | null;
}

function parseOfferParams(params: readonly ExtensionParam[]): ParsedOffer | string {
  const seen = new Set<string>();
  const offer: ParsedOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: null,
    clientMaxWindowBits: null,
  };
  for (const { name, value } of params) {
    if (seen.has(name)) return `duplicate parameter ${name}`;
    seen.add(name);
    switch (name) {
      case SERVER_NO_CONTEXT_TAKEOVER:
      case CLIENT_NO_CONTEXT_TAKEOVER:
        if (value !== null) return `${name} takes no value`;
        if (name === SERVER_NO_CONTEXT_TAKEOVER) offer.serverNoContextTakeover = true;
        else offer.clientNoContextTakeover = true;
        break;
      case SERVER_MAX_WINDOW_BITS:
        if (value === null || !WINDOW_BITS.test(value)) return `${name} needs a value from 8 to 15`;
        offer.serverMaxWindowBits = Number(value);
        break;
      case CLIENT_MAX_WINDOW_BITS:
        if (value === null) offer.clientMaxWindowBits = true;
        else if (WINDOW_BITS.test(value)) offer.clientMaxWindowBits = Number(value);
        else return `${name} value must be from 8 to 15`;
        break;
      default:
        return `unknown parameter ${name}`;
    }
  }
  return offer;
}

/**
 * Decides one offer. The response carries server_no_context_takeover when the client asked
 * for it or the server insists; client_no_context_takeover when the server asks for it or
 * the client announced it (accepting the hint lets the server drop its inflate context
 * between messages); server_max_window_bits when the client sent it (echoed, or lowered to
 * the server's limit) or when the server's limit is below 15; client_max_window_bits only
 * when the client sent it, with the client's value or the server's preference if smaller.
 */
export function evaluateDeflateOffer(offer: ExtensionOffer, settings: DeflateSettings = {}): DeflateOfferVerdict {
  if (offer.name !== PERMESSAGE_DEFLATE) return { accepted: false, reason: `not ${PERMESSAGE_DEFLATE}` };
  const parsed = parseOfferParams(offer.params);
  if (typeof parsed === 'string') return { accepted: false, reason: parsed };

  const serverNoContextTakeover = parsed.serverNoContextTakeover || settings.serverNoContextTakeover === true;
  const clientNoContextTakeover = parsed.clientNoContextTakeover || settings.clientNoContextTakeover === true;

  // The window the server announces: the client's limit, lowered to the server's own.
  const serverLimit = settings.serverMaxWindowBits ?? 15;
  let serverBits: number | null = null;
  if (parsed.serverMaxWindowBits !== null) serverBits = Math.min(parsed.serverMaxWindowBits, serverLimit);
  else if (serverLimit < 15) serverBits = serverLimit;

  // The window the client may use: announced only if the client said it understands the parameter.
  let clientBits: number | null = null;
  if (parsed.clientMaxWindowBits === true) {
    clientBits = settings.clientMaxWindowBits ?? null;
  } else if (parsed.clientMaxWindowBits !== null) {
    clientBits = Math.min(parsed.clientMaxWindowBits, settings.clientMaxWindowBits ?? 15);
  }

  const responseParams: ExtensionParam[] = [];
  if (serverNoContextTakeover) responseParams.push({ name: SERVER_NO_CONTEXT_TAKEOVER, value: null });
  if (clientNoContextTakeover) responseParams.push({ name: CLIENT_NO_CONTEXT_TAKEOVER, value: null });
  if (serverBits !== null) responseParams.push({ name: SERVER_MAX_WINDOW_BITS, value: String(serverBits) });
  if (clientBits !== null) responseParams.push({ name: CLIENT_MAX_WINDOW_BITS, value: String(clientBits) });

  const params: DeflateParams = Object.freeze({
    serverNoContextTakeover,
    clientNoContextTakeover,
    serverMaxWindowBits: serverBits ?? 15,
    clientMaxWindowBits: clientBits ?? 15,
  });
  return {
    accepted: true,
    params,
    responseHeader: formatExtension({ name: PERMESSAGE_DEFLATE, params: responseParams }),
  };
}

/**
 * Accepts the first acceptable permessage-deflate offer, or returns null when the extension
 * is disabled, not offered, or every offer was declined (the connection then runs without
 * compression).
 *
 * @throws RangeError when `settings` holds an invalid window size
 */
export function negotiatePermessageDeflate(
  offers: readonly ExtensionOffer[],
  settings: DeflateSettings = {},
): DeflateAgreement | null {
  validateDeflateSettings(settings);
  if (settings.enabled === false) return null;
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const verdict = evaluateDeflateOffer(offer, settings);
    if (verdict.accepted) return { params: verdict.params, responseHeader: verdict.responseHeader };
  }
  return null;
}
