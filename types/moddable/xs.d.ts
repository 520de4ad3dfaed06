// The XS engine's own global declarations as the Moddable SDK declares them (xs/includes/xs.d.ts),
// only what the firmware uses.

declare class HostBuffer {
  readonly byteLength: number;
  private brand: boolean;
}

/**
 * What XS IO accepts as bytes. The SDK spells it by adding HostBuffer to the lib's
 * ArrayBufferTypes; the same set is written out here so that the host-side code type-checked with
 * these declarations keeps the lib's ArrayBufferLike.
 */
type ByteBuffer = ArrayBuffer | SharedArrayBuffer | HostBuffer | Uint8Array | Uint8ClampedArray | Int8Array | DataView;
