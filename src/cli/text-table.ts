// Plain-text tables for the command line: columns padded to their widest cell.

/** `rows` (the first is the header) as lines of padded columns, two spaces apart. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((line) => (line[column] ?? '').length))) ?? []
  return rows.map((line) =>
    line
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  )
}
