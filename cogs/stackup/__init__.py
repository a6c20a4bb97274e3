"""/stackup: about the bot, and a server's settings."""
