"""Hybrid retrieval over the policy knowledge base (dense m3e-small + BM25, fused, with citations).

Nothing heavy happens at import: models and indexes load in :meth:`retrieval.searcher.Retriever.warm_up`.
"""
