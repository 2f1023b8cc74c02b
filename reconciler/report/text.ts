/** Plain-text helpers shared by the renderers and the CodePipeline messages. Pure. */

/** Cut text to `max` characters, saying how much was left out. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = ` … (${text.length - max} more characters cut)`;
  return `${text.slice(0, Math.max(0, max - marker.length))}${marker}`;
}

export /** Left-aligned columns two spaces apart; the last column is not padded. */
function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [header, ...rows].map(line).join("\n");
}
