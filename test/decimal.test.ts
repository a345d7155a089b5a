import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/random.js";
import { parseDecimal } from "../src/data/decimal.js";

/** What Number() makes of a CSV field, empty meaning missing. */
const literal = (t: string) => (t.trim() === "" ? NaN : Number(t));

test("the fast decimal parser agrees with Number() on every kind of field", () => {
  const fixed = [
    "0",
    "-0",
    "+3",
    "007",
    "1.",
    ".5",
    "-.25",
    "1e5",
    "1E-5",
    "2.5e+3",
    "  4.75 ",
    "\t-1\t",
    "1e",
    "e5",
    "-",
    ".",
    "",
    " ",
    "Infinity",
    "-Infinity",
    "NaN",
    "nan",
    "0x1A",
    "1_0",
    "1..2",
    "1e5.5",
    "3 4",
    "123456789012345",
    "1234567890123456789",
    "0.000000000000000000000000001",
    "1e-30",
    "1e30",
    "9007199254740993",
    "0.1",
    "0.3",
    "-12.34e-7",
    "\u00a0",
    "1\u00a0",
  ];
  for (const t of fixed) assert.ok(Object.is(parseDecimal(t, 0, t.length), literal(t)), `"${t}": ${parseDecimal(t, 0, t.length)} vs ${literal(t)}`);
  const rng = new Rng(1);
  for (let i = 0; i < 20000; i++) {
    const v = rng.normal(0, 10 ** rng.int(12)) * (rng.uniform() < 0.1 ? 1e-9 : 1);
    const forms = [String(v), v.toFixed(rng.int(8)), v.toPrecision(1 + rng.int(17)), v.toExponential(rng.int(12)), String(Math.fround(v))];
    for (const t of forms) assert.ok(Object.is(parseDecimal(t, 0, t.length), literal(t)), `"${t}"`);
  }
  // A field inside a longer text: only [start, end) is read.
  assert.equal(parseDecimal("x,12.5,y", 2, 6), 12.5);
});
