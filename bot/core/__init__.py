"""The core: config, store, router, commands, outbox, plain message types, errors, small helpers.

Imports nothing else of the bot; every other package imports it (arrows point down to core).
"""
