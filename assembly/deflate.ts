// permessage-deflate compression (RFC 7692 7.2.1) of one piece of a message: raw DEFLATE
// (RFC 1951) blocks ending with a sync flush (an empty stored block), so the piece can go out
// at once and the receiver's inflater stands between blocks after it.
//
// The whole piece is in memory, after the history the receiver still remembers (the preset
// dictionary), so matching needs no sliding buffer: positions are offsets from `src`. Nothing
// survives between calls: the caller keeps the history and passes it back in.
//
// Matching follows zlib's levels (hash chains; greedy for 1-3, lazy for 4-9, with zlib's
// good/lazy/nice/chain parameters) on a 4-byte hash. Each block is written as dynamic Huffman,
// fixed Huffman or stored, whichever is smallest.

const MIN_MATCH: u32 = 4; // the hash covers 4 bytes: 3-byte matches rarely pay for themselves
const MAX_MATCH: u32 = 258;
const MAX_HASH_BITS: u32 = 15;
const MAX_WSIZE: u32 = 32768;
/** Symbols per block: a block is flushed when its symbol buffer is full. */
const SYM_CAP: u32 = 16384;
/** Marks a match in the symbol buffer: (distance - 1) << 16 | MATCH | (length - 3). */
const MATCH: u32 = 0x8000;

// The work area (`work`), laid out here; deflateWorkSize() tells the caller its size.
const W_HEAD: usize = 0; // u32[1 << MAX_HASH_BITS]: the newest position per hash
const W_PREV: usize = W_HEAD + (4 << MAX_HASH_BITS); // u32[MAX_WSIZE]: the chain, by position & wmask
const W_SYMS: usize = W_PREV + 4 * MAX_WSIZE; // u32[SYM_CAP]
const W_LFREQ: usize = W_SYMS + 4 * SYM_CAP; // u32[288]
const W_DFREQ: usize = W_LFREQ + 4 * 288; // u32[32]
const W_BFREQ: usize = W_DFREQ + 4 * 32; // u32[32]
const W_LLEN: usize = W_BFREQ + 4 * 32; // u8[288]
const W_DLEN: usize = W_LLEN + 288; // u8[32]
const W_BLEN: usize = W_DLEN + 32; // u8[32]
const W_LCODE: usize = W_BLEN + 32; // u16[288]
const W_DCODE: usize = W_LCODE + 2 * 288; // u16[32]
const W_BCODE: usize = W_DCODE + 2 * 32; // u16[32]
const W_KEYS: usize = W_BCODE + 2 * 32; // u32[288]: sort keys of the Huffman builder
const W_DEPTH: usize = W_KEYS + 4 * 288; // u32[288]: its weights, then code lengths
const W_RLE: usize = W_DEPTH + 4 * 288; // u8[2 * 320]: code-length codes and their extra bits
const W_ALL_LENS: usize = W_RLE + 2 * 320; // u8[320]: literal/length then distance code lengths
const W_END: usize = W_ALL_LENS + 320;

/** Bytes of scratch `deflateRaw` needs at `work`. */
export function deflateWorkSize(): u32 {
  return <u32>W_END;
}

