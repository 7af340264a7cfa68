// The official Wechaty gateway (wechaty-puppet-service's PuppetServer) serving a mock WeChat
// (wechaty-puppet-mock) with the chamber's fixed world, driven by tests over stdin/stdout.
//
//   env: PORT (required), TOKEN (required), WECHATY_LOG (optional, logs go to stderr),
//        BENCH_GROUPS (optional: that many more groups of 500 members, for tests/bench)
//   stdin:  one JSON command a line, e.g. {"cmd":"say","talker":"wxid_vp_001","text":"hi"}
//   stdout: one JSON event a line, and nothing else ({"event":"ready"}, "said", "bot_sent", ...)
// A command may carry "req": <any>; its reply (or error) echoes it so callers can match them.

// brolog (the wechaty logger) writes info lines with console.info/console.log, i.e. to stdout.
// stdout is the protocol channel, so route those to stderr BEFORE the packages load (hence the
// dynamic imports below: static imports would be evaluated before this line).
const protocolOut = process.stdout.write.bind(process.stdout)
console.log = console.error
console.info = console.error

const out = (obj) => protocolOut(JSON.stringify(obj) + '\n')

process.env['WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER'] = 'true'  // plain gRPC for python

const PUPPET = await import('wechaty-puppet')
const { PuppetMock, mock } = await import('wechaty-puppet-mock')
const { PuppetServer } = await import('wechaty-puppet-service')

const PORT = process.env['PORT']
const TOKEN = process.env['TOKEN']
if (!PORT || !TOKEN) {
  out({ event: 'error', message: 'PORT and TOKEN env vars are required' })
  process.exit(2)
}

// ---------------------------------------------------------------------------------------------
// The fixed world. Ids are stable across restarts so a restarted gateway looks the same.
// ---------------------------------------------------------------------------------------------
const BOT = { id: 'wxid_chamber_bot', name: '商会小助手' }
const PEOPLE = [
  { id: 'wxid_president_yi', name: '伊会长' },
  { id: 'wxid_secretary_liu', name: '刘秘书长' },
  { id: 'wxid_admin_wang', name: '王管理员' },
  { id: 'wxid_vp_001', name: '朱会长' },
  { id: 'wxid_vp_002', name: '黄会长' },
  { id: 'wxid_vp_003', name: '周会长' },
  { id: 'wxid_vp_004', name: '张会长' },
  { id: 'wxid_vp_005', name: '李会长' },
]
const ROOMS = [
  {
    id: 'presidents@chatroom',  // mock rule: a conversation id containing '@' is a room
    topic: '山西省山东商会会长官方群',
    ownerId: BOT.id,  // the bot owns it: in WeChat only the owner/admins may set 群公告
    adminIdList: ['wxid_admin_wang'],
    memberIdList: [BOT.id, ...PEOPLE.map((p) => p.id)],
  },
  {
    id: 'tea@chatroom',
    topic: '鲁商老乡茶话会',
    ownerId: 'wxid_vp_001',  // not the bot's: lets tests see a refused announcement
    adminIdList: [],
    memberIdList: [BOT.id, 'wxid_vp_001', 'wxid_vp_002'],
  },
]
// Some bytes for messages that carry a file (image, sticker, ...): a 1x1 PNG.
const TINY_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
const FILE_BOX_TYPE_BASE64 = 1  // file-box's FileBoxType.Base64, as in FileBox.toJSON()
const MessageType = PUPPET.types.Message

const mocker = new mock.Mocker()

// The benchmark's groups (tests/bench): BENCH_GROUPS (env) groups of 500 members each,
// g0@chatroom with wxid_g0m000 ... wxid_g0m499, and so on. None by default.
const BENCH_GROUP_SIZE = 500
for (let g = 0; g < Number(process.env['BENCH_GROUPS'] ?? 0); g++) {
  const members = Array.from({ length: BENCH_GROUP_SIZE }, (_, n) => ({ id: `wxid_g${g}m${String(n).padStart(3, '0')}`, name: `会员${g}-${n}` }))
  PEOPLE.push(...members)
  ROOMS.push({ id: `g${g}@chatroom`, topic: `商会群${g}`, ownerId: BOT.id, adminIdList: [], memberIdList: [BOT.id, ...members.map((p) => p.id)] })
}

