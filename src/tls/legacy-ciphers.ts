/**
 * The two ciphers legacy PKCS#12 files use that Node's OpenSSL 3 no longer offers (they live in
 * its "legacy" provider): RC2-CBC (RFC 2268; OpenSSL 1.x and Windows encrypt the certificates
 * of a .pfx with 40-bit RC2 by default) and RC4. Decryption of stored files only; never used on
 * the wire.
 */

const PITABLE = Buffer.from(
    'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2' +
    '179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82' +
    '54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626' +
    '6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7' +
    '08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec' +
    'c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731' +
    '2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9' +
    '0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad',
  'hex',
);

/** Expands an RC2 key to its 64 16-bit subkeys (RFC 2268 section 2). */
function rc2Expand(key: Buffer, effectiveBits: number): Uint16Array {
  const L = new Uint8Array(128);
  L.set(key.subarray(0, 128));
  const T = Math.min(key.length, 128);
  for (let i = T; i < 128; i++) L[i] = PITABLE[(L[i - 1]! + L[i - T]!) & 0xff]!;
  const T8 = Math.ceil(effectiveBits / 8);
  const TM = 0xff >> (8 * T8 - effectiveBits);
  L[128 - T8] = PITABLE[L[128 - T8]! & TM]!;
  for (let i = 127 - T8; i >= 0; i--) L[i] = PITABLE[L[i + 1]! ^ L[i + T8]!]!;
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L[2 * i]! | (L[2 * i + 1]! << 8);
  return K;
}

const SHIFTS = [1, 2, 3, 5];

/** Encrypts one 8-byte block in place (used by the tests against RFC 2268's vectors). */
export function rc2EncryptBlock(K: Uint16Array, block: Buffer): void {
  const R = [block.readUInt16LE(0), block.readUInt16LE(2), block.readUInt16LE(4), block.readUInt16LE(6)];
  let j = 0;
  const mix = (): void => {
    for (let i = 0; i < 4; i++) {
      const v = (R[i]! + K[j++]! + (R[(i + 3) & 3]! & R[(i + 2) & 3]!) + (~R[(i + 3) & 3]! & R[(i + 1) & 3]!)) & 0xffff;
      R[i] = ((v << SHIFTS[i]!) | (v >> (16 - SHIFTS[i]!))) & 0xffff;
    }
  };
  const mash = (): void => {
    for (let i = 0; i < 4; i++) R[i] = (R[i]! + K[R[(i + 3) & 3]! & 63]!) & 0xffff;
  };
  for (let r = 0; r < 5; r++) mix();
  mash();
  for (let r = 0; r < 6; r++) mix();
  mash();
  for (let r = 0; r < 5; r++) mix();
  for (let i = 0; i < 4; i++) block.writeUInt16LE(R[i]!, i * 2);
}

function rc2DecryptBlock(K: Uint16Array, block: Buffer): void {
  const R = [block.readUInt16LE(0), block.readUInt16LE(2), block.readUInt16LE(4), block.readUInt16LE(6)];
  let j = 63;
  const unmix = (): void => {
    for (let i = 3; i >= 0; i--) {
      const s = SHIFTS[i]!;
      let v = ((R[i]! >> s) | (R[i]! << (16 - s))) & 0xffff;
      v = (v - K[j--]! - (R[(i + 3) & 3]! & R[(i + 2) & 3]!) - (~R[(i + 3) & 3]! & R[(i + 1) & 3]!)) & 0xffff;
      R[i] = v;
    }
  };
  const unmash = (): void => {
    for (let i = 3; i >= 0; i--) R[i] = (R[i]! - K[R[(i + 3) & 3]! & 63]!) & 0xffff;
  };
  for (let r = 0; r < 5; r++) unmix();
  unmash();
  for (let r = 0; r < 6; r++) unmix();
  unmash();
  for (let r = 0; r < 5; r++) unmix();
  for (let i = 0; i < 4; i++) block.writeUInt16LE(R[i]!, i * 2);
}

/** The subkeys for `key` at `effectiveBits` (exported for the RFC 2268 test vectors). */
export function rc2Key(key: Buffer, effectiveBits = key.length * 8): Uint16Array {
  return rc2Expand(key, effectiveBits);
}

/** RC2-CBC decryption with PKCS#7 padding removed; throws on bad padding (usually a wrong password). */
export function rc2CbcDecrypt(key: Buffer, effectiveBits: number, iv: Buffer, data: Buffer): Buffer {
  if (data.length === 0 || data.length % 8 !== 0) throw new Error('RC2 ciphertext is not a whole number of blocks');
  const K = rc2Expand(key, effectiveBits);
  const out = Buffer.alloc(data.length);
  let prev = Buffer.from(iv);
  for (let off = 0; off < data.length; off += 8) {
    const block = Buffer.from(data.subarray(off, off + 8));
    const cipherBlock = Buffer.from(block);
    rc2DecryptBlock(K, block);
    for (let i = 0; i < 8; i++) out[off + i] = block[i]! ^ prev[i]!;
    prev = cipherBlock;
  }
  return stripPadding(out, 8);
}

/** RC4 (symmetric: the same call encrypts and decrypts). */
export function rc4(key: Buffer, data: Buffer): Buffer {
  const S = new Uint8Array(256);
  for (let i = 0; i < 256; i++) S[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + S[i]! + key[i % key.length]!) & 0xff;
    [S[i], S[j]] = [S[j]!, S[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + S[i]!) & 0xff;
    [S[i], S[j]] = [S[j]!, S[i]!];
    out[n] = data[n]! ^ S[(S[i]! + S[j]!) & 0xff]!;
  }
  return out;
}

/** Removes PKCS#7 padding, checking every pad byte. */
export function stripPadding(data: Buffer, blockSize: number): Buffer {
  const pad = data[data.length - 1]!;
  if (pad < 1 || pad > blockSize || pad > data.length) throw new Error('bad padding');
  for (let i = data.length - pad; i < data.length; i++) if (data[i] !== pad) throw new Error('bad padding');
  return data.subarray(0, data.length - pad);
}