// Static tables, filled on the first call.
const LEN_CODE: usize = memory.data(256); // length - 3 -> length code - 257
const LEN_BASE: usize = memory.data(29 * 2); // length code - 257 -> first length - 3
const LEN_EXTRA: usize = memory.data(29);
const DIST_CODE: usize = memory.data(512); // distance - 1 (< 256, else 256 + (d - 1) >> 7) -> code
const DIST_BASE: usize = memory.data(30 * 2); // distance code -> first distance - 1
const DIST_EXTRA: usize = memory.data(30);
const FIXED_LLEN: usize = memory.data(288);
const FIXED_LCODE: usize = memory.data(288 * 2);
const FIXED_DLEN: usize = memory.data(32);
const FIXED_DCODE: usize = memory.data(32 * 2);
/** The order code-length code lengths are sent in (RFC 1951 3.2.7). */
const BL_ORDER: usize = memory.data<u8>([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);
const BL_COUNT: usize = memory.data(32 * 2); // u16[16] scratch of buildCodes / limitLengths
const NEXT_CODE: usize = memory.data(32 * 2);

// zlib's configuration per level: good length, max lazy (max insert for greedy), nice length, chain.
const LEVEL_GOOD: usize = memory.data<u16>([0, 4, 4, 4, 4, 8, 8, 8, 32, 32]);
const LEVEL_LAZY: usize = memory.data<u16>([0, 4, 5, 6, 4, 16, 16, 32, 128, 258]);
const LEVEL_NICE: usize = memory.data<u16>([0, 8, 16, 32, 16, 32, 128, 128, 258, 258]);
const LEVEL_CHAIN: usize = memory.data<u16>([0, 4, 8, 32, 16, 32, 128, 256, 1024, 4096]);

let tablesReady = false;

function initTables(): void {
  // Lengths 3..258: codes 257..284 with 0,0,0,0,0,0,0,0,1,1,1,1,2,... extra bits, 258 is 285.
  let length: u32 = 0;
  for (let code: u32 = 0; code < 28; code++) {
    const extra: u32 = code < 8 ? 0 : (code >> 2) - 1;
    store<u8>(LEN_EXTRA + code, <u8>extra);
    store<u16>(LEN_BASE + (code << 1), <u16>length);
    for (let i: u32 = 0; i < (<u32>1 << extra); i++) store<u8>(LEN_CODE + length++, <u8>code);
  }
  store<u8>(LEN_CODE + 255, 28); // 258 has a code of its own
  store<u8>(LEN_EXTRA + 28, 0);
  store<u16>(LEN_BASE + 56, 255);
  // Distances 1..32768: codes 0..29 with 0,0,0,0,1,1,2,2,...,13,13 extra bits.
  let dist: u32 = 0;
  for (let code: u32 = 0; code < 30; code++) {
    const extra: u32 = code < 4 ? 0 : (code >> 1) - 1;
    store<u8>(DIST_EXTRA + code, <u8>extra);
    store<u16>(DIST_BASE + (code << 1), <u16>dist);
    for (let i: u32 = 0; i < (<u32>1 << extra); i++) {
      const d = dist + i;
      if (d < 256) store<u8>(DIST_CODE + d, <u8>code);
      else if ((d & 127) == 0) store<u8>(DIST_CODE + 256 + (d >> 7), <u8>code);
    }
    dist += <u32>1 << extra;
  }
  for (let i: u32 = 0; i < 288; i++) store<u8>(FIXED_LLEN + i, i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8);
  for (let i: u32 = 0; i < 32; i++) store<u8>(FIXED_DLEN + i, 5);
  buildCodes(FIXED_LLEN, 288, FIXED_LCODE);
  buildCodes(FIXED_DLEN, 32, FIXED_DCODE);
  tablesReady = true;
}

// ---- Bit writer: LSB first, 32 bits stored at a time (the caller leaves 8 bytes of slack).

let outPtr: usize = 0;
let bitBuf: u64 = 0;
let bitCount: u32 = 0;

// @ts-ignore: decorator
@inline
function putBits(value: u32, n: u32): void {
  bitBuf |= (<u64>value) << bitCount;
  bitCount += n;
  if (bitCount >= 32) {
    store<u32>(outPtr, <u32>bitBuf);
    outPtr += 4;
    bitBuf >>= 32;
    bitCount -= 32;
  }
}

/** Writes out the pending bits, padding the last byte with zeros. */
function alignToByte(): void {
  while (bitCount > 0) {
    store<u8>(outPtr++, <u8>bitBuf);
    bitBuf >>= 8;
    bitCount = bitCount > 8 ? bitCount - 8 : 0;
  }
  bitBuf = 0;
}

// ---- Huffman codes

/**
 * Optimal code lengths (at most `maxBits`) for the `n` symbols' frequencies, into `lens`.
 * At least two symbols get a code, as zlib does: some inflaters refuse a one-code set.
 */
function buildLengths(freq: usize, n: u32, lens: usize, maxBits: u32, work: usize): void {
  const keys = work + W_KEYS;
  const depth = work + W_DEPTH;
  let m: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    store<u8>(lens + i, 0);
    const f = load<u32>(freq + (i << 2));
    if (f != 0) store<u32>(keys + (m++ << 2), (f << 9) | i);
  }
  // Pad to two codes with the lowest unused symbols (weight 1, sorted in below).
  for (let s: u32 = 0; m < 2 && s < n; s++) {
    if (load<u32>(freq + (s << 2)) == 0) store<u32>(keys + (m++ << 2), (1 << 9) | s);
  }
  // Shell sort by weight, then symbol (the keys are distinct).
  let gap: u32 = 1;
  while (gap < m / 3) gap = gap * 3 + 1;
  for (; gap > 0; gap = (gap - 1) / 3) {
    for (let i = gap; i < m; i++) {
      const k = load<u32>(keys + (i << 2));
      let j = i;
      while (j >= gap) {
        const other = load<u32>(keys + ((j - gap) << 2));
        if (other <= k) break;
        store<u32>(keys + (j << 2), other);
        j -= gap;
      }
      store<u32>(keys + (j << 2), k);
    }
  }
  for (let i: u32 = 0; i < m; i++) store<u32>(depth + (i << 2), load<u32>(keys + (i << 2)) >> 9);
  minimumRedundancy(depth, m);
  // depth[i] is now the code length of the i-th lightest symbol (non-increasing in i).
  if (load<u32>(depth) > maxBits) limitLengths(depth, m, maxBits);
  for (let i: u32 = 0; i < m; i++) store<u8>(lens + (load<u32>(keys + (i << 2)) & 511), <u8>load<u32>(depth + (i << 2)));
}