function buildWorld () {
  const contact = (p) => mocker.createContact({
    id: p.id, name: p.name, alias: undefined, friend: true,
    gender: PUPPET.types.ContactGender.Unknown, type: PUPPET.types.Contact.Individual,
  })
  contact(BOT)
  PEOPLE.forEach(contact)
  for (const room of ROOMS) {
    // copy: mock rooms mutate their payload (topic, members)
    mocker.createRoom({ ...room, memberIdList: [...room.memberIdList], adminIdList: [...room.adminIdList], avatar: '' })
  }
}

// ---------------------------------------------------------------------------------------------
// The stock PuppetMock drops mention ids on send, returns no message id, keeps no announcement,
// topic or alias state and answers fixed strings. This subclass adds just that.
// ---------------------------------------------------------------------------------------------
class ChamberPuppetMock extends PuppetMock {
  announcements = new Map()  // roomId -> text
  aliases = new Map()  // contactId -> alias

  // Create a message in the mock and tell listeners (the gRPC event stream) about it.
  emitMessage (fields) {
    const payload = { timestamp: Date.now(), type: MessageType.Text, text: '', ...fields, id: fields.id ?? newMessageId() }
    mocker.MessageMock.create(payload)
    this.emit('message', { messageId: payload.id })
    return payload.id
  }

  async botSend (conversationId, type, text, mentionIdList, extra = {}) {
    if (!this.isLoggedIn) throw new Error('not logged in')
    const fields = { talkerId: this.currentUserId, type, text }
    if (isRoomId(conversationId)) {
      mocker.roomPayload(conversationId)  // throws on an unknown room
      fields.roomId = conversationId
      fields.mentionIdList = [...(mentionIdList ?? [])]
    } else {
      mocker.contactPayload(conversationId)
      fields.listenerId = conversationId
    }
    // Like WeChat (and the stock mock), the bot's own message comes back as a message event.
    const id = this.emitMessage(fields)
    out({ event: 'bot_sent', id, conversation: conversationId, type: MessageType[type], text, mentions: fields.mentionIdList ?? [], ...extra })
    return id
  }

  async messageSendText (conversationId, text, mentionIdList) {
    return this.botSend(conversationId, MessageType.Text, text, mentionIdList)
  }

  async messageSendFile (conversationId, fileBox) {
    return this.botSend(conversationId, MessageType.Attachment, '', [], { file: fileBox.name })
  }

  async messageSendUrl (conversationId, urlLinkPayload) {
    return this.botSend(conversationId, MessageType.Url, urlLinkPayload.title ?? '', [], { url: urlLinkPayload.url })
  }

  async messageSendContact (conversationId, contactId) {
    return this.botSend(conversationId, MessageType.Contact, '', [], { contact: contactId })
  }

  async roomAnnounce (roomId, text) {
    const room = mocker.roomPayload(roomId)
    if (text === undefined) return this.announcements.get(roomId) ?? ''
    const me = this.currentUserId
    if (room.ownerId !== me && !(room.adminIdList ?? []).includes(me)) {
      throw new Error(`only the owner or an admin of ${roomId} can set its announcement`)
    }
    this.announcements.set(roomId, text)
    out({ event: 'announcement_set', room: roomId, text, by: me })
  }

  async roomTopic (roomId, topic) {
    const room = mocker.roomPayload(roomId)
    if (topic === undefined) return room.topic
    mocker.RoomMock.load(roomId).topic(topic).by(mocker.ContactMock.load(this.currentUserId))
    await this.dirtyPayload(PUPPET.types.Dirty.Room, roomId)  // as the stock mock does
    out({ event: 'topic_set', room: roomId, text: topic, by: this.currentUserId })
  }

  async contactAlias (contactId, alias) {
    mocker.contactPayload(contactId)
    if (alias === undefined) return this.aliases.get(contactId) ?? ''
    this.aliases.set(contactId, alias)
  }
}

let messageCounter = 0
// Unique across gateway restarts too: python-wechaty drops any message id it has seen before.
const newMessageId = () => `msg-${process.pid}-${Date.now()}-${++messageCounter}`
const isRoomId = (id) => id.includes('@')

