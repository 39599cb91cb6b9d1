/**
 * The few pieces of HTTP/1.1 syntax (RFC 9110 section 5.6) the opening handshake needs:
 * tokens, header field values, and comma-separated lists.
 */

/** tchar (RFC 9110 5.6.2): the characters a token is made of, indexed by char code. */
const TCHAR: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1; // 0-9
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1; // A-Z
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1; // a-z
  for (const ch of "!#$%&'*+-.^_`|~") table[ch.charCodeAt(0)] = 1;
  return table;
})();

/** Whether the character code is a tchar. */
export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** Whether `s` is a non-empty HTTP token (`1*tchar`). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    if (!isTokenChar(s.charCodeAt(i))) return false;
  }
  return true;
}

/** Whether the character code is optional whitespace (SP or HTAB). */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Whether `s` may be sent as a header field value: HTAB, SP, visible ASCII and obs-text
 * (0x80–0xFF, written as Latin-1), with no CR, LF, NUL or other control character.
 * This is the rule Node's own `http` module applies to outgoing header values.
 */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x09) continue;
    if (c < 0x20 || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * Splits a comma-separated header list (`#element`, RFC 9110 5.6.1) into its trimmed
 * elements. Empty elements (`a, , b`, a leading or trailing comma) are dropped, as a
 * recipient must accept and ignore them.
 */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const element = part.replace(/^[ \t]+|[ \t]+$/g, '');
    if (element.length > 0) out.push(element);
  }
  return out;
}

/** Whether the comma-separated list `value` contains `token`, compared ASCII case-insensitively. */
export function headerListHasToken(value: string, token: string): boolean {
  const wanted = token.toLowerCase();
  return splitHeaderList(value).some((element) => element.toLowerCase() === wanted);
}