/**
 * Moffat and Katajainen's in-place minimum-redundancy code: `a[0, n)` holds weights in
 * ascending order (n >= 2) and receives the code lengths.
 */
function minimumRedundancy(a: usize, n: u32): void {
  // Phase 1: build the tree, internal node weights and parent pointers in place.
  store<u32>(a, load<u32>(a) + load<u32>(a + 4));
  let root: u32 = 0;
  let leaf: u32 = 2;
  for (let next: u32 = 1; next < n - 1; next++) {
    if (leaf >= n || load<u32>(a + (root << 2)) < load<u32>(a + (leaf << 2))) {
      store<u32>(a + (next << 2), load<u32>(a + (root << 2)));
      store<u32>(a + (root++ << 2), next);
    } else {
      store<u32>(a + (next << 2), load<u32>(a + (leaf++ << 2)));
    }
    if (leaf >= n || (root < next && load<u32>(a + (root << 2)) < load<u32>(a + (leaf << 2)))) {
      store<u32>(a + (next << 2), load<u32>(a + (next << 2)) + load<u32>(a + (root << 2)));
      store<u32>(a + (root++ << 2), next);
    } else {
      store<u32>(a + (next << 2), load<u32>(a + (next << 2)) + load<u32>(a + (leaf++ << 2)));
    }
  }
  // Phase 2: internal node depths.
  store<u32>(a + ((n - 2) << 2), 0);
  for (let next = <i32>n - 3; next >= 0; next--) {
    store<u32>(a + (<usize>next << 2), load<u32>(a + (<usize>load<u32>(a + (<usize>next << 2)) << 2)) + 1);
  }
  // Phase 3: leaf depths.
  let avail: i32 = 1;
  let used: i32 = 0;
  let depth: u32 = 0;
  let r = <i32>n - 2;
  let next = <i32>n - 1;
  while (avail > 0) {
    while (r >= 0 && load<u32>(a + (<usize>r << 2)) == depth) {
      used++;
      r--;
    }
    while (avail > used) {
      store<u32>(a + (<usize>next << 2), depth);
      next--;
      avail--;
    }
    avail = 2 * used;
    depth++;
    used = 0;
  }
}

/**
 * Makes the non-increasing code lengths `depth[0, n)` fit in `maxBits` while keeping the code
 * complete: lengths above the limit are cut to it, then, while the Kraft sum overflows, a
 * longest code is dropped and a shorter one split in two.
 */
