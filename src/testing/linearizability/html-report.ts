// A self-contained HTML page for a check: for an illegal history, a timeline of the failing key
// with one row per client and a box from each operation's call to its return, the deepest partial
// linearization numbered on the boxes and the stuck operation marked. No scripts, no external assets.

import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { type FailureView, type ReportOptions, viewFailure } from './failure-view.js'
import { formatReport } from './text-report.js'
import { formatMs } from './text.js'
import type { CheckResult, IllegalPartition, Operation } from './types.js'

/** Writes renderHtmlReport's page to `path`, making its directory if need be. */
export async function writeHtmlReport<Input, Output>(result: CheckResult<Input, Output>, path: string, options: ReportOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, renderHtmlReport(result, options))
}

/**
 * A self-contained HTML page for a check (no scripts, no external assets): for an illegal history,
 * a timeline of the failing key with one row per client, the partial linearization numbered on the
 * operations and the stuck one marked; then formatReport's text.
 */
export function renderHtmlReport<Input, Output>(result: CheckResult<Input, Output>, options: ReportOptions = {}): string {
  const title = result.outcome === 'illegal' ? `Not linearizable: key ${JSON.stringify(result.failure.key)}` : `Linearizability: ${result.outcome}`
  const body = result.outcome === 'illegal' ? renderTimeline(result.failure, viewFailure(result.failure, options)) : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
<h2>Report</h2>
<pre>${escapeHtml(formatReport(result, options))}</pre>
</body>
</html>
`
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
pre { background: #f6f6f6; padding: 12px; overflow-x: auto; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 8px; border: 1px solid #888; }
.timeline { border-top: 1px solid #ddd; margin: 16px 0; }
.row { display: flex; border-bottom: 1px solid #ddd; }
.client { width: 90px; flex: none; padding: 4px; font-weight: 600; }
.lane { position: relative; flex: 1; min-width: 800px; }
.op { position: absolute; height: 22px; box-sizing: border-box; border: 1px solid #888; background: #e8e8e8;
  font: 12px/20px monospace; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding: 0 3px; }
.op:hover { overflow: visible; z-index: 2; background: #fffbe0; }
.linearized { background: #cdeccd; border-color: #3a3; }
.stuck { background: #f7c9c9; border: 2px solid #c22; }
.unknown { border-style: dashed; background: linear-gradient(to right, #e8e8e8, #fff); }
.order { font-weight: 700; color: #060; margin-right: 4px; }
`

/** Height of one sub-lane of a client's row, in pixels. */
const LANE_HEIGHT_PX = 26

function renderTimeline(failure: IllegalPartition<unknown, unknown>, view: FailureView): string {
  const shown = failure.operations.map((operation, index) => ({ operation, index })).slice(view.first, view.end)
  const xOf = timeScale(shown.map(({ operation }) => operation))
  const byClient = new Map<number, typeof shown>()
  for (const entry of shown) byClient.set(entry.operation.clientId, [...(byClient.get(entry.operation.clientId) ?? []), entry])

  const rows = [...byClient]
    .sort(([a], [b]) => a - b)
    .map(([clientId, entries]) => {
      // A client's operations overlap when one had an unknown outcome: stack those in sub-lanes.
      const laneEndsPercent: number[] = []
      const boxes = entries.map(({ operation, index }) => {
        const leftPercent = xOf(operation.callMs)
        const rightPercent = xOf(operation.returnMs)
        let lane = laneEndsPercent.findIndex((endPercent) => endPercent <= leftPercent)
        if (lane === -1) lane = laneEndsPercent.push(rightPercent) - 1
        else laneEndsPercent[lane] = rightPercent
        const order = view.linearizedAt.get(index)
        const classes = ['op', order !== undefined ? 'linearized' : '', index === view.stuck ? 'stuck' : '', operation.returnMs === Infinity ? 'unknown' : '']
        const description = failure.descriptions[index] ?? ''
        const tooltip = `#${index} client ${operation.clientId}: ${description}, ${formatMs(operation.callMs)}–${formatMs(operation.returnMs)} ms`
        return (
          `<div class="${classes.filter(Boolean).join(' ')}" title="${escapeHtml(tooltip)}" ` +
          `style="left:${leftPercent.toFixed(3)}%;width:${Math.max(rightPercent - leftPercent, 0.5).toFixed(3)}%;top:${lane * LANE_HEIGHT_PX + 2}px">` +
          `${order !== undefined ? `<span class="order">${order}</span>` : ''}${escapeHtml(description)}</div>`
        )
      })
      return `<div class="row"><div class="client">client ${clientId}</div><div class="lane" style="height:${laneEndsPercent.length * LANE_HEIGHT_PX + 4}px">${boxes.join('')}</div></div>`
    })

  const hidden = failure.operations.length - shown.length
  return `<p>${failure.operations.length} operations on this key; ${failure.partialLinearization.length} linearized in the deepest attempt.${
    hidden > 0 ? ` Showing operations #${view.first}–#${view.end - 1} around the stuck one.` : ''
  } Time runs left to right, spaced by event order rather than by milliseconds.</p>
<p class="legend"><span class="linearized">n: n-th in the partial linearization</span><span class="stuck">stuck</span><span class="unknown">outcome unknown</span><span>not linearized</span></p>
<div class="timeline">${rows.join('')}</div>`
}

/**
 * Maps times to horizontal positions (percent) by rank, as event order is what matters and
 * milliseconds can crowd a whole burst into a pixel. Unknown returns reach the right edge.
 */
function timeScale(operations: readonly Operation<unknown, unknown>[]): (ms: number) => number {
  const times = [...new Set(operations.flatMap((operation) => [operation.callMs, operation.returnMs]).filter(Number.isFinite))].sort((a, b) => a - b)
  const rank = new Map(times.map((ms, i) => [ms, i]))
  const slotPercent = 100 / (times.length + 1)
  return (ms) => (ms === Infinity ? 100 : ((rank.get(ms) ?? 0) + 0.5) * slotPercent)
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
