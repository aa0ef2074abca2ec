"""The model side: the client, its runner process, the decoder, the catalog and the GGUF files."""