function limitLengths(depth: usize, n: u32, maxBits: u32): void {
  for (let i: u32 = 0; i <= 15; i++) store<u16>(BL_COUNT + (i << 1), 0);
  for (let i: u32 = 0; i < n; i++) {
    let d = load<u32>(depth + (i << 2));
    if (d > maxBits) d = maxBits;
    store<u16>(BL_COUNT + (d << 1), load<u16>(BL_COUNT + (d << 1)) + 1);
  }
  let total: u32 = 0;
  for (let i: u32 = 1; i <= maxBits; i++) total += <u32>load<u16>(BL_COUNT + (i << 1)) << (maxBits - i);
  while (total > (<u32>1 << maxBits)) {
    store<u16>(BL_COUNT + (maxBits << 1), load<u16>(BL_COUNT + (maxBits << 1)) - 1);
    for (let i = maxBits - 1; i > 0; i--) {
      const c = load<u16>(BL_COUNT + (i << 1));
      if (c != 0) {
        store<u16>(BL_COUNT + (i << 1), c - 1);
        store<u16>(BL_COUNT + ((i + 1) << 1), load<u16>(BL_COUNT + ((i + 1) << 1)) + 2);
        break;
      }
    }
    total--;
  }
  // The lightest symbols get the longest codes.
  let k: u32 = 0;
  for (let len = maxBits; len > 0; len--) {
    for (let c: u32 = load<u16>(BL_COUNT + (len << 1)); c > 0; c--) store<u32>(depth + (k++ << 2), len);
  }
}

/** Canonical codes (bit-reversed, to be written LSB first) for the code lengths `lens[0, n)`. */
function buildCodes(lens: usize, n: u32, codes: usize): void {
  for (let i: u32 = 0; i <= 15; i++) store<u16>(BL_COUNT + (i << 1), 0);
  for (let i: u32 = 0; i < n; i++) {
    const l = <u32>load<u8>(lens + i);
    store<u16>(BL_COUNT + (l << 1), load<u16>(BL_COUNT + (l << 1)) + 1);
  }
  store<u16>(BL_COUNT, 0);
  let code: u32 = 0;
  for (let bits: u32 = 1; bits <= 15; bits++) {
    code = (code + load<u16>(BL_COUNT + ((bits - 1) << 1))) << 1;
    store<u16>(NEXT_CODE + (bits << 1), <u16>code);
  }
  for (let i: u32 = 0; i < n; i++) {
    const len = <u32>load<u8>(lens + i);
    if (len == 0) continue;
    const c = <u32>load<u16>(NEXT_CODE + (len << 1));
    store<u16>(NEXT_CODE + (len << 1), <u16>(c + 1));
    let r: u32 = 0;
    for (let b: u32 = 0; b < len; b++) r |= ((c >> b) & 1) << (len - 1 - b);
    store<u16>(codes + (i << 1), <u16>r);
  }
}

// ---- Blocks

/**
 * Writes the block of `symCount` symbols covering `src[start, end)`: dynamic Huffman, fixed
 * Huffman or stored, whichever is smallest.
 */
