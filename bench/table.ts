// The benchmarks' tables: columns padded to their widest cell, separated by bars.

export function printTable(header: readonly string[], lines: readonly string[][]): void {
  const all = [header, ...lines]
  const widths = header.map((_, column) => Math.max(...all.map((line) => (line[column] ?? '').length)))
  for (const line of all) console.log(line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | '))
}
