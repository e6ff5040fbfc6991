"""The Fine-tune workspace (LoRA training in a child process)."""