function flushBlock(src: usize, start: u32, end: u32, symCount: u32, work: usize): void {
  const lfreq = work + W_LFREQ;
  const dfreq = work + W_DFREQ;
  const bfreq = work + W_BFREQ;
  const llen = work + W_LLEN;
  const dlen = work + W_DLEN;
  const blen = work + W_BLEN;
  store<u32>(lfreq + (256 << 2), 1); // end of block

  buildLengths(lfreq, 286, llen, 15, work);
  buildLengths(dfreq, 30, dlen, 15, work);
  let hlit: u32 = 286;
  while (hlit > 257 && load<u8>(llen + hlit - 1) == 0) hlit--;
  let hdist: u32 = 30;
  while (hdist > 1 && load<u8>(dlen + hdist - 1) == 0) hdist--;

  // Code lengths, run-length coded (RFC 1951 3.2.7); runs may cross from HLIT into HDIST.
  const all = work + W_ALL_LENS;
  memory.copy(all, llen, hlit);
  memory.copy(all + hlit, dlen, hdist);
  for (let i: u32 = 0; i < 19; i++) store<u32>(bfreq + (i << 2), 0);
  const rle = work + W_RLE;
  let rleCount: u32 = 0;
  const total = hlit + hdist;
  let i: u32 = 0;
  while (i < total) {
    const cur = load<u8>(all + i);
    let run: u32 = 1;
    while (i + run < total && load<u8>(all + i + run) == cur) run++;
    i += run;
    if (cur == 0) {
      while (run >= 11) {
        const r = run < 138 ? run : 138;
        store<u8>(rle + (rleCount << 1), 18);
        store<u8>(rle + (rleCount++ << 1) + 1, <u8>(r - 11));
        run -= r;
      }
      if (run >= 3) {
        store<u8>(rle + (rleCount << 1), 17);
        store<u8>(rle + (rleCount++ << 1) + 1, <u8>(run - 3));
        run = 0;
      }
    } else {
      store<u8>(rle + (rleCount << 1), cur);
      rleCount++;
      run--;
      while (run >= 3) {
        const r = run < 6 ? run : 6;
        store<u8>(rle + (rleCount << 1), 16);
        store<u8>(rle + (rleCount++ << 1) + 1, <u8>(r - 3));
        run -= r;
      }
    }
    while (run > 0) {
      store<u8>(rle + (rleCount << 1), cur);
      rleCount++;
      run--;
    }
  }
  for (let k: u32 = 0; k < rleCount; k++) {
    const c = <u32>load<u8>(rle + (k << 1));
    store<u32>(bfreq + (c << 2), load<u32>(bfreq + (c << 2)) + 1);
  }
  buildLengths(bfreq, 19, blen, 7, work);
  let hclen: u32 = 19;
  while (hclen > 4 && load<u8>(blen + load<u8>(BL_ORDER + hclen - 1)) == 0) hclen--;

  // Sizes in bits of the three ways to write the block.
  let extraBits: u64 = 0;
  let dynamicBits: u64 = 3 + 14 + 3 * <u64>hclen;
  let fixedBits: u64 = 3;
  for (let k: u32 = 0; k < rleCount; k++) {
    const c = <u32>load<u8>(rle + (k << 1));
    dynamicBits += <u64>load<u8>(blen + c) + (c == 16 ? 2 : c == 17 ? 3 : c == 18 ? 7 : 0);
  }
  for (let s: u32 = 0; s < 286; s++) {
    const f = <u64>load<u32>(lfreq + (s << 2));
    if (f == 0) continue;
    dynamicBits += f * <u64>load<u8>(llen + s);
    fixedBits += f * <u64>load<u8>(FIXED_LLEN + s);
    if (s > 256) extraBits += f * <u64>load<u8>(LEN_EXTRA + s - 257);
  }
  for (let s: u32 = 0; s < 30; s++) {
    const f = <u64>load<u32>(dfreq + (s << 2));
    if (f == 0) continue;
    dynamicBits += f * <u64>load<u8>(dlen + s);
    fixedBits += f * 5;
    extraBits += f * <u64>load<u8>(DIST_EXTRA + s);
  }
  dynamicBits += extraBits;
  fixedBits += extraBits;
  const length = end - start;
  const storedBits: u64 = (<u64>length + 5 * (<u64>(length / 65535) + 1)) * 8 + 7;

  if (storedBits <= dynamicBits && storedBits <= fixedBits) {
    writeStored(src, start, end);
  } else if (fixedBits <= dynamicBits) {
    putBits(2, 3); // BFINAL 0, BTYPE 01
    writeSymbols(work, symCount, FIXED_LLEN, FIXED_LCODE, FIXED_DLEN, FIXED_DCODE);
  } else {
    const lcode = work + W_LCODE;
    const dcode = work + W_DCODE;
    const bcode = work + W_BCODE;
    buildCodes(llen, 286, lcode);
    buildCodes(dlen, 30, dcode);
    buildCodes(blen, 19, bcode);
    putBits(4, 3); // BFINAL 0, BTYPE 10
    putBits(hlit - 257, 5);
    putBits(hdist - 1, 5);
    putBits(hclen - 4, 4);
    for (let k: u32 = 0; k < hclen; k++) putBits(load<u8>(blen + load<u8>(BL_ORDER + k)), 3);
    for (let k: u32 = 0; k < rleCount; k++) {
      const c = <u32>load<u8>(rle + (k << 1));
      putBits(load<u16>(bcode + (c << 1)), load<u8>(blen + c));
      if (c >= 16) putBits(load<u8>(rle + (k << 1) + 1), c == 16 ? 2 : c == 17 ? 3 : 7);
    }
    writeSymbols(work, symCount, llen, lcode, dlen, dcode);
  }
  // The next block starts counting afresh.
  memory.fill(lfreq, 0, 4 * 288);
  memory.fill(dfreq, 0, 4 * 32);
}

