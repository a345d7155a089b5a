import { deflateSync } from "node:zlib";

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * A PNG of interleaved samples: 1 grey, 2 grey+alpha, 3 RGB or 4 RGBA channels, 8 or 16 bits
 * (16-bit samples given as numbers 0–65535), without filtering. Small and exact: the labelling
 * service draws pixel items with it, and tests write images whose every byte they know.
 */
export function encodePng(width: number, height: number, channels: 1 | 2 | 3 | 4, samples: ArrayLike<number>, bitDepth: 8 | 16 = 8): Buffer {
  const colorType = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const bytesPerSample = bitDepth / 8,
    stride = width * channels * bytesPerSample;
  const raw = Buffer.alloc(height * (1 + stride));
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * channels; i++) {
      const v = samples[y * width * channels + i],
        o = y * (1 + stride) + 1 + i * bytesPerSample;
      if (bitDepth === 8) raw[o] = v;
      else raw.writeUInt16BE(v, o);
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
