// The text of INFO: `# Section` headers and `field:value` lines, CRLF-separated, as Redis writes it.
// The server's own sections come first; the backend's follow (a same-named section is merged).

import type { KvInfoSections } from './backend.js'

/** Section names that select every section, as in Redis. */
const EVERY_SECTION = new Set(['all', 'everything', 'default'])

/**
 * Renders `sections` (in order, merging same-named ones). `wanted` are the section names the
 * client asked for, any case; none, or one of all/everything/default, means all of them.
 */
export function formatInfo(sections: readonly KvInfoSections[], wanted: readonly string[]): string {
  const merged = new Map<string, { title: string; fields: Record<string, string | number> }>()
  for (const group of sections) {
    for (const [title, fields] of Object.entries(group)) {
      const section = merged.get(title.toLowerCase()) ?? { title, fields: {} }
      Object.assign(section.fields, fields)
      merged.set(title.toLowerCase(), section)
    }
  }
  const names = wanted.map((name) => name.toLowerCase())
  const everything = names.length === 0 || names.some((name) => EVERY_SECTION.has(name))
  return [...merged]
    .filter(([name]) => everything || names.includes(name))
    .map(([, { title, fields }]) => [`# ${title}`, ...Object.entries(fields).map(([key, value]) => `${key}:${infoValue(value)}`)].join('\r\n'))
    .map((text) => `${text}\r\n`)
    .join('\r\n')
}

/** Values are single-line; a line break in backend text would split a field. */
function infoValue(value: string | number): string {
  return String(value).replace(/[\r\n]/g, ' ')
}