function writeSymbols(work: usize, symCount: u32, llen: usize, lcode: usize, dlen: usize, dcode: usize): void {
  const syms = work + W_SYMS;
  for (let k: u32 = 0; k < symCount; k++) {
    const s = load<u32>(syms + (k << 2));
    if ((s & MATCH) == 0) {
      putBits(load<u16>(lcode + (s << 1)), load<u8>(llen + s));
    } else {
      const lc = s & 0xff;
      const code = <u32>load<u8>(LEN_CODE + lc);
      putBits(load<u16>(lcode + ((257 + code) << 1)), load<u8>(llen + 257 + code));
      const le = <u32>load<u8>(LEN_EXTRA + code);
      if (le != 0) putBits(lc - load<u16>(LEN_BASE + (code << 1)), le);
      const d = s >> 16;
      const dc = <u32>load<u8>(DIST_CODE + <usize>(d < 256 ? d : <u32>256 + (d >> 7)));
      putBits(load<u16>(dcode + (dc << 1)), load<u8>(dlen + dc));
      const de = <u32>load<u8>(DIST_EXTRA + dc);
      if (de != 0) putBits(d - load<u16>(DIST_BASE + (dc << 1)), de);
    }
  }
  putBits(load<u16>(lcode + (256 << 1)), load<u8>(llen + 256));
}

// ---- Symbols and chains

/** Records a literal in the symbol buffer and its frequency; returns the new symbol count. */
// @ts-ignore: decorator
@inline
function recordLiteral(syms: usize, symCount: u32, lfreq: usize, b: u32): u32 {
  store<u32>(syms + (symCount << 2), b);
  store<u32>(lfreq + (b << 2), load<u32>(lfreq + (b << 2)) + 1);
  return symCount + 1;
}

/** Records a match (`len` bytes, `distance` back) and its codes' frequencies; returns the new symbol count. */
// @ts-ignore: decorator
@inline
function recordMatch(syms: usize, symCount: u32, lfreq: usize, dfreq: usize, len: u32, distance: u32): u32 {
  const d = distance - 1;
  store<u32>(syms + (symCount << 2), (d << 16) | MATCH | (len - 3));
  const code = <u32>load<u8>(LEN_CODE + len - 3);
  store<u32>(lfreq + ((257 + code) << 2), load<u32>(lfreq + ((257 + code) << 2)) + 1);
  const dc = <u32>load<u8>(DIST_CODE + <usize>(d < 256 ? d : <u32>256 + (d >> 7)));
  store<u32>(dfreq + (dc << 2), load<u32>(dfreq + (dc << 2)) + 1);
  return symCount + 1;
}

/** Puts `pos` at the head of its hash chain; returns the position that was there (a candidate). */
// @ts-ignore: decorator
@inline
function insertPosition(src: usize, pos: u32, head: usize, prev: usize, wmask: u32, shift: u32): u32 {
  const h = (load<u32>(src + pos) * 0x9e3779b1) >> shift;
  const cand = load<u32>(head + (h << 2));
  store<u32>(prev + ((pos & wmask) << 2), cand);
  store<u32>(head + (h << 2), pos);
  return cand;
}

/** Puts positions `[from, to)` (those a 4-byte hash can be taken at) into the hash chains. */
// @ts-ignore: decorator
@inline
function chainPositions(src: usize, from: u32, to: u32, head: usize, prev: usize, wmask: u32, shift: u32): void {
  for (let p = from; p < to; p++) insertPosition(src, p, head, prev, wmask, shift);
}

// ---- Matching

/** Distance of the match longestMatch() found last. */
let matchDistance: u32 = 0;

/**
 * The longest match for `pos` longer than `best` along the hash chain from `cand`, within
 * `maxDist`; 0 when there is none. Candidates are verified byte by byte, so a stale or
 * colliding chain entry can cost time, never correctness.
 */
