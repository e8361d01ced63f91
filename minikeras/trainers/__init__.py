"""What the training loop reads its batches from: data adapters and the epoch iterator."""
