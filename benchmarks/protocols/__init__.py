"""Official evaluation protocols of public corpora, run beside the streaming evaluation."""
