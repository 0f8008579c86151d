// The JSON API client: every call carries `Authorization: Bearer <POS_BOOT.token>`; every
// 4xx/5xx answer becomes an ApiError with the server's `{error, errors}`.
import { reactive } from 'vue'
import { getBoot } from './boot'

export type FieldErrors = Record<string, string[]>

export class ApiError extends Error {
  status: number
  errors: FieldErrors
  constructor(status: number, message: string, errors: FieldErrors = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.errors = errors
  }

  /** The first message for a field, for the form field beside it. */
  field(name: string): string | undefined {
    return this.errors[name]?.[0]
  }

  /** Messages that belong to no field shown by the form, joined into one line. */
  summary(shownFields: string[] = []): string {
    const rest = Object.entries(this.errors)
      .filter(([k]) => !shownFields.includes(k))
      .flatMap(([k, msgs]) => msgs.map(m => (k === '__all__' || k === 'non_field' || k === '_') ? m : `${m}`))
    const parts = [this.message, ...rest].filter(Boolean)
    return [...new Set(parts)].join(' ')
  }
}

/** Shared state: set when the token expired (401), the page then asks to reopen the tab. */
export const session = reactive({ expired: false, expiredMessage: '' })

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const boot = getBoot()
  const headers: Record<string, string> = {
    'Authorization': `Bearer ${boot.token}`,
    'Accept': 'application/json'
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(`${boot.apiBase}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store'
    })
  } catch {
    throw new ApiError(0, 'No connection to the server. Check the network and try again.')
  }
  if (response.status === 204) return undefined as T
  let data: any = null
  const text = await response.text()
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!response.ok) {
    const errors: FieldErrors = normaliseErrors(data?.errors)
    let message: string = typeof data?.error === 'string' ? data.error : ''
    if (!message && Object.keys(errors).length === 0) {
      message = response.status >= 500
        ? `The server failed (${response.status}). Try again in a moment.`
        : `The request was refused (${response.status}).`
    }
    if (response.status === 401) {
      session.expired = true
      session.expiredMessage = message || 'Your session has expired.'
    }
    throw new ApiError(response.status, message, errors)
  }
  return data as T
}

function normaliseErrors(raw: unknown): FieldErrors {
  const out: FieldErrors = {}
  if (!raw || typeof raw !== 'object') return out
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(v)) out[k] = v.map(String)
    else if (v != null) out[k] = [String(v)]
  }
  return out
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown = {}) => request<T>('PUT', path, body),
  del: <T>(path: string) => request<T>('DELETE', path)
}

/** A readable line for any error thrown by a call. */
export function errorText(e: unknown, shownFields: string[] = []): string {
  if (e instanceof ApiError) return e.summary(shownFields) || 'The request failed.'
  if (e instanceof Error) return e.message
  return String(e)
}
