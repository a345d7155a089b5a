import { closeSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { UserError } from "../../errors.js";

/** What a file's header says: its size and how its pixels are stored. */
export interface ImageHeader {
  format: "jpeg" | "png";
  width: number;
  height: number;
  /** Colour channels without alpha: 1 (grey) or 3 (colour). */
  colors: 1 | 3;
  /** Whether the pixels carry alpha (dropped when loading). */
  alpha: boolean;
  /** Bits per channel as stored (PNG may use 16; JPEG is 8). */
  bitDepth: number;
}

/** Decoded pixels, interleaved (HWC), 8 bits per channel; `channels` counts alpha. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  pixels: Uint8Array;
}

/** A decoding failure that names no file yet (the caller knows which file it was). */
export class ImageDecodeError extends Error {}

/** The header of a JPEG or PNG held in `bytes` (which may be only the start of the file). */
export function parseImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length >= 26 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") return undefined;
    const colorType = bytes[25];
    // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
    const colors = colorType === 0 || colorType === 4 ? 1 : 3;
    return { format: "png", width: view.getUint32(16), height: view.getUint32(20), colors, alpha: colorType === 4 || colorType === 6, bitDepth: bytes[24] };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let p = 2;
    while (p + 4 <= bytes.length) {
      if (bytes[p] !== 0xff) return undefined;
      const marker = bytes[p + 1];
      if (marker === 0xff) {
        p++; // fill byte
        continue;
      }
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2;
        continue;
      }
      const length = (bytes[p + 2] << 8) | bytes[p + 3];
      // Start of frame: every SOFn except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (p + 10 > bytes.length) return undefined;
        const height = (bytes[p + 5] << 8) | bytes[p + 6],
          width = (bytes[p + 7] << 8) | bytes[p + 8],
          components = bytes[p + 9];
        return { format: "jpeg", width, height, colors: components === 1 ? 1 : 3, alpha: false, bitDepth: bytes[p + 4] };
      }
      p += 2 + length;
    }
  }
  return undefined;
}

/** Reused between calls: headers are read for every file of a folder, and most fit in 4 KB. */
let headerBuffer = Buffer.alloc(4096);

/** The header of an image file, reading only its start (a JPEG's frame header may follow 64 KB of EXIF). */
export function readImageHeader(file: string): ImageHeader {
  const fd = openSync(file, "r");
  try {
    for (;;) {
      const got = readSync(fd, headerBuffer, 0, headerBuffer.length, 0);
      const header = parseImageHeader(headerBuffer.subarray(0, got));
      if (header) return header;
      if (got < headerBuffer.length) throw new ImageDecodeError("not a readable JPEG or PNG image (no image header found)");
      headerBuffer = Buffer.alloc(headerBuffer.length * 4);
    }
  } finally {
    closeSync(fd);
  }
}

interface NapiTransformer {
  rawPixelsSync(): Buffer;
}
let Transformer: (new (input: Uint8Array) => NapiTransformer) | undefined;

/** @napi-rs/image, loaded on first use so that commands without images never load it. */
function transformer(): new (input: Uint8Array) => NapiTransformer {
  if (!Transformer) {
    try {
      Transformer = (createRequire(import.meta.url)("@napi-rs/image") as { Transformer: typeof Transformer }).Transformer;
    } catch (e) {
      throw new UserError(
        `the image decoder @napi-rs/image could not be loaded (${(e as Error).message.split("\n")[0]}); reinstall alfamix with npm so that its prebuilt binary for ${process.platform}-${process.arch} is installed`,
      );
    }
  }
  return Transformer!;
}

/**
 * Decode a JPEG or PNG to 8-bit interleaved pixels. 16-bit PNGs are scaled to 8 bits
 * (round(v / 257)). Throws ImageDecodeError for anything that is not a whole, readable image.
 */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  const header = parseImageHeader(bytes);
  if (!header) throw new ImageDecodeError("not a readable JPEG or PNG image (no image header found)");
  if (header.width === 0 || header.height === 0) throw new ImageDecodeError(`the image is empty (${header.width}×${header.height})`);
  let raw: Buffer;
  try {
    raw = new (transformer())(bytes).rawPixelsSync();
  } catch (e) {
    throw new ImageDecodeError(`not a readable ${header.format === "png" ? "PNG" : "JPEG"} image (${(e as Error).message.split("\n")[0]})`);
  }
  // The decoder keeps 16-bit PNGs at 16 bits and may add alpha (a palette with transparency):
  // tell the layout from the header and the byte count.
  const pixels = header.width * header.height;
  const stored = header.colors + (header.alpha ? 1 : 0);
  const bytesPerChannel = header.bitDepth === 16 && raw.length === pixels * stored * 2 ? 2 : 1;
  const channels = raw.length / (pixels * bytesPerChannel);
  if (!(channels === 1 || channels === 2 || channels === 3 || channels === 4)) {
    throw new ImageDecodeError(`unsupported pixel format (${raw.length} bytes for ${header.width}×${header.height} pixels at ${header.bitDepth} bits)`);
  }
  if (bytesPerChannel === 1) return { width: header.width, height: header.height, channels, pixels: new Uint8Array(raw.buffer, raw.byteOffset, raw.length) };
  const wide = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)); // native endian, as the decoder gives it
  const narrow = new Uint8Array(wide.length);
  for (let i = 0; i < wide.length; i++) narrow[i] = Math.round(wide[i] / 257);
  return { width: header.width, height: header.height, channels, pixels: narrow };
}