// @ts-ignore: decorator
@inline
function longestMatch(src: usize, pos: u32, end: u32, cand: u32, best: u32, chain: u32, nice: u32, maxDist: u32, prev: usize, wmask: u32): u32 {
  let maxLen = end - pos;
  if (maxLen > MAX_MATCH) maxLen = MAX_MATCH;
  if (best >= maxLen) return 0;
  if (nice > maxLen) nice = maxLen;
  const limit = pos > maxDist ? pos - maxDist : 0;
  const cur = src + pos;
  const first = load<u32>(cur);
  // The 4 bytes ending where a longer match must still agree: the sharpest first test.
  let tailAt: usize = best - 3;
  let tail = load<u32>(cur + tailAt);
  let found: u32 = 0;
  while (cand < pos && cand >= limit) {
    const c = src + cand;
    if (load<u32>(c + tailAt) == tail && load<u32>(c) == first) {
      let len: u32 = MIN_MATCH;
      for (;;) {
        if (len + 8 > maxLen) {
          while (len < maxLen && load<u8>(c + len) == load<u8>(cur + len)) len++;
          break;
        }
        const x = load<u64>(c + len) ^ load<u64>(cur + len);
        if (x != 0) {
          len += <u32>ctz(x) >> 3;
          break;
        }
        len += 8;
      }
      if (len > best) {
        best = len;
        found = len;
        matchDistance = pos - cand;
        if (len >= nice || len >= maxLen) break;
        tailAt = best - 3;
        tail = load<u32>(cur + tailAt);
      }
    }
    if (--chain == 0) break;
    const next = load<u32>(prev + ((cand & wmask) << 2));
    if (next >= cand) break;
    cand = next;
  }
  return found;
}

// ---- Entry point

/**
 * Compresses `src[historyLength, historyLength + length)` into `out` as raw DEFLATE blocks
 * followed by a sync flush (an empty stored block: ... 00 00 FF FF). `src[0, historyLength)` is
 * what the receiver's window holds (the preset dictionary); matches reach back at most
 * `1 << windowBits` bytes (8-15). `level` is zlib's 0-9. `work` must have deflateWorkSize()
 * bytes, `out` room for length + length / 8 + 64 bytes. Returns the bytes written to `out`.
 */
export function deflateRaw(src: usize, historyLength: u32, length: u32, out: usize, work: usize, windowBits: u32, level: i32): i32 {
  if (!tablesReady) initTables();
  outPtr = out;
  bitBuf = 0;
  bitCount = 0;
  const end = historyLength + length;
  if (length > 0) {
    if (level <= 0) {
      writeStored(src, historyLength, end);
    } else {
      if (level > 9) level = 9;
      compressBlocks(src, historyLength, end, work, windowBits, <u32>level);
    }
  }
  // Sync flush: an empty stored block.
  putBits(0, 3);
  alignToByte();
  store<u32>(outPtr, 0xffff0000);
  outPtr += 4;
  return <i32>(outPtr - out);
}

/** Writes `src[start, end)` as stored blocks of at most 65,535 bytes. */
function writeStored(src: usize, start: u32, end: u32): void {
  let at = start;
  while (at < end) {
    const n = end - at < 65535 ? end - at : 65535;
    putBits(0, 3);
    alignToByte();
    store<u16>(outPtr, <u16>n);
    store<u16>(outPtr + 2, <u16>~n);
    memory.copy(outPtr + 4, src + at, n);
    outPtr += 4 + n;
    at += n;
  }
}

