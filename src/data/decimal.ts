/** Powers of ten that a double holds exactly (10^0 … 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

const isSpace = (c: number) => c === 32 || c === 9;

/**
 * The number written in text[start, end), surrounding spaces allowed; NaN for empty text. Plain
 * decimals with at most 15 significant digits and a decimal exponent within ±22 are parsed from the
 * characters directly (Clinger's fast path: mantissa and power of ten are both exact doubles, so one
 * multiplication or division rounds correctly); anything else goes through Number(). Either way
 * the result is the same as Number() of the trimmed text, without building a string per field.
 */
export function parseDecimal(text: string, start: number, end: number): number {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (start === end) return NaN;
  let i = start,
    negative = false,
    c = text.charCodeAt(i);
  if (c === 45 || c === 43) {
    negative = c === 45;
    i++;
  }
  let mantissa = 0,
    digits = 0,
    exponent = 0,
    sawDigit = false;
  for (; i < end; i++) {
    c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    sawDigit = true;
    if (mantissa === 0 && c === 48) continue;
    if (digits === 15) return viaNumber(text, start, end);
    mantissa = mantissa * 10 + (c - 48);
    digits++;
  }
  if (i < end && c === 46) {
    for (i++; i < end; i++) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      sawDigit = true;
      exponent--;
      if (mantissa === 0 && c === 48) continue;
      if (digits === 15) return viaNumber(text, start, end);
      mantissa = mantissa * 10 + (c - 48);
      digits++;
    }
  }
  if (!sawDigit) return viaNumber(text, start, end);
  if (i < end && (c === 101 || c === 69)) {
    let j = i + 1,
      e = 0,
      eNegative = false,
      eDigits = 0;
    c = text.charCodeAt(j);
    if (c === 45 || c === 43) {
      eNegative = c === 45;
      j++;
    }
    for (; j < end; j++) {
      c = text.charCodeAt(j);
      if (c < 48 || c > 57 || eDigits > 4) break;
      e = e * 10 + (c - 48);
      eDigits++;
    }
    if (eDigits === 0 || j !== end) return viaNumber(text, start, end);
    exponent += eNegative ? -e : e;
    i = end;
  }
  if (i !== end) return viaNumber(text, start, end);
  if (mantissa === 0) return negative ? -0 : 0;
  if (exponent < -22 || exponent > 22) return viaNumber(text, start, end);
  const value = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
  return negative ? -value : value;
}

/** The general case: Number() of the trimmed field, NaN when it is blank. */
function viaNumber(text: string, start: number, end: number): number {
  const t = text.slice(start, end);
  return t.trim() === "" ? NaN : Number(t);
}
