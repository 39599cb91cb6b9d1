/**
 * The compiled AssemblyScript module (`build/wsworks.wasm`) and the regions of its linear
 * memory that the TypeScript side manages.
 *
 * The module has the stub runtime and no allocator in use: every kernel works on pointers
 * this file hands out. One instance serves the whole thread. Codecs are synchronous, so a
 * decode call has the regions to itself from start to finish; nothing survives between calls
 * except what a codec copies out (its state block fields, a partial header).
 *
 * ```
 * heapBase ─► state block │ UTF-8 state │ close scratch │ descriptor table │ aux │ carry room │ window ...
 * ```
 * The window (where a chunk is decoded) grows with `memory.grow` up to {@link MAX_WINDOW};
 * a larger chunk is decoded in several windows, so memory stays bounded.
 */

import { readFileSync } from 'node:fs';
import { ENTRY_SIZE, STATE_SIZE } from './wasm-layout.js';

/** What this file needs of a `WebAssembly.Memory` (the project's `lib` has no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

/** The kernels `assembly/index.ts` exports (pointers and sizes are byte offsets in linear memory). */
export interface WasmKernels {
  readonly memory: WasmMemory;
  heapBase(): number;
  unmask(ptr: number, len: number, mask: number, maskOffset: number): void;
  utf8Validate(ptr: number, len: number, statePtr: number): number;
  utf8Piece(ptr: number, len: number, statePtr: number, deferFrom: number): number;
  decodeFrames(state: number, table: number, capacity: number, start: number, end: number, after: number): number;
  checkClosePayload(ptr: number, len: number, scratch: number): number;
  writeFrameHeader(ptr: number, b0: number, length: number): number;
  writeFrameHeaders(requests: number, count: number, out: number): number;
  /** See assembly/deflate.ts. */
  deflateWorkSize(): number;
  deflateRaw(src: number, historyLength: number, length: number, out: number, work: number, windowBits: number, level: number): number;
  /** See assembly/inflate.ts. */
  inflateRaw(src: number, length: number, out: number, historyLength: number, limit: number, work: number, windowBits: number): number;
  /** See assembly/inflate.ts: the next piece of a message, from the state at `work`. */
  inflatePiece(src: number, length: number, out: number, historyLength: number, room: number, work: number, windowBits: number): number;
  /** Bytes of scratch the inflate kernels need at `work`. */
  inflateWorkSize(): number;
}

/** Where the module is: `build/` of the package, two levels above `dist/engine/` (and `src/engine/`). */
export const WASM_URL = new URL('../../build/wsworks.wasm', import.meta.url);

/** Descriptor table entries per `decodeFrames` call (a fuller chunk takes several calls). */
export const TABLE_CAPACITY = 2048;
/** The aux region: close payloads, and inflated text copied in for validation, in slices of this size. */
export const AUX_SIZE = 64 * 1024;
/** Room before the window for the bytes of a header that began in the previous chunk (at most 13). */
export const CARRY_ROOM = 16;
/** The window a chunk is first decoded in; it grows for larger chunks... */
export const INITIAL_WINDOW = 64 * 1024;
/** ...up to this. Chunks above it are decoded in windows of this size. */
export const MAX_WINDOW = 256 * 1024;

const PAGE = 64 * 1024;
/** Chunk lengths below this get a cached view of the window (see `windowView`). */
const WINDOW_VIEW_CACHE = 2048;

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** The module instance, its memory regions, and views of its memory (renewed when it grows). */
export class WasmRuntime {
  readonly kernels: WasmKernels;
  readonly memory: WasmMemory;
  /** The state block of the connection being decoded (`STATE_SIZE` bytes). */
  readonly state: number;
  /** 16 bytes: the UTF-8 state of a standalone `utf8Piece` call, then its head and tail. */
  readonly utf8State: number;
  /** 16 bytes the close payload check may use. */
  readonly closeScratch: number;
  /** The descriptor table, {@link TABLE_CAPACITY} entries. */
  readonly table: number;
  /** {@link AUX_SIZE} bytes for data copied in outside a chunk. */
  readonly aux: number;
  /** The window: a chunk (or a window of it) is copied here, after up to {@link CARRY_ROOM} carried header bytes. */
  readonly window: number;
  /** Bytes the window holds now. */
  windowCapacity: number;

  u8!: Uint8Array;
  i32!: Int32Array;
  f64!: Float64Array;

  constructor(kernels: WasmKernels) {
    this.kernels = kernels;
    this.memory = kernels.memory;
    let at = align(kernels.heapBase(), 16);
    this.state = at;
    at += STATE_SIZE;
    this.utf8State = at;
    at += 16;
    this.closeScratch = at;
    at += 16;
    this.table = at;
    at += TABLE_CAPACITY * ENTRY_SIZE;
    this.aux = at;
    at += AUX_SIZE;
    this.window = at + CARRY_ROOM;
    this.windowCapacity = 0;
    this.reserve(this.window + INITIAL_WINDOW);
    this.windowCapacity = INITIAL_WINDOW;
  }

  /**
   * Makes the window hold at least `bytes` (up to {@link MAX_WINDOW}); returns its capacity.
   * Growth renews the views: code must not keep them across this call.
   */
  ensureWindow(bytes: number): number {
    if (bytes <= this.windowCapacity || this.windowCapacity >= MAX_WINDOW) return this.windowCapacity;
    let capacity = this.windowCapacity;
    while (capacity < bytes && capacity < MAX_WINDOW) capacity *= 2;
    capacity = Math.min(capacity, MAX_WINDOW);
    this.reserve(this.window + capacity);
    this.windowCapacity = capacity;
    return capacity;
  }

  /**
   * A view of the first `length` bytes of the window: cached for short lengths, so that
   * copying a small chunk back out allocates nothing (a view costs ~25 ns, the copy less).
   */
  windowView(length: number): Uint8Array {
    if (length >= WINDOW_VIEW_CACHE) return new Uint8Array(this.memory.buffer, this.window, length);
    let view = this.windowViews[length];
    if (view === undefined) view = this.windowViews[length] = new Uint8Array(this.memory.buffer, this.window, length);
    return view;
  }

  private windowViews: Array<Uint8Array | undefined> = [];

  private reserve(end: number): void {
    const pages = Math.ceil(end / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages > have) this.memory.grow(pages - have);
    const ab = this.memory.buffer;
    this.u8 = new Uint8Array(ab);
    this.i32 = new Int32Array(ab);
    this.f64 = new Float64Array(ab);
    this.windowViews = [];
  }
}

/** Compiles and instantiates the module synchronously (it is a few KiB, and there are no imports). */
export function instantiateKernels(bytes: Uint8Array = readFileSync(WASM_URL)): WasmKernels {
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, {});
  return instance.exports as unknown as WasmKernels;
}

/**
 * A new instance of the module, for `user` (named in the error).
 *
 * @throws Error when `build/wsworks.wasm` is missing (run `npm run build:wasm`) or this Node
 *   lacks WebAssembly SIMD
 */
export function loadKernels(user: string): WasmKernels {
  try {
    return instantiateKernels();
  } catch (cause) {
    throw new Error(`${user} cannot load ${WASM_URL.pathname} (run \`npm run build:wasm\`): ${(cause as Error).message}`, { cause });
  }
}

let runtime: WasmRuntime | null = null;

/** The thread's module and memory regions, loaded on first use (throws as {@link loadKernels}). */
export function wasmRuntime(): WasmRuntime {
  return (runtime ??= new WasmRuntime(loadKernels('The wasm engine')));
}
