// Entry of the admin settings page (manifest key: "frontend/src/settings.ts").
import './main.css'
import { createApp } from 'vue'
import b24UiPlugin from '@bitrix24/b24ui-nuxt/vue-plugin'
import SettingsApp from './settings/SettingsApp.vue'
import { startFrame } from './frame'

startFrame()
const app = createApp(SettingsApp)
app.use(b24UiPlugin)
app.mount('#app')
