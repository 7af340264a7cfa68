"""山西省山东商会 group bot. app.py assembles the packages below; cli.py is `python -m bot`.

core (no imports of the bot) <- wechat, posts, ops <- congrats <- handlers <- app <- cli;
simulator stands apart: it plays the gateway and imports nothing of the bot.
"""
