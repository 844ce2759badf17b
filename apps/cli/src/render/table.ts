export interface Column<Row> {
  header: string;
  align?: 'left' | 'right';
  value(row: Row): string;
}

/**
 * A plain-text table: a header, a dashed rule, then one line per row; columns separated by two spaces
 * and padded to their widest cell. No colours, so the output pastes cleanly into issues and logs.
 */
export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((line) => (line[index] ?? '').length)),
  );
  const pad = (text: string, index: number): string => {
    const width = widths[index] ?? text.length;
    return columns[index]?.align === 'right' ? text.padStart(width) : text.padEnd(width);
  };
  const line = (values: readonly string[]): string => values.map(pad).join('  ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(columns.map((column) => column.header)), rule, ...cells.map(line)].join('\n') + '\n';
}

/** "key: value" lines with the keys aligned, for one resource. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([name]) => name.length));
  return fields.map(([name, value]) => `${`${name}:`.padEnd(width + 1)} ${value}`.trimEnd()).join('\n') + '\n';
}
