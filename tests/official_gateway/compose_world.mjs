// Preloaded (`node --import`) into the compose file's gateway program (gateway/serve.mjs) by
// tests/test_compose_gateway.py. With WECHATY_PUPPET=wechaty-puppet-mock that program runs the
// stock PuppetMock, whose world is empty and which never logs in. This gives every Mocker a small
// world when it starts (the bot's account logged in, the presidents' group with two members)
// and a line protocol for the test, without touching the program itself:
//   stdin:  {"talker": id, "room": id, "text": "..."}   a member speaks in the group
//   stdout: lines starting with "WORLD " and then JSON: {"event": "login"|"bot_sent", ...}
// (other stdout lines are the gateway's own log).
import readline from 'node:readline'
import { mock } from 'wechaty-puppet-mock'

const BOT = { id: 'wxid_chamber_bot', name: '商会小助手' }
const MEMBERS = [{ id: 'wxid_vp_001', name: '朱会长' }, { id: 'wxid_secretary_liu', name: '刘秘书长' }]
const ROOM = { id: 'presidents@chatroom', topic: '山西省山东商会会长官方群' }

const emit = (event) => process.stdout.write(`WORLD ${JSON.stringify(event)}\n`)
const built = new WeakSet()

function build (mocker) {
  for (const person of [BOT, ...MEMBERS]) {
    mocker.createContact({ ...person, alias: undefined, friend: true })
  }
  mocker.createRoom({ ...ROOM, ownerId: BOT.id, adminIdList: [], memberIdList: [BOT.id, ...MEMBERS.map((p) => p.id)] })
  // The bot's sends come back as message events, as in WeChat: report those the bot wrote.
  mocker.puppet.on('message', ({ messageId }) => {
    const message = mocker.cacheMessagePayload.get(messageId)
    if (message?.talkerId === BOT.id) {
      emit({ event: 'bot_sent', conversation: message.roomId ?? message.listenerId, text: message.text })
    }
  })
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const { talker, room, text } = JSON.parse(line)
    mocker.ContactMock.load(talker).say(text).to(mocker.RoomMock.load(room))
  })
}

// Each client's start (PuppetServer stops and restarts the puppet) runs the mocker again.
const start = mock.Mocker.prototype.start
mock.Mocker.prototype.start = function () {
  if (!built.has(this)) {
    built.add(this)
    build(this)
  }
  if (!this.puppet.isLoggedIn) {
    this.login(this.ContactMock.load(BOT.id))
    emit({ event: 'login', id: BOT.id })
  }
  return start.call(this)
}
