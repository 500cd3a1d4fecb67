"""Model assets: where each model's weights come from, their checksums and model cards."""
