"""Congratulations: what counts, the records and windows, the service, the report and picture.

May import bot.core and bot.posts (to read posts' titles); posts never import it.
"""
