"""A SQL mirror of every event of every contract in the deployment manifest."""

from indexer.engine import DeepReorgError, Indexer, IndexerError, Progress, run

__all__ = ["DeepReorgError", "Indexer", "IndexerError", "Progress", "run"]
