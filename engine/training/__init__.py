"""Training: the loop and its presets, pretraining, fine-tuning (SFT), and the child process
that runs a training stage away from the screen."""
