// Bitrix24 frame integration through the official JS SDK. Initialised once at start; when the
// page runs outside Bitrix24 (no frame handshake) everything here quietly does nothing.
import { initializeB24Frame } from '@bitrix24/b24jssdk'
import type { B24Frame } from '@bitrix24/b24jssdk'

let frame: B24Frame | null = null
let starting: Promise<B24Frame | null> | null = null

export function startFrame(timeoutMs = 4000): Promise<B24Frame | null> {
  if (starting) return starting
  starting = (async () => {
    try {
      const timeout = new Promise<null>(resolve => setTimeout(() => resolve(null), timeoutMs))
      frame = await Promise.race([initializeB24Frame(), timeout])
    } catch {
      frame = null
    }
    return frame
  })()
  return starting
}

export function getFrame(): B24Frame | null {
  return frame
}

let lastHeight = 0
let pending = 0

/** Fit the Bitrix24 frame to the content of `node` (debounced to one call per animation frame). */
export function fitFrame(node: HTMLElement | null): void {
  if (!frame || !node || pending) return
  pending = requestAnimationFrame(() => {
    pending = 0
    if (!frame) return
    const height = Math.ceil(Math.max(node.scrollHeight, node.offsetHeight, overlayHeight()))
    if (height === lastHeight) return
    lastHeight = height
    frame.parent.resizeWindowAuto(node, height).catch(() => {})
  })
}

/** A modal or popover rendered outside the app node still needs room inside the frame. */
function overlayHeight(): number {
  let h = 0
  document.querySelectorAll<HTMLElement>('[role="dialog"], [data-reka-popper-content-wrapper]').forEach((el) => {
    const r = el.getBoundingClientRect()
    h = Math.max(h, r.bottom + window.scrollY + 16)
  })
  return h
}

/** Keep the frame fitted while the node's size changes. */
export function autoFit(node: HTMLElement): () => void {
  fitFrame(node)
  const observer = new ResizeObserver(() => fitFrame(node))
  observer.observe(node)
  const mutations = new MutationObserver(() => fitFrame(node))
  mutations.observe(document.body, { childList: true, subtree: false })
  return () => {
    observer.disconnect()
    mutations.disconnect()
  }
}

/** The SDK's multiple user picker, or null when the SDK is not available here. */
export async function pickUsers(): Promise<{ id: number, name: string }[] | null> {
  if (!frame) return null
  // The portal answers a list; be lenient with one user or nothing (dialog closed).
  const picked: unknown = await frame.dialog.selectUsers()
  const list = Array.isArray(picked) ? picked : (picked && typeof picked === 'object' && 'id' in picked) ? [picked] : []
  return list
    .filter((u): u is { id: string | number, name?: string } => !!u && Number(u.id) > 0)
    .map(u => ({ id: Number(u.id), name: String(u.name || `User #${u.id}`) }))
}
