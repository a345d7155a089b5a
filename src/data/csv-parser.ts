import { parseDecimal } from "./decimal.js";

/** One parsed row, valid only during the callback that receives it (it is reused). */
export interface CsvRow {
  /** The 1-based line on which the row starts. */
  readonly line: number;
  /** Number of fields. */
  readonly length: number;
  /** Field i as text, quotes removed and "" unescaped; "" past the row's last field. */
  text(i: number): string;
  /** Field i as Number() reads its text, without building the string; NaN when empty or past the row's last field. */
  number(i: number): number;
  /** Every field as text. */
  fields(): string[];
}

/** Field boundaries of the current row in the parser's buffer. */
class RowView implements CsvRow {
  buffer = "";
  line = 0;
  length = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  quoted = new Uint8Array(64);

  // Past `length`, the offsets are a longer earlier row's: never read them.
  text(i: number): string {
    if (i >= this.length) return "";
    const raw = this.buffer.slice(this.starts[i], this.ends[i]);
    return this.quoted[i] ? raw.replace(/""/g, '"') : raw;
  }

  number(i: number): number {
    if (i >= this.length) return NaN;
    return parseDecimal(this.buffer, this.starts[i], this.ends[i]);
  }

  fields(): string[] {
    return Array.from({ length: this.length }, (_, i) => this.text(i));
  }

  push(start: number, end: number, quoted: boolean): void {
    if (this.length === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      this.quoted = grow(this.quoted);
    }
    this.starts[this.length] = start;
    this.ends[this.length] = end;
    this.quoted[this.length++] = quoted ? 1 : 0;
  }
}

/** What `forEachCsvRow` feeds: text in chunks, then the end. */
export interface TableParser {
  push(chunk: string): void;
  end(): void;
}

/**
 * A streaming RFC 4180 CSV parser: quoted fields (with "" for a quote and newlines inside),
 * CRLF or LF line ends, blank lines skipped. Feed text with `push`, finish with `end`. Rows are
 * handed over as views into the text (no string per field unless asked for), each with the
 * 1-based line on which it starts.
 */
export class CsvParser implements TableParser {
  private pending = "";
  private line = 1;
  private readonly row = new RowView();
  /** Line ends inside the row parseRow last completed (its own and any in quoted fields). */
  private newlines = 0;
  /** Position of the next CR in the current buffer at or after the last search; −1: there is none. */
  private nextCr = -2;

  constructor(
    private readonly onRow: (row: CsvRow) => void,
    private readonly onError: (line: number, message: string) => never,
    private readonly delimiter = ",",
  ) {}

  push(chunk: string): void {
    this.pending += chunk;
    this.parse(false);
  }

  end(): void {
    this.parse(true);
  }

  private parse(final: boolean): void {
    const text = this.pending,
      n = text.length,
      row = this.row;
    row.buffer = text;
    this.nextCr = -2; // unknown for this buffer
    let p = 0;
    while (p < n) {
      const end = this.parseRow(text, p, final);
      if (end < 0) break; // the row continues in the next chunk
      p = end;
      const blank = row.length === 1 && row.ends[0] === row.starts[0] && !row.quoted[0];
      row.line = this.line;
      if (!blank) this.onRow(row);
      this.line += this.newlines;
    }
    this.pending = text.slice(p);
  }

