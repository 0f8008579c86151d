// Entry of the clerk's payment screen (manifest key: "frontend/src/payment.ts").
import './main.css'
import { createApp } from 'vue'
import b24UiPlugin from '@bitrix24/b24ui-nuxt/vue-plugin'
import PaymentApp from './payment/PaymentApp.vue'
import { startFrame } from './frame'

startFrame()
const app = createApp(PaymentApp)
app.use(b24UiPlugin)
app.mount('#app')
