// Well-formed Unicode for everything the data plane stores or compares. JSON can carry lone UTF-16
// surrogates ("\ud800"); they cannot be encoded as UTF-8, so a store that writes UTF-8 to disk would turn
// them into U+FFFD on restart and two acknowledged ids ("s\ud800", "s\udfff") would become one. Refusing
// them at the parser (400) is what keeps "acknowledged" and "read back after a restart" byte-identical.

/** True when the string has no unpaired surrogate (String.prototype.isWellFormed where available). */
export function isWellFormedUnicode(value: string): boolean {
  const native = (value as { isWellFormed?: () => boolean }).isWellFormed;
  if (native !== undefined) return native.call(value);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const next = value.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}
