"""Tokenizers: the BPE trainer, the tour's tokenizers (run by tiktoken), GPT-4's cl100k_base,
and the token shards pretraining reads."""
