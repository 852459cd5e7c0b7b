"""The chat service: who is connected, what they follow, and the replies in progress."""
