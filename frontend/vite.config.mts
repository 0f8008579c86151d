// Builds the two frame pages (payment screen, settings page) into bizproc_app/static/dist.
// The Flask page looks the entries up in dist/.vite/manifest.json by the keys
// "frontend/src/payment.ts" and "frontend/src/settings.ts" (paths relative to the repo root).
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import bitrix24UIPluginVite from '@bitrix24/b24ui-nuxt/vite'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))

export default defineConfig({
  root: repoRoot,
  // Relative base: chunks and CSS assets resolve next to the entry file, whatever URL
  // prefix Flask serves /static under.
  base: './',
  publicDir: false,
  plugins: [
    vue(),
    bitrix24UIPluginVite({
      router: false, // no vue-router: each page is a single screen
      colorMode: false, // Bitrix24 frames are light; no localStorage colour-mode state
      dts: false // no generated .d.ts files in the repo
    })
  ],
  build: {
    outDir: 'bizproc_app/static/dist',
    emptyOutDir: true,
    manifest: true,
    sourcemap: false,
    target: 'es2020',
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: {
        payment: 'frontend/src/payment.ts',
        settings: 'frontend/src/settings.ts'
      }
    }
  }
})
