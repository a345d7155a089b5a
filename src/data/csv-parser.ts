/**
 * A streaming RFC 4180 CSV parser: quoted fields (with "" for a quote and newlines inside),
 * CRLF or LF line ends, blank lines skipped. Feed text with `push`, finish with `end`; each row
 * arrives with the 1-based line on which it starts.
 */
export class CsvParser {
  private pending = "";
  private line = 1;

  constructor(
    private readonly onRow: (fields: string[], line: number) => void,
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
    const text = this.pending, n = text.length;
    let p = 0;
    while (p < n) {
      const row = this.parseRow(text, p, final);
      if (!row) break; // the row continues in the next chunk
      p = row.end;
      const blank = row.fields.length === 1 && row.fields[0] === "";
      if (!blank) this.onRow(row.fields, this.line);
      this.line += row.newlines;
    }
    this.pending = text.slice(p);
  }

  /** One row starting at `p`, or undefined when the text ends before the row does (and more may come). */
  private parseRow(text: string, p: number, final: boolean): { fields: string[]; end: number; newlines: number } | undefined {
    const n = text.length, delimiter = this.delimiter;
    const fields: string[] = [];
    let newlines = 0;
    for (;;) {
      if (text[p] === '"') {
        const quoted = this.parseQuoted(text, p, final);
        if (!quoted) return undefined;
        fields.push(quoted.value);
        for (let i = p; i < quoted.end; i++) if (text.charCodeAt(i) === 10) newlines++;
        p = quoted.end;
        if (p < n && text[p] !== delimiter && text[p] !== "\n" && text[p] !== "\r") {
          this.onError(this.line + newlines, `expected a delimiter after a closing quote, found ${JSON.stringify(text[p])}`);
        }
      } else {
        let q = p;
        while (q < n) {
          const c = text[q];
          if (c === delimiter || c === "\n" || c === "\r") break;
          q++;
        }
        fields.push(text.slice(p, q));
        p = q;
      }
      if (p >= n) return final ? { fields, end: p, newlines } : undefined;
      const c = text[p];
      if (c === delimiter) {
        p++;
        if (p >= n) {
          if (!final) return undefined;
          fields.push("");
          return { fields, end: p, newlines };
        }
        continue;
      }
      if (c === "\r") {
        if (p + 1 >= n && !final) return undefined; // a "\n" may follow in the next chunk
        p += text[p + 1] === "\n" ? 2 : 1;
      } else p++;
      return { fields, end: p, newlines: newlines + 1 };
    }
  }

  private parseQuoted(text: string, p: number, final: boolean): { value: string; end: number } | undefined {
    const n = text.length;
    let q = p + 1, value = "";
    for (;;) {
      const close = text.indexOf('"', q);
      if (close < 0 || (close + 1 >= n && !final)) {
        // Not closed yet, or a closing quote that might be the first half of "" in the next chunk.
        if (final) this.onError(this.line, "a quoted field is not closed before the end of the file");
        return undefined;
      }
      value += text.slice(q, close);
      if (text[close + 1] === '"') {
        value += '"';
        q = close + 2;
        continue;
      }
      return { value, end: close + 1 };
    }
  }
}
