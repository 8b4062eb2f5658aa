"""The model: the GPT in one readable file, its checkpoints, and the device it runs on."""