const puppet = new ChamberPuppetMock({ mocker })
buildWorld()

// Every client connect calls stop() (which logs the bot out) then start(); the mocker runs its
// environments on each start(), so this one logs the bot back in. The world itself is never rebuilt.
mocker.use(() => {
  if (!puppet.isLoggedIn) logIn()
  return () => {}
})

function logIn () {
  mocker.login(mocker.ContactMock.load(BOT.id))
  // Real puppets say 'ready' once synced; the stock mock never does. The gateway replays login
  // and ready to each new event stream from puppet state (isLoggedIn, readyIndicator).
  setImmediate(() => puppet.emit('ready', { data: 'ready' }))
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------
const fileNames = {
  [MessageType.Image]: 'image.png',
  [MessageType.Emoticon]: 'sticker.png',
  [MessageType.Attachment]: 'file.png',
  [MessageType.Video]: 'video.png',
  [MessageType.Audio]: 'voice.png',
}

function messageType (name) {
  if (name === undefined) return MessageType.Text
  const type = MessageType[name]
  if (typeof type !== 'number') throw new Error(`unknown message type ${name}; one of ${Object.keys(MessageType).filter((k) => isNaN(Number(k))).join(', ')}`)
  return type
}

const commands = {
  // A member speaks: in a room if "room" is given, else privately to the bot.
  // Optional: "mentions" (ids, "notify@all" allowed), "type" (puppet MessageType name, e.g.
  // "RedEnvelope", "Emoticon", "Image"), "quote": {"talker": id, "text": "..."} for a quoted reply.
  say (c) {
    const talker = mocker.contactPayload(c.talker)
    const type = messageType(c.type)
    let text = c.text ?? ''
    if (c.quote) {
      // WeChat has no quote field in wechaty 1.x: iPad-protocol puppets render quoted replies as
      // text in this shape (reported, not measured here).
      const quoted = mocker.contactPayload(c.quote.talker)
      text = `「${quoted.name}：${c.quote.text}」\n- - - - - - - - - - - - - - -\n${text}`
    }
    const fields = { talkerId: talker.id, type, text }
    if (c.room) {
      const room = mocker.roomPayload(c.room)
      if (!room.memberIdList.includes(talker.id)) throw new Error(`${talker.id} is not in ${c.room}`)
      for (const id of c.mentions ?? []) {
        if (id !== 'notify@all' && !room.memberIdList.includes(id)) throw new Error(`mention ${id} is not in ${c.room}`)
      }
      fields.roomId = room.id
      fields.mentionIdList = [...(c.mentions ?? [])]
    } else {
      if ((c.mentions ?? []).length) throw new Error('mentions only exist in rooms')
      fields.listenerId = BOT.id
    }
    const id = newMessageId()
    if (type in fileNames) {
      mocker.cacheFileBoxPayload.set(id, { type: FILE_BOX_TYPE_BASE64, name: c.filename ?? fileNames[type], base64: TINY_PNG })
    }
    puppet.emitMessage({ ...fields, id })
    return { event: 'said', id }
  },

  // Many members speak at once (the benchmark's bursts): "says" is a list of say commands'
  // fields; one reply when all are emitted.
  say_many (c) {
    for (const one of c.says) commands.say(one)
    return { event: 'said_many', count: c.says.length }
  },

  // Get the announcement, or with "text" set it as the room's owner would in the WeChat app.
  announcement (c) {
    mocker.roomPayload(c.room)
    if (c.text !== undefined) puppet.announcements.set(c.room, c.text)
    return { event: 'announcement', room: c.room, text: puppet.announcements.get(c.room) ?? '' }
  },

  // Get the topic, or with "text" (and "by", a member id) rename the room: emits room-topic.
  topic (c) {
    const room = mocker.roomPayload(c.room)
    if (c.text !== undefined) {
      const by = c.by ?? BOT.id
      if (!room.memberIdList.includes(by)) throw new Error(`${by} is not in ${c.room}`)
      mocker.RoomMock.load(c.room).topic(c.text).by(mocker.ContactMock.load(by))
    }
    return { event: 'topic', room: c.room, text: room.topic }
  },

  members (c) {
    return { event: 'members', room: c.room, members: [...mocker.roomPayload(c.room).memberIdList] }
  },

  // Someone joins / leaves a room (room-join / room-leave events). "by" defaults to the owner.
  join (c) {
    const room = mocker.roomPayload(c.room)
    if (room.memberIdList.includes(c.contact)) throw new Error(`${c.contact} is already in ${c.room}`)
    const contact = mocker.contactPayload(c.contact)
    mocker.RoomMock.load(c.room).add(mocker.ContactMock.load(contact.id)).by(mocker.ContactMock.load(c.by ?? room.ownerId))
    return { event: 'joined', room: c.room, contact: c.contact }
  },
  leave (c) {
    const room = mocker.roomPayload(c.room)
    if (!room.memberIdList.includes(c.contact)) throw new Error(`${c.contact} is not in ${c.room}`)
    mocker.RoomMock.load(c.room).remove(mocker.ContactMock.load(c.contact)).by(mocker.ContactMock.load(c.by ?? room.ownerId))
    return { event: 'left', room: c.room, contact: c.contact }
  },

  // A contact not yet in the world (e.g. a new member to invite).
  contact (c) {
    mocker.createContact({ id: c.id, name: c.name, friend: false, alias: undefined })
    return { event: 'contact', id: c.id }
  },

  async logout (c) {
    await puppet.logout(c.reason ?? 'logout by test')
    return { event: 'logged_out' }
  },
  login () {
    if (puppet.isLoggedIn) throw new Error('already logged in')
    logIn()
    return { event: 'logged_in' }
  },

  // Emit a raw puppet event, forwarded by the gateway to the connected client as is, e.g.
  // {"cmd":"event","name":"dirty","payload":{"payloadType":3,"payloadId":"presidents@chatroom"}}
  // (gRPC EVENT_TYPE_DIRTY=27), "post", "heartbeat", "error", "friendship", "scan", ...
  event (c) {
    if (!(c.name in PUPPET.types.PUPPET_EVENT_DICT)) throw new Error(`unknown puppet event ${c.name}`)
    puppet.emit(c.name, c.payload ?? {})
    return { event: 'emitted', name: c.name }
  },

  ping () {
    return { event: 'pong' }
  },
}

async function handle (line) {
  let c
  try {
    c = JSON.parse(line)
    const fn = commands[c.cmd]
    if (!fn) throw new Error(`unknown cmd ${JSON.stringify(c.cmd)}`)
    const reply = await fn(c)
    out(c.req === undefined ? reply : { ...reply, req: c.req })
  } catch (e) {
    out({ event: 'error', message: String(e?.message ?? e), ...(c?.req === undefined ? {} : { req: c.req }) })
  }
}

// ---------------------------------------------------------------------------------------------
// Start: world, puppet logged in, gRPC server listening, then {"event":"ready"}.
// ---------------------------------------------------------------------------------------------
// A test must see problems, not a dead gateway: report them and keep serving.
process.on('unhandledRejection', (e) => out({ event: 'error', message: `unhandled rejection: ${e?.message ?? e}` }))
process.on('uncaughtException', (e) => out({ event: 'error', message: `uncaught exception: ${e?.message ?? e}` }))

const loggedIn = new Promise((resolve) => puppet.once('login', resolve))
await puppet.start()
await loggedIn

const server = new PuppetServer({ endpoint: `127.0.0.1:${PORT}`, puppet, token: TOKEN })
try {
  await server.start()
} catch (e) {
  out({ event: 'error', message: `gateway failed to start on port ${PORT}: ${e?.message ?? e}`, fatal: true })
  process.exit(1)
}

async function shutdown (code) {
  try { await server.stop() } catch {}
  process.exit(code)
}
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))

const readline = await import('node:readline')
const rl = readline.createInterface({ input: process.stdin })
// Commands run one at a time, in order, so replies come back in command order.
let queue = Promise.resolve()
rl.on('line', (line) => {
  if (line.trim()) queue = queue.then(() => handle(line))
})
// The harness closing stdin (or dying) ends the gateway: no orphan node processes.
rl.on('close', () => queue.then(() => shutdown(0)))

out({ event: 'ready', port: Number(PORT) })
