import type { PosBoot } from './types'

declare global {
  interface Window { POS_BOOT?: PosBoot }
}

/** The boot object the server renders into the page (docs/ui-api.md). */
export function getBoot(): PosBoot {
  const boot = window.POS_BOOT
  if (!boot || !boot.token) {
    throw new Error('The page was opened without its boot data: reopen it from Bitrix24.')
  }
  return { ...boot, apiBase: (boot.apiBase || '/api').replace(/\/+$/, '') }
}