  /** Parse the row starting at `p` into the view; its end, or −1 when the text ends first (and more may come). */
  private parseRow(text: string, p: number, final: boolean): number {
    const n = text.length,
      delimiter = this.delimiter.charCodeAt(0),
      row = this.row;
    row.length = 0;
    let newlines = 0;
    // Unquoted fields are found with indexOf (native, fast) up to the end of the line: the first
    // LF or CR (a lone CR also ends a line), found once per line, not per field.
    let lineEnd = this.lineEnd(text, p);
    for (;;) {
      if (text.charCodeAt(p) === 34) {
        const close = this.closingQuote(text, p, final);
        if (close < 0) return -1;
        row.push(p + 1, close, true);
        for (let i = p; i < close; i++) if (text.charCodeAt(i) === 10) newlines++;
        p = close + 1;
        if (p > lineEnd) lineEnd = this.lineEnd(text, p);
        const c = text.charCodeAt(p);
        if (p < n && c !== delimiter && c !== 10 && c !== 13) {
          this.onError(this.line + newlines, `expected a delimiter after a closing quote, found ${JSON.stringify(text[p])}`);
        }
      } else {
        let q = text.indexOf(this.delimiter, p);
        if (q < 0 || q > lineEnd) q = lineEnd;
        row.push(p, q, false);
        p = q;
      }
      if (p >= n) {
        if (!final) return -1;
        this.newlines = newlines;
        return p;
      }
      const c = text.charCodeAt(p);
      if (c === delimiter) {
        p++;
        if (p >= n) {
          if (!final) return -1;
          row.push(p, p, false);
          this.newlines = newlines;
          return p;
        }
        continue;
      }
      if (c === 13) {
        if (p + 1 >= n && !final) return -1; // a "\n" may follow in the next chunk
        p += text.charCodeAt(p + 1) === 10 ? 2 : 1;
      } else p++;
      this.newlines = newlines + 1;
      return p;
    }
  }

  /**
   * Index of the first LF or CR at or after `p` (the text's length if none). The next CR is
   * remembered, so files without CRs are searched for one once per buffer, not once per line.
   */
  private lineEnd(text: string, p: number): number {
    let lf = text.indexOf("\n", p);
    if (lf < 0) lf = text.length;
    if (this.nextCr < p && this.nextCr !== -1) this.nextCr = text.indexOf("\r", p);
    return this.nextCr >= p && this.nextCr < lf ? this.nextCr : lf;
  }

  /** Index of the quote closing the field opened at `p`, or −1 when it is not in the text yet. */
  private closingQuote(text: string, p: number, final: boolean): number {
    const n = text.length;
    let q = p + 1;
    for (;;) {
      const close = text.indexOf('"', q);
      if (close < 0 || (close + 1 >= n && !final)) {
        // Not closed yet, or a closing quote that might be the first half of "" in the next chunk.
        if (final) this.onError(this.line, "a quoted field is not closed before the end of the file");
        return -1;
      }
      if (text.charCodeAt(close + 1) === 34) {
        q = close + 2;
        continue;
      }
      return close;
    }
  }
}

/**
 * Rows of fields separated by runs of spaces or tabs (the layout of many UCI .data files):
 * leading and trailing blanks are ignored, there is no quoting, blank lines are skipped.
 */
export class WhitespaceParser implements TableParser {
  private pending = "";
  private line = 0;
  private readonly row = new RowView();

  constructor(private readonly onRow: (row: CsvRow) => void) {}

  push(chunk: string): void {
    this.pending += chunk;
    const last = this.pending.lastIndexOf("\n");
    if (last < 0) return;
    this.parseLines(this.pending.slice(0, last + 1));
    this.pending = this.pending.slice(last + 1);
  }

  end(): void {
    if (this.pending !== "") this.parseLines(this.pending);
    this.pending = "";
  }

  /** Whole lines; a line end may be LF or CRLF (the CR is a blank). */
  private parseLines(text: string): void {
    const row = this.row,
      n = text.length;
    row.buffer = text;
    let p = 0;
    while (p < n) {
      let end = text.indexOf("\n", p);
      if (end < 0) end = n;
      this.line++;
      row.length = 0;
      let i = p;
      for (;;) {
        while (i < end && isBlank(text.charCodeAt(i))) i++;
        if (i >= end) break;
        const start = i;
        while (i < end && !isBlank(text.charCodeAt(i))) i++;
        row.push(start, i, false);
      }
      if (row.length > 0) {
        row.line = this.line;
        this.onRow(row);
      }
      p = end + 1;
    }
  }
}

const isBlank = (c: number) => c === 32 || c === 9 || c === 13;
