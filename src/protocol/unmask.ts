/**
 * Client-to-server masking (RFC 6455 5.3): every payload byte i is XORed with key byte i mod 4.
 * Unmasking happens in place, in the chunk the codec owns, so the payload needs no copy.
 */

/** Below this many bytes a typed-array view costs more than word-wise XOR saves. */
const WORD_MIN_BYTES = 128;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Reads a 4-byte masking key as the uint32 {@link unmask} takes (key byte 0 in the high byte).
 */
export function readMaskKey(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/**
 * XORs `buf[start, end)` in place with a WebSocket masking key (masking and unmasking are the
 * same operation).
 *
 * @param mask - the 4 key bytes, either as a `Uint8Array` (its first 4 bytes) or as a uint32
 *   with key byte 0 in the most significant byte (see {@link readMaskKey})
 * @param maskOffset - how many payload bytes came before `start` (only its value mod 4 counts):
 *   lets a payload that arrives split across chunks be unmasked piece by piece
 */
export function unmask(buf: Uint8Array, start: number, end: number, mask: number | Uint8Array, maskOffset = 0): void {
  if (end <= start) return;
  let key = typeof mask === 'number' ? mask >>> 0 : readMaskKey(mask, 0);
  // Rotate so that the key's high byte applies to buf[start].
  key = rotateLeftBytes(key, maskOffset & 3);

  let i = start;
  if (end - start >= WORD_MIN_BYTES) {
    // Bytes up to the 4-byte boundary of the underlying memory, then whole words.
    const head = (4 - ((buf.byteOffset + i) & 3)) & 3;
    i = xorBytes(buf, i, i + head, key);
    key = rotateLeftBytes(key, head);
    const count = (end - i) >>> 2;
    const words = new Int32Array(buf.buffer, buf.byteOffset + i, count);
    const wordKey = LITTLE_ENDIAN ? byteSwap(key) : key | 0;
    let w = 0;
    // Unrolled by 4: V8 keeps this loop tight and bounds-check friendly.
    const unrolledEnd = count & ~3;
    for (; w < unrolledEnd; w += 4) {
      words[w] ^= wordKey;
      words[w + 1] ^= wordKey;
      words[w + 2] ^= wordKey;
      words[w + 3] ^= wordKey;
    }
    for (; w < count; w++) words[w] ^= wordKey;
    i += count << 2;
  }
  xorBytes(buf, i, end, key);
}

/** XORs bytes one by one with the key whose high byte applies at `start`; returns `end`. */
function xorBytes(buf: Uint8Array, start: number, end: number, key: number): number {
  const k0 = key >>> 24;
  const k1 = (key >>> 16) & 0xff;
  const k2 = (key >>> 8) & 0xff;
  const k3 = key & 0xff;
  let i = start;
  const quadEnd = start + ((end - start) & ~3);
  for (; i < quadEnd; i += 4) {
    buf[i] ^= k0;
    buf[i + 1] ^= k1;
    buf[i + 2] ^= k2;
    buf[i + 3] ^= k3;
  }
  if (i < end) buf[i++] ^= k0;
  if (i < end) buf[i++] ^= k1;
  if (i < end) buf[i++] ^= k2;
  return end;
}

/** Rotates a big-endian key left by `n` bytes (0–3), so key byte `n` becomes the high byte. */
function rotateLeftBytes(key: number, n: number): number {
  if (n === 0) return key;
  const bits = n << 3;
  return ((key << bits) | (key >>> (32 - bits))) >>> 0;
}

/** The key as a little-endian machine word would hold it. */
function byteSwap(key: number): number {
  return ((key >>> 24) | ((key >>> 8) & 0xff00) | ((key << 8) & 0xff0000) | (key << 24)) | 0;
}
