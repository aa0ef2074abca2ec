"""The document library: PDF text, chunks, embedders, the BM25 and FAISS indexes, hybrid search."""
