import { matrix, type Matrix } from "../linalg/matrix.js";

const ROWS_PER_BLOCK = 16384;

/**
 * Rows of unknown count gathered in fixed blocks and joined once at the end, so reading a big
 * file peaks at about twice its float32 size instead of re-growing one array.
 */
export class RowBlocks {
  private readonly blocks: Float32Array[] = [];
  private block = new Float32Array(0);
  private inBlock = 0;
  rows = 0;

  constructor(readonly width: number) {}

  /** The next row's storage, to be filled with `width` values by the caller. */
  next(): { data: Float32Array; offset: number } {
    if (this.inBlock === ROWS_PER_BLOCK || this.block.length === 0) {
      if (this.block.length) this.blocks.push(this.block);
      this.block = new Float32Array(ROWS_PER_BLOCK * this.width);
      this.inBlock = 0;
    }
    const offset = this.inBlock * this.width;
    this.inBlock++;
    this.rows++;
    return { data: this.block, offset };
  }

  toMatrix(): Matrix {
    const out = matrix(this.rows, this.width);
    let offset = 0;
    for (const b of [...this.blocks, this.block.subarray(0, this.inBlock * this.width)]) {
      out.data.set(b, offset);
      offset += b.length;
    }
    return out;
  }
}
