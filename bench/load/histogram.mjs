// A latency histogram cheap enough to record every message: values in microseconds, exact below
// 1024 µs, then 64 buckets per power of two (≤ 1.6 % relative error) up to about 1,100 s.
// Histograms from several generator processes merge by adding their counts.

const LINEAR = 1024;
const SUB = 64;
const OCTAVES = 20;
const SIZE = LINEAR + SUB * OCTAVES;

function bucketOf(us) {
  if (us < LINEAR) return us < 0 ? 0 : Math.floor(us);
  const octave = Math.floor(Math.log2(us / LINEAR));
  if (octave >= OCTAVES) return SIZE - 1;
  const lo = LINEAR * 2 ** octave;
  return LINEAR + octave * SUB + Math.floor(((us - lo) / lo) * SUB);
}

function valueOf(bucket) {
  if (bucket < LINEAR) return bucket + 0.5;
  const octave = Math.floor((bucket - LINEAR) / SUB);
  const sub = (bucket - LINEAR) % SUB;
  const lo = LINEAR * 2 ** octave;
  return lo + ((sub + 0.5) / SUB) * lo;
}

export class Histogram {
  constructor() {
    this.counts = new Float64Array(SIZE);
    this.total = 0;
    this.sum = 0;
  }

  record(us) {
    this.counts[bucketOf(us)]++;
    this.total++;
    this.sum += us;
  }

  reset() {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
  }

  /** Sparse form for IPC: { sum, buckets: [[bucket, count], ...] }. */
  toJSON() {
    const buckets = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i]) buckets.push([i, this.counts[i]]);
    return { sum: this.sum, buckets };
  }

  add({ sum, buckets }) {
    this.sum += sum;
    for (const [i, n] of buckets) {
      this.counts[i] += n;
      this.total += n;
    }
  }

  mean() {
    return this.total ? this.sum / this.total : null;
  }

  /** The value (µs) at quantile q (0..1), or null when empty. */
  quantile(q) {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return valueOf(i);
    }
    return valueOf(SIZE - 1);
  }
}
