/**
 * CSV (RFC 4180) for the center's exports: every field quoted when it holds a comma, a quote, a
 * CR or LF; quotes doubled; lines end CRLF. A text field that a spreadsheet would run as a formula
 * (starting with = + - @, or a tab or CR) is prefixed with ' so it stays text (CSV injection).
 * Numbers are written as they are: a negative number is a number, not a formula.
 */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A whole CSV text: a header row, then the rows; CRLF line ends. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  return [header, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}
