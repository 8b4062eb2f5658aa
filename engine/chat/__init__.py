"""Conversations: the chat format (special tokens, the loss mask) and the conversation dataset."""
