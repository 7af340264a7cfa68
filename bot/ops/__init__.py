"""Operations: alerts, the webhook, incidents, status and health, logs, the instance lock.

May import bot.core only. health.py imports nothing of the bot: Docker runs it every minute.
"""
