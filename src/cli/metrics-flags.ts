// --metrics HOST:PORT, the monitoring port every server command takes (/metrics, /healthz, /readyz).

import { checkAddress } from './usage.js'

export const METRICS_FLAG_OPTIONS = {
  metrics: { type: 'string' },
} as const

/** The node option for --metrics, checked. */
export function metricsFromFlags(values: { metrics?: string | undefined }): { metricsAddress?: string } {
  return values.metrics === undefined ? {} : { metricsAddress: checkAddress('metrics', values.metrics) }
}

/** " metrics=HOST:PORT" for a server's ready line (the port it got, if 0 was asked for); empty without --metrics. */
export function metricsReadyField(values: { metrics?: string | undefined }, port: number | null): string {
  return values.metrics === undefined || port === null ? '' : ` metrics=${values.metrics.replace(/:\d+$/, '')}:${port}`
}
