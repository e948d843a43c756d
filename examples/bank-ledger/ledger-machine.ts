// A bank ledger as a lograft state machine: accounts with balances in cents, deposits, withdrawals
// and transfers, where no balance ever goes negative (a withdrawal or transfer that would overdraw
// is refused, atomically: a transfer moves all of its amount or none). Money is neither made nor
// lost: the sum of balances is always what was deposited minus what was withdrawn.
//
// Serve it: lograft node --machine ./ledger-machine.js ...   Use it: lograft call, or a MachineClerk.

import { type StateMachine, jsonCodec } from 'lograft'

export type LedgerCommand =
  | { readonly op: 'open'; readonly account: string }
  | { readonly op: 'deposit'; readonly account: string; readonly cents: number }
  | { readonly op: 'withdraw'; readonly account: string; readonly cents: number }
  | { readonly op: 'transfer'; readonly from: string; readonly to: string; readonly cents: number }
  /** One account's balance (a read). */
  | { readonly op: 'balance'; readonly account: string }
  /** Every balance and their sum, with what came in and went out (a read: the auditor's view). */
  | { readonly op: 'audit' }

export interface LedgerResult {
  readonly ok: boolean
  /** Why a command was refused: 'no such account', 'insufficient funds', 'invalid amount', 'account exists'. */
  readonly error: string
  /** The balance of the account the command touched (for a transfer: the source's). */
  readonly cents: number
  /** For an audit: every balance, the sum, deposits and withdrawals so far. */
  readonly balances?: Readonly<Record<string, number>>
  readonly totalCents?: number
  readonly depositedCents?: number
  readonly withdrawnCents?: number
}

export interface LedgerState {
  balances: Map<string, number>
  depositedCents: number
  withdrawnCents: number
}

function refused(error: string, cents = 0): LedgerResult {
  return { ok: false, error, cents }
}

function done(cents: number): LedgerResult {
  return { ok: true, error: '', cents }
}

/** Whole cents, positive, within what a double holds exactly. */
function validAmount(cents: number): boolean {
  return Number.isSafeInteger(cents) && cents > 0
}

function apply(state: LedgerState, command: LedgerCommand): { state: LedgerState; result: LedgerResult } {
  const { balances } = state
  switch (command.op) {
    case 'open':
      if (balances.has(command.account)) return { state, result: refused('account exists', balances.get(command.account)) }
      balances.set(command.account, 0)
      return { state, result: done(0) }
    case 'balance': {
      const cents = balances.get(command.account)
      return { state, result: cents === undefined ? refused('no such account') : done(cents) }
    }
    case 'audit': {
      let totalCents = 0
      for (const cents of balances.values()) totalCents += cents
      const result = {
        ...done(totalCents),
        balances: Object.fromEntries(balances),
        totalCents,
        depositedCents: state.depositedCents,
        withdrawnCents: state.withdrawnCents,
      }
      return { state, result }
    }
    case 'deposit': {
      const cents = balances.get(command.account)
      if (cents === undefined) return { state, result: refused('no such account') }
      if (!validAmount(command.cents)) return { state, result: refused('invalid amount', cents) }
      balances.set(command.account, cents + command.cents)
      state.depositedCents += command.cents
      return { state, result: done(cents + command.cents) }
    }
    case 'withdraw': {
      const cents = balances.get(command.account)
      if (cents === undefined) return { state, result: refused('no such account') }
      if (!validAmount(command.cents)) return { state, result: refused('invalid amount', cents) }
      if (cents < command.cents) return { state, result: refused('insufficient funds', cents) }
      balances.set(command.account, cents - command.cents)
      state.withdrawnCents += command.cents
      return { state, result: done(cents - command.cents) }
    }
    case 'transfer': {
      const from = balances.get(command.from)
      const to = balances.get(command.to)
      if (from === undefined || to === undefined) return { state, result: refused('no such account', from ?? 0) }
      if (!validAmount(command.cents) || command.from === command.to) return { state, result: refused('invalid amount', from) }
      if (from < command.cents) return { state, result: refused('insufficient funds', from) }
      balances.set(command.from, from - command.cents)
      balances.set(command.to, to + command.cents)
      return { state, result: done(from - command.cents) }
    }
  }
}

const stateJson = jsonCodec<{ balances: Array<[string, number]>; depositedCents: number; withdrawnCents: number }>()

/** The ledger's machine: the module's export that `lograft node --machine` serves. */
export const machine: StateMachine<LedgerState, LedgerCommand, LedgerResult> = {
  name: 'ledger',
  initial: () => ({ balances: new Map(), depositedCents: 0, withdrawnCents: 0 }),
  apply,
  isReadOnly: (command) => command.op === 'balance' || command.op === 'audit',
  commandCodec: jsonCodec<LedgerCommand>(),
  resultCodec: jsonCodec<LedgerResult>(),
  stateCodec: {
    encode: (state) => stateJson.encode({ balances: [...state.balances], depositedCents: state.depositedCents, withdrawnCents: state.withdrawnCents }),
    decode: (bytes) => {
      const decoded = stateJson.decode(bytes)
      return { balances: new Map(decoded.balances), depositedCents: decoded.depositedCents, withdrawnCents: decoded.withdrawnCents }
    },
  },
}
