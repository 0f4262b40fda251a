/**
 * Finding email addresses without a regular expression, one `@` at a time (the same rules
 * as the Rust and Python templates).
 */

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
const LOCAL = new Set(LETTERS + DIGITS + "._%+-");
const DOMAIN = new Set(LETTERS + DIGITS + ".-");

/**
 * `text` with every email address replaced by `replacement`, and how many there were;
 * `undefined` when there is none.
 *
 * ```ts
 * redact("mail ada@example.com now", "[email]"); // { text: "mail [email] now", count: 1 }
 * redact("user@localhost", "[email]"); // undefined
 * ```
 */
export function redact(
  text: string,
  replacement: string,
): { text: string; count: number } | undefined {
  let out = "";
  let copied = 0;
  let count = 0;
  let at = 0;
  for (let i = text.indexOf("@"); i !== -1; i = text.indexOf("@", at)) {
    const found = addressAround(text, i);
    if (found !== undefined && found[0] >= copied) {
      const [start, end] = found;
      out += text.slice(copied, start) + replacement;
      copied = end;
      at = end;
      count += 1;
    } else {
      at = i + 1;
    }
  }
  if (count === 0) return undefined;
  return { text: out + text.slice(copied), count };
}

/**
 * The range of the address whose `@` is at `at`, if it is one: a local part of letters,
 * digits and `._%+-`, a domain of labels joined by dots, ending in a top-level domain of
 * two letters or more (ASCII only).
 */
function addressAround(text: string, at: number): [number, number] | undefined {
  let start = at;
  while (start > 0 && LOCAL.has(text.charAt(start - 1))) start -= 1;
  while (start < at && text.charAt(start) === ".") start += 1;
  let end = at + 1;
  while (end < text.length && DOMAIN.has(text.charAt(end))) end += 1;
  while (end > at + 1 && ".-".includes(text.charAt(end - 1))) end -= 1;
  const host = text.slice(at + 1, end);
  const tld = host.slice(host.lastIndexOf(".") + 1);
  const valid =
    start < at &&
    host.includes(".") &&
    !host.startsWith(".") &&
    !host.includes("..") &&
    tld.length >= 2 &&
    [...tld].every((c) => LETTERS.includes(c));
  return valid ? [start, end] : undefined;
}
