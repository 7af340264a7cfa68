// The gateway of docker-compose.yml: one WeChat account (the puppet named by WECHATY_PUPPET)
// served to the bot as a Wechaty puppet service, plain gRPC on WECHATY_PUPPET_SERVER_PORT, for
// the bot's token WECHATY_TOKEN. It runs in the official wechaty/wechaty:1.20 image, whose
// packages it uses (the image links them into /node_modules).
//
// Why not the image's own command: with WECHATY_TOKEN set, the image's entrypoint runs
// `npm run io-client` (wechaty's bin/io-client.ts), which first opens a websocket to
// api.chatie.io and only then starts the puppet and the gRPC server; when that host cannot be
// reached it gives up and exits without ever listening (tests/test_compose_gateway.py shows
// it), so the container restarts forever. The entrypoint also prints every WECHATY_* variable,
// tokens included, to the log. This is the same IoClient minus the websocket: the puppet is
// started by wechaty's WechatyBuilder (reading WECHATY_PUPPET and the puppet's own token
// variables), then served by wechaty-puppet-service's PuppetServer on 0.0.0.0, the way
// IoClient serves it. WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true turns TLS off.
import { WechatyBuilder } from 'wechaty'
import { PuppetServer } from 'wechaty-puppet-service'
import { log } from 'wechaty-puppet'

const token = process.env['WECHATY_TOKEN']
const port = Number(process.env['WECHATY_PUPPET_SERVER_PORT'] || 8788)
if (!token) {
  log.error('Gateway', 'WECHATY_TOKEN is not set: put WECHATY_PUPPET_SERVICE_TOKEN in .env')
  process.exit(2)
}

// The name is the memory card's file name (the puppet's saved login) in the working directory.
const wechaty = WechatyBuilder.build({ name: 'gateway' })
wechaty
  .on('scan', (qrcode, status) => log.info('Gateway', 'WeChat login needed (scan status %s): %s', status, qrcode))
  .on('login', (user) => log.info('Gateway', '%s logged in', user))
  .on('logout', (user) => log.warn('Gateway', '%s logged out', user))
  .on('error', logError)

// Without internet a puppet reports the same error several times a second (wechat4u: about
// ten every 5 s): log each distinct one at most once a minute, with how often it came.
const lastLogged = new Map()  // error text -> { at, repeats }
function logError (error) {
  const text = String(error?.message ?? error)
  const now = Date.now()
  const seen = lastLogged.get(text)
  if (seen && now - seen.at < 60_000) {
    seen.repeats++
    return
  }
  if (lastLogged.size > 100) lastLogged.clear()
  lastLogged.set(text, { at: now, repeats: 0 })
  log.warn('Gateway', 'puppet error: %s%s', text, seen?.repeats ? ` (also ${seen.repeats} times in the minute before)` : '')
}

let server  // made once the puppet has started: wechaty.puppet exists only then

async function stop (signal) {
  log.info('Gateway', '%s: stopping', signal)
  try {
    await server?.stop()
    await wechaty.stop()
  } finally {
    process.exit(0)
  }
}
process.once('SIGTERM', () => stop('SIGTERM'))
process.once('SIGINT', () => stop('SIGINT'))

try {
  await wechaty.start()
  server = new PuppetServer({ endpoint: `0.0.0.0:${port}`, puppet: wechaty.puppet, token })
  await server.start()
} catch (error) {
  log.error('Gateway', 'could not start the puppet %s or serve it on port %d: %s',
    process.env['WECHATY_PUPPET'], port, error)
  process.exit(1)
}
log.info('Gateway', 'serving puppet %s on port %d (%s)', process.env['WECHATY_PUPPET'], port,
  process.env['WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER'] === 'true' ? 'plain gRPC, no TLS' : 'TLS')