function compressBlocks(src: usize, start: u32, end: u32, work: usize, windowBits: u32, level: u32): void {
  const head = work + W_HEAD;
  const prev = work + W_PREV;
  const syms = work + W_SYMS;
  const lfreq = work + W_LFREQ;
  const dfreq = work + W_DFREQ;
  memory.fill(lfreq, 0, 4 * 288);
  memory.fill(dfreq, 0, 4 * 32);

  const wsize: u32 = <u32>1 << (windowBits < 8 ? 8 : windowBits > 15 ? 15 : windowBits);
  const wmask = wsize - 1;
  const maxDist = wsize;
  // A hash table of about half the input's size: clearing it is part of every call.
  let hashBits: u32 = 32 - clz(end | 1) - 1;
  if (hashBits < 10) hashBits = 10;
  if (hashBits > MAX_HASH_BITS) hashBits = MAX_HASH_BITS;
  const shift = 32 - hashBits;
  memory.fill(head, 0, <usize>4 << hashBits);

  const good = <u32>load<u16>(LEVEL_GOOD + (level << 1));
  const lazy = <u32>load<u16>(LEVEL_LAZY + (level << 1));
  const nice = <u32>load<u16>(LEVEL_NICE + (level << 1));
  const chain = <u32>load<u16>(LEVEL_CHAIN + (level << 1));
  // The last position a 4-byte hash can be taken at, plus one.
  const hashEnd: u32 = end >= MIN_MATCH ? end - MIN_MATCH + 1 : 0;

  // The history: every position goes into the chains, none is coded.
  chainPositions(src, 0, start < hashEnd ? start : hashEnd, head, prev, wmask, shift);

  let symCount: u32 = 0;
  let blockStart = start; // the first byte the current block covers
  let covered = start; // the first byte no symbol covers yet
  let pos = start;

  if (level <= 3) {
    // Greedy: take the longest match at each position.
    while (pos < end) {
      let len: u32 = 0;
      if (pos < hashEnd) {
        const cand = insertPosition(src, pos, head, prev, wmask, shift);
        len = longestMatch(src, pos, end, cand, MIN_MATCH - 1, chain, nice, maxDist, prev, wmask);
      }
      if (len >= MIN_MATCH) {
        symCount = recordMatch(syms, symCount, lfreq, dfreq, len, matchDistance);
        const matchEnd = pos + len;
        // Short matches: their positions go into the chains too.
        if (len <= lazy) chainPositions(src, pos + 1, matchEnd < hashEnd ? matchEnd : hashEnd, head, prev, wmask, shift);
        pos = matchEnd;
      } else {
        symCount = recordLiteral(syms, symCount, lfreq, <u32>load<u8>(src + pos));
        pos++;
      }
      covered = pos;
      if (symCount == SYM_CAP) {
        flushBlock(src, blockStart, covered, symCount, work);
        symCount = 0;
        blockStart = covered;
      }
    }
  } else {
    // Lazy: a match is taken only when the next position does not start a longer one.
    let prevLen: u32 = 0;
    let prevDist: u32 = 0;
    let pending = false; // a literal at pos - 1 waits for the decision
    while (pos < end) {
      let len: u32 = 0;
      if (pos < hashEnd) {
        const cand = insertPosition(src, pos, head, prev, wmask, shift);
        if (prevLen < lazy) {
          const best = prevLen >= MIN_MATCH ? prevLen : MIN_MATCH - 1;
          len = longestMatch(src, pos, end, cand, best, prevLen >= good ? (chain >> 2) | 1 : chain, nice, maxDist, prev, wmask);
        }
      }
      if (prevLen >= MIN_MATCH && len <= prevLen) {
        // The match at pos - 1 stands.
        symCount = recordMatch(syms, symCount, lfreq, dfreq, prevLen, prevDist);
        const matchEnd = pos - 1 + prevLen;
        // The positions inside a match go into the chains, but below level 7 only for matches
        // up to the lazy length: a longer match's inner positions are rarely the best later
        // on, and skipping them saves ~15 % of the time for ~1 % of the size (16 KiB JSON).
        if (prevLen <= lazy || level > 6) chainPositions(src, pos + 1, matchEnd < hashEnd ? matchEnd : hashEnd, head, prev, wmask, shift);
        pos = matchEnd;
        covered = pos;
        pending = false;
        prevLen = 0;
      } else {
        if (pending) {
          symCount = recordLiteral(syms, symCount, lfreq, <u32>load<u8>(src + pos - 1));
          covered = pos;
        }
        pending = true;
        prevLen = len;
        prevDist = matchDistance;
        pos++;
      }
      if (symCount >= SYM_CAP - 1) {
        flushBlock(src, blockStart, covered, symCount, work);
        symCount = 0;
        blockStart = covered;
      }
    }
    if (pending) {
      symCount = recordLiteral(syms, symCount, lfreq, <u32>load<u8>(src + pos - 1));
      covered = pos;
    }
  }
  if (symCount > 0) flushBlock(src, blockStart, covered, symCount, work);
}
