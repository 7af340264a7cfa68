// The benchmark's Node point of comparison (tests/bench): a bare Node Wechaty 1.20 echo bot, the
// SDK as shipped, connected to a puppet service. Everything comes from the environment:
//   WECHATY_PUPPET=wechaty-puppet-service, WECHATY_PUPPET_SERVICE_ENDPOINT, _TOKEN and
//   WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true (the test gateway speaks plain gRPC).
import { WechatyBuilder } from 'wechaty'

const bot = WechatyBuilder.build({ name: 'echo-bot' })
bot.on('message', async (message) => {
  if (message.self()) return
  await message.say(message.text())
})
bot.on('error', (error) => console.error('echo bot:', error))
await bot.start()
