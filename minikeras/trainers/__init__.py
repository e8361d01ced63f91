"""What the training loop reads its batches from: data adapters and the epoch iterator."""

from minikeras.trainers.compile_utils import CompileLoss, CompileMetrics

__all__ = ["CompileLoss", "CompileMetrics"]
