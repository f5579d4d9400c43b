"""The index's stores, grouped by role (as Haystack groups its document stores):

- `qa.stores.generations`: the manifest, generation folders, the writer lock, readers' leases,
  garbage collection; `IndexSnapshot` (one loaded generation) and `IndexWriter` (the next one).
- `qa.stores.metadata`: articles and chunks in SQLite (`ChunkRecord`, `ArticleInfo`).
- `qa.stores.vectors`: the `VectorStore` interface and the choice of engine by name
  (``Settings.vector_store``: ``faiss``, ``milvus:PATH.db``, ``milvus:http://host:19530``).
- `qa.stores.faiss_store`: the embedded default; `qa.stores.milvus_store`: Milvus Lite or a
  Milvus server or cluster. A third engine is one more ``<name>_store.py`` module.
- `qa.stores.lexical`: BM25 over the chunk texts (bm25s).
"""
