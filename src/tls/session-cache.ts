/** ReuseSSLSession: a small bounded server-side cache for TLS 1.2 session IDs (tickets need none). */
export class SessionCache {
  private readonly entries = new Map<string, { data: Buffer; expires: number }>();
  constructor(
    private readonly max: number,
    private readonly lifetimeMs: number,
  ) {}
  set(id: Buffer, data: Buffer): void {
    const key = id.toString('hex');
    this.entries.delete(key);
    this.entries.set(key, { data, expires: Date.now() + this.lifetimeMs });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
  get(id: Buffer): Buffer | null {
    const key = id.toString('hex');
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expires < Date.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.data;
  }
}
