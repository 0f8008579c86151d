// Shapes from docs/ui-api.md (the contract with the backend).

export interface PosBoot {
  token: string
  page: 'payment' | 'settings'
  placement: string
  entity: { type: 'deal' | 'invoice', id: number } | null
  user: { id: number, name: string, admin: boolean, can_refund: boolean }
  apiBase: string
}

export type PaymentState =
  | 'queued' | 'sending' | 'in_progress'
  | 'approved' | 'declined' | 'cancelled' | 'failed' | 'unknown'

export interface PinpadDisplay {
  lines: string[]
  cancel: boolean
  yes: boolean
  no: boolean
  ok: boolean
  input: string
}

export interface PaymentResult {
  response_code?: string
  response_text?: string
  card_type?: string
  account_type?: string
  masked_pan?: string
  auth_code?: string
  rrn?: string
  ref?: string | null
}

export interface Payment {
  id: string
  kind: string
  state: PaymentState
  amount: string
  currency: string
  terminal: { id: number, name: string } | null
  created_at: string
  elapsed_seconds: number | null
  queue_position: number | null
  display: PinpadDisplay | null
  result: PaymentResult | null
  receipt: string | null
  error: string | null
  can_cancel: boolean
  refundable: string | null
  message: string | null
}

export type InvoiceStatus = 'unpaid' | 'in_progress' | 'partly_paid' | 'paid' | 'partly_refunded' | 'refunded' | 'unknown'

export interface Invoice {
  id: number
  title: string
  amount: string
  currency: string
  status: InvoiceStatus
  payment: Payment | null
  refundable: string | null
  /** What is still due after earlier partial payments ("0.00" when nothing is). */
  due: string | null
}

export interface Deal {
  id: number
  title: string
  amount: string
  currency: string
}

export interface DealView {
  deal: Deal | null
  invoices: Invoice[]
  order_payments: Invoice[]
  history: Payment[]
}

export interface TerminalChoice {
  id: number
  name: string
  currency: string
  shared: boolean
}

export interface Terminal {
  id: number
  name: string
  currency: string
  shared: boolean
  active: boolean
  users: number[]
  last_seen_at: string | null
  last_status: string | null
}

export interface Registration {
  ok: boolean
  missing: string[]
  error?: string
  robots?: unknown
  activities?: unknown
  placements?: unknown
  events?: unknown
}

export interface WorkflowRefunds {
  allowed: boolean
  limit: string | null
}

export interface SettingsView {
  terminals: Terminal[]
  refund_users: number[]
  workflow_refunds: WorkflowRefunds
  registration: Registration
  bitrix_overload: { since: string, method: string, advice: string } | null
}

export interface UserRef {
  id: number
  name: string
}

/** A payment Linkly never settled and the app stopped asking about: an admin decides it. */
export interface AttentionPayment {
  id: string
  kind: string
  amount: string
  currency: string
  deal_id: number | null
  invoice_id: number | null
  txn_ref: string | null
  terminal: { id: number, name: string }
  holds_terminal: boolean
  sent_at: string | null
  attention_at: string | null
}

export type AttentionDecision = 'approved' | 'declined'
