"""Inference: the sampler (predict, choose, append, repeat) and evaluation of a trained model."""
