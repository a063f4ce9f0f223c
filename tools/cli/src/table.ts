export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
  /**
   * Cut with an ellipsis when the table is too wide: at the end (ids taken by prefix), or in the middle
   * (ids whose two ends both tell, like `<host>-<hex>`). Ids that commands take whole are never cut.
   */
  shrink?: 'end' | 'middle';
}

const GAP = '  ';
const MIN_CUT = 8;

function cut(text: string, width: number, where: 'end' | 'middle' = 'end'): string {
  if (text.length <= width) return text;
  const head = where === 'end' ? width - 1 : Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/** Rows under a header, each column as wide as its widest cell, shrinkable columns cut to fit `width`. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], width: number): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const total = (): number => widths.reduce((a, b) => a + b, 0) + GAP.length * (columns.length - 1);
  while (total() > width) {
    let widest = -1;
    columns.forEach((c, i) => {
      if (
        c.shrink &&
        widths[i]! > Math.max(MIN_CUT, c.header.length) &&
        (widest < 0 || widths[i]! > widths[widest]!)
      )
        widest = i;
    });
    if (widest < 0) break;
    widths[widest]!--;
  }
  const line = (values: string[]): string =>
    values
      .map((v, i) => {
        const text = cut(v, widths[i]!, columns[i]!.shrink);
        return columns[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
      })
      .join(GAP)
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}
