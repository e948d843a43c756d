// The built-in apps, loaded on demand by name: the word count and inverted index of the MIT lab,
// and the lab's test apps that probe parallelism, re-execution, early exit and crashes.

export const BUILTIN_APPS: Readonly<Record<string, () => Promise<unknown>>> = {
  wc: () => import('./wc.js'),
  indexer: () => import('./indexer.js'),
  mtiming: () => import('./mtiming.js'),
  rtiming: () => import('./rtiming.js'),
  jobcount: () => import('./jobcount.js'),
  early_exit: () => import('./early-exit.js'),
  crash: () => import('./crash.js'),
  nocrash: () => import('./nocrash.js'),
}
