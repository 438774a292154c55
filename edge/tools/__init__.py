"""Developer tools (not used by the daemon): sample generation and crop-margin measurement."""
