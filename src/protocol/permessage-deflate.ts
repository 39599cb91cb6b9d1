/**
 * permessage-deflate (RFC 7692): the data path, on pako's zlib port (raw DEFLATE both ways).
 *
 * - `message-inflater.ts` inflates what clients send, frame by frame, bounded while inflating;
 * - `message-deflater.ts` compresses what the server sends, piece by piece;
 * - `zlib-contexts.ts` builds the zlib contexts (once per connection, or lent process-wide
 *   without context takeover) and owns the output scratch;
 * - `zlib-state.ts` holds what is read and written inside pako's state (cheap resets).
 *
 * Negotiation (the Sec-WebSocket-Extensions header) is `deflate-negotiation.ts`.
 */

export { DEFLATE_TRAILER, INFLATE_CORRUPT, INFLATE_TOO_BIG, MessageInflater } from './message-inflater.js';
export {
  DEFAULT_COMPRESSION_LEVEL,
  MessageDeflater,
  type DeflaterFactory,
  type MessageDeflating,
  deflateWindowBitsSupported,
  deflaterWindowBits,
} from './message-deflater.js';
