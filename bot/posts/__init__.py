"""Posts and scheduling: post files, schedule phrases, the library, scheduler, publisher, desk.

May import bot.core only: it knows nothing of WeChat's transport nor of congratulations.
"""
