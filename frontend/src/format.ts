import type { InvoiceStatus, PaymentState } from './types'

const RUNNING: PaymentState[] = ['queued', 'sending', 'in_progress']

export function isRunning(state: PaymentState | undefined | null): boolean {
  return !!state && RUNNING.includes(state)
}

/** "10.00" + "AUD" -> "A$10.00" in the user's locale; falls back to "10.00 AUD". */
export function money(amount: string | null | undefined, currency: string | null | undefined): string {
  if (amount == null || amount === '') return ''
  const n = Number(amount)
  if (!currency || Number.isNaN(n)) return `${amount} ${currency || ''}`.trim()
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(n)
  } catch {
    return `${amount} ${currency}`
  }
}

/** Cents from a user-typed amount ("12", "12.5", "12,50"), or null when it is not an amount. */
export function toCents(text: string): number | null {
  const t = String(text ?? '').trim().replace(',', '.')
  if (!/^\d+(\.\d{0,2})?$/.test(t)) return null
  const [whole, frac = ''] = t.split('.')
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2))
}

export function fromCents(cents: number): string {
  const whole = Math.floor(cents / 100)
  return `${whole}.${String(cents % 100).padStart(2, '0')}`
}

export function elapsed(seconds: number | null | undefined): string {
  const s = Math.max(0, Math.floor(seconds || 0))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

type BadgeColor = 'air-primary' | 'air-primary-success' | 'air-primary-alert' | 'air-primary-warning'
  | 'air-secondary' | 'air-secondary-alert' | 'air-secondary-accent' | 'air-tertiary'

export const invoiceStatus: Record<InvoiceStatus, { label: string, color: BadgeColor }> = {
  unpaid: { label: 'Unpaid', color: 'air-primary-warning' },
  in_progress: { label: 'In progress', color: 'air-primary' },
  partly_paid: { label: 'Partly paid', color: 'air-primary-warning' },
  paid: { label: 'Paid', color: 'air-primary-success' },
  partly_refunded: { label: 'Partly refunded', color: 'air-secondary-accent' },
  refunded: { label: 'Refunded', color: 'air-tertiary' },
  unknown: { label: 'Unknown', color: 'air-primary-alert' }
}

export const paymentState: Record<PaymentState, { label: string, color: BadgeColor }> = {
  queued: { label: 'Queued', color: 'air-secondary' },
  sending: { label: 'Sending', color: 'air-primary' },
  in_progress: { label: 'In progress', color: 'air-primary' },
  approved: { label: 'Approved', color: 'air-primary-success' },
  declined: { label: 'Declined', color: 'air-primary-alert' },
  cancelled: { label: 'Cancelled', color: 'air-tertiary' },
  failed: { label: 'Failed', color: 'air-primary-alert' },
  unknown: { label: 'Checking', color: 'air-primary-warning' }
}

export const accountTypes: Record<string, string> = {
  CHQ: 'Cheque (CHQ)',
  SAV: 'Savings (SAV)',
  CRD: 'Credit (CRD)'
}

export function kindLabel(kind: string): string {
  if (kind === 'purchase') return 'Payment'
  if (kind === 'refund') return 'Refund'
  return kind ? kind[0].toUpperCase() + kind.slice(1) : ''
}
