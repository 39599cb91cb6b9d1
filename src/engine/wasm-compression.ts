/**
 * The WASM instance permessage-deflate runs on: a second instance of `build/wsworks.wasm`,
 * with linear memory of its own.
 *
 * Compressing and inflating need regions sized by the message (a 16 MiB message needs 16 MiB
 * of input), so this memory grows often; the frame decoder keeps views of its own instance's
 * memory across a decode pass, which a growth would detach. Two instances keep the two apart.
 *
 * Calls are synchronous and never overlap, so every call lays out its regions from
 * {@link CompressionRuntime.base} afresh: nothing lives in this memory between calls.
 */

import { loadKernels, type WasmKernels, type WasmMemory } from './wasm-module.js';

const PAGE = 64 * 1024;

/** The compression instance and a view of its memory (renewed when it grows). */
export class CompressionRuntime {
  readonly kernels: WasmKernels;
  readonly memory: WasmMemory;
  /** The first free byte (16-aligned): regions of a call start here. */
  readonly base: number;
  u8: Uint8Array;

  constructor(kernels: WasmKernels) {
    this.kernels = kernels;
    this.memory = kernels.memory;
    this.base = Math.ceil(kernels.heapBase() / 16) * 16;
    this.u8 = new Uint8Array(this.memory.buffer);
  }

  /**
   * Makes memory cover `base + bytes`. Growth renews {@link u8}: read it after this call,
   * never keep it across one.
   */
  reserve(bytes: number): void {
    const pages = Math.ceil((this.base + bytes) / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages > have) {
      this.memory.grow(pages - have);
      this.u8 = new Uint8Array(this.memory.buffer);
    }
  }
}

let runtime: CompressionRuntime | null = null;

/** The thread's compression instance, loaded on first use (throws as `loadKernels` does). */
export function compressionRuntime(): CompressionRuntime {
  return (runtime ??= new CompressionRuntime(loadKernels('permessage-deflate')));
}
