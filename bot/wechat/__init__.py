"""The WeChat connection: the only package that imports wechaty*, wechaty_grpc or grpclib.

May import bot.core only. It hands the core plain `Incoming` messages and takes `Outgoing`
ones: compat.py (every python-wechaty workaround), connection.py (session, watchdog, events,
reconnects), actions.py (sending, names, groups), login_qr.py (the scan code).
"""
