/**
 * Generated, deterministic test data for permessage-deflate: JSON and HTML text (with
 * multi-byte characters), prose, a bitmap and PDF-like, mostly incompressible bytes.
 */
import { prng } from './deflate.js';


const WORDS = [
  'der', 'die', 'und', 'nicht', 'Faust', 'Geist', 'Welt', 'Nacht', 'Grüße', 'schön', 'über', 'Mädchen',
  'Straße', 'Blümchen', 'heiß', 'ewig', 'Wolke', 'Stern', 'fühlen', 'Herz', 'naïve', 'café', 'Ελλάδα',
  'κόσμε', 'Москва', '東京', 'データ', '한국어', 'ünïcödé', 'alpha', 'beta', 'gamma', 'delta', 'value',
];

function words(rand: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]!);
  return out.join(' ');
}

export function jsonText(size: number, seed = 1): string {
  const rand = prng(seed);
  const records: string[] = [];
  let length = 0;
  for (let id = 0; length < size; id++) {
    const rec = JSON.stringify({
      id,
      name: words(rand, 2),
      active: rand() < 0.5,
      score: Math.round(rand() * 1e6) / 100,
      tags: [words(rand, 1), words(rand, 1)],
      address: { street: words(rand, 2), zip: String(Math.floor(rand() * 99999)).padStart(5, '0') },
      note: words(rand, 3 + Math.floor(rand() * 12)),
    });
    records.push(rec);
    length += rec.length + 2;
  }
  return `[\n${records.join(',\n')}\n]`;
}

export function htmlText(size: number): string {
  const rand = prng(2);
  const parts: string[] = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>Testdaten</title></head><body>'];
  let length = 0;
  while (length < size) {
    const p = `<div class="row r${Math.floor(rand() * 8)}"><h2>${words(rand, 3)}</h2><p>${words(rand, 20 + Math.floor(rand() * 30))}</p><a href="/item/${Math.floor(rand() * 1e5)}">${words(rand, 2)}</a></div>\n`;
    parts.push(p);
    length += p.length;
  }
  parts.push('</body></html>');
  return parts.join('');
}

export function prose(size: number): Buffer {
  const rand = prng(3);
  const lines: string[] = [];
  let length = 0;
  while (length < size) {
    const line = `${words(rand, 5 + Math.floor(rand() * 10))}.\r\n`;
    lines.push(line[0]!.toUpperCase() + line.slice(1));
    length += Buffer.byteLength(line);
  }
  return Buffer.from(lines.join(''));
}

export function bitmap(): Buffer {
  const rand = prng(4);
  const w = 512;
  const h = 512;
  const header = Buffer.alloc(54 + 1024);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(header.length + w * h, 2);
  header.writeUInt32LE(header.length, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(w, 18);
  header.writeInt32LE(h, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(8, 28);
  for (let i = 0; i < 256; i++) header.writeUInt32LE(i * 0x010101, 54 + i * 4);
  const pixels = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = 128 + 50 * Math.sin(x / 37) + 40 * Math.cos(y / 23) + 20 * Math.sin((x + y) / 11) + (rand() - 0.5) * 24;
      pixels[y * w + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return Buffer.concat([header, pixels]);
}

export function pdfLike(size: number): Buffer {
  const rand = prng(5);
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = 0;
  for (let obj = 1; length < size; obj++) {
    const streamLen = 500 + Math.floor(rand() * 4000);
    const stream = Buffer.alloc(streamLen);
    for (let i = 0; i < streamLen; i++) stream[i] = Math.floor(rand() * 256); // already-compressed content
    const head = Buffer.from(`${obj} 0 obj\n<< /Length ${streamLen} /Filter /FlateDecode >>\nstream\n`, 'latin1');
    const tail = Buffer.from('\nendstream\nendobj\n', 'latin1');
    parts.push(head, stream, tail);
    length += head.length + streamLen + tail.length;
  }
  return Buffer.concat(parts);
}

/**
 * Deterministic UTF-8 text of at least `length` bytes (it stops at the first character that
 * reaches it): ASCII, 2-, 3- and 4-byte characters mixed as `weights` say, never a surrogate.
 */
export function utf8Text(seed: number, length: number, weights: readonly number[] = [4, 2, 2, 1]): Buffer {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
  const total = weights.reduce((a, b) => a + b, 0);
  const parts: string[] = [];
  let bytes = 0;
  while (bytes < length) {
    let r = next() * total;
    let kind = 0;
    while (r >= weights[kind]!) r -= weights[kind++]!;
    let cp: number;
    if (kind === 0) cp = 0x20 + Math.floor(next() * 0x5f);
    else if (kind === 1) cp = 0x80 + Math.floor(next() * 0x780);
    else if (kind === 2) {
      cp = 0x800 + Math.floor(next() * 0xf800);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x4e00;
    } else cp = 0x10000 + Math.floor(next() * 0x100000);
    const ch = String.fromCodePoint(cp);
    parts.push(ch);
    bytes += Buffer.byteLength(ch);
  }
  return Buffer.from(parts.join(''));
}

