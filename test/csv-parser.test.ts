import { test } from "node:test";
import assert from "node:assert/strict";
import { CsvParser } from "../src/data/csv-parser.js";

/** Rows as [line, ...fields], the text pushed in chunks of `size` characters. */
function parse(text: string, size: number, delimiter = ","): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const parser = new CsvParser(
    (row) => rows.push([row.line, ...row.fields()]),
    (line, message) => {
      throw new Error(`${line}: ${message}`);
    },
    delimiter,
  );
  for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
  parser.end();
  return rows;
}

test("quoted fields, escaped quotes, newlines in quotes, CRLF, lone CR, blank lines and a missing final newline, in any chunking", () => {
  const text = 'a,b,"c ""q"" d"\r\n1,2,"multi\nline"\n\n3,,4\n"x",y,\n5,6,7\r8,9,10';
  const expected = [
    [1, "a", "b", 'c "q" d'],
    [2, "1", "2", "multi\nline"],
    [5, "3", "", "4"],
    [6, "x", "y", ""],
    [7, "5", "6", "7"],
    [8, "8", "9", "10"],
  ];
  for (const size of [1, 2, 3, 5, 7, 100, 1000]) assert.deepEqual(parse(text, size), expected, `chunks of ${size}`);
  assert.deepEqual(parse("p\tq\n1\t2\n", 3, "\t"), [
    [1, "p", "q"],
    [2, "1", "2"],
  ]);
});

test("numbers are read from the text directly and agree with the text", () => {
  const values: number[] = [];
  const parser = new CsvParser(
    (row) => {
      for (let i = 0; i < row.length; i++) values.push(row.number(i));
    },
    () => {
      throw new Error("no error expected");
    },
  );
  parser.push(' 1.5 ,"2",-3e-2,,x\n');
  parser.end();
  assert.deepEqual(values, [1.5, 2, -0.03, NaN, NaN]);
});

test("malformed quoting is reported with its line", () => {
  assert.throws(() => parse('a\n"open\n', 4), /^Error: 2: a quoted field is not closed/);
  assert.throws(() => parse('"a"b,c\n', 4), /^Error: 1: expected a delimiter after a closing quote, found "b"/);
});

test("a short row never shows a longer earlier row's fields: past its end a field is empty", () => {
  const seen: string[][] = [];
  const parser = new CsvParser(
    (row) => seen.push([row.text(0), row.text(1), row.text(2), String(row.number(2))]),
    (line, message) => {
      throw new Error(`${line}: ${message}`);
    },
  );
  parser.push("a,b,3\nshort\n");
  parser.end();
  assert.deepEqual(seen, [
    ["a", "b", "3", "3"],
    ["short", "", "", "NaN"],
  ]);
});
