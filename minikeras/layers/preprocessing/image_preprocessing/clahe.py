"""ContrastLimitedAdaptiveHistogramEqualization (CLAHE): histogram equalization per tile."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class ContrastLimitedAdaptiveHistogramEqualization(BaseImagePreprocessingLayer):
    """Equalize each channel's histogram tile by tile, in [0, 255] (from `value_range` and
    back), as Keras's layer does:

    1. the image is cut into `tile_grid_size` = (gh, gw) tiles of th = ⌈H/gh⌉ by tw = ⌈W/gw⌉
       pixels (padded symmetrically at the bottom and right to fill them);
    2. each tile's 256-bin histogram of the integer parts of its pixels is clipped at
       `clip_limit`·th·tw/256, the excess shared equally by the 256 bins;
    3. its running sum c gives the tile's table T = clip(255·(c − c₀)/(th·tw − c₀), 0, 255);
    4. a pixel reads the tables of its four nearest tile centres (the border tiles repeated
       outside) at its integer part, mixed bilinearly by its distance to those centres.

    Not random, and applied at inference too (Keras's `transform_images` reads no
    `training`). Integer images come back in their dtype (truncated, as TensorFlow casts).

    Backward: the output depends on x only through its integer part (a table lookup), so
    dx = 0.
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def transform_images(self, images, transformation=None, training=True):
        images = np.asarray(images)
        channels_first = self.data_format == "channels_first"
        x = np.moveaxis(images, -3, -1) if channels_first else images
        x = self._transform_value_range(x, self.value_range, (0, 255), dtype="float32")
        x = self._clahe(x[None] if x.ndim == 3 else x).reshape(x.shape)
        x = self._transform_value_range(x, (0, 255), self.value_range, dtype="float32")
        x = x.astype(images.dtype)
        return np.moveaxis(x, -1, -3) if channels_first else x

    def backward(self, dy):
        """dx = 0 at training and inference (the layer acts in both)."""
        self.grads = []
        return np.zeros_like(dy)

    def _tables(self, padded, grid, tile):
        """The tiles' lookup tables (batch, gh, gw, C, 256), float32 (steps 2 and 3)."""
        (grid_h, grid_w), (tile_h, tile_w) = grid, tile
        batch, channels = padded.shape[0], padded.shape[-1]
        tiles = padded.reshape(batch, grid_h, tile_h, grid_w, tile_w, channels)
        tiles = np.clip(tiles.astype(np.int32), 0, 255).transpose(0, 1, 3, 5, 2, 4)
        tiles = tiles.reshape(batch, grid_h, grid_w, channels, tile_h * tile_w)
        # each tile's counts: one bincount over (tile index·256 + pixel value), exact integers
        groups = int(np.prod(tiles.shape[:-1]))
        index = np.arange(groups)[:, None] * 256 + tiles.reshape(groups, -1)
        hists = np.bincount(index.ravel(), minlength=groups * 256).astype(np.float32)
        hists = hists.reshape(tiles.shape[:-1] + (256,))
        if self.clip_limit > 0:
            limit = np.float32(self.clip_limit * (tile_h * tile_w) / 256.0)
            clipped = np.clip(hists, 0, limit)
            excess = np.sum(hists - clipped, axis=-1, keepdims=True)
            hists = clipped + excess / np.float32(256.0)
        cdf = np.cumsum(hists, axis=-1, dtype=np.float32)
        cdf_min = np.min(cdf, axis=-1, keepdims=True)
        denominator = np.float32(tile_h * tile_w) - cdf_min
        denominator = np.where(denominator == 0, np.float32(1), denominator)
        return np.clip((cdf - cdf_min) * np.float32(255.0) / denominator, 0, 255)

    def _clahe(self, images):
        """Batched channels-last images in [0, 255] (float32) → equalized (steps 1–4)."""
        batch, height, width, channels = images.shape
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        pad = [(0, 0), (0, tile_h * grid_h - height), (0, tile_w * grid_w - width), (0, 0)]
        padded = np.pad(images, pad, mode="symmetric")
        tables = self._tables(padded, (grid_h, grid_w), (tile_h, tile_w))
        tables = np.pad(tables, [(0, 0), (1, 1), (1, 1), (0, 0), (0, 0)], mode="edge")
        # position of each pixel between the tile centres, in tiles (1 = the first centre)
        y = (np.arange(tile_h * grid_h, dtype=np.float32) - np.float32(tile_h / 2.0)) / tile_h
        x = (np.arange(tile_w * grid_w, dtype=np.float32) - np.float32(tile_w / 2.0)) / tile_w
        y, x = y + np.float32(1.0), x + np.float32(1.0)
        y0, x0 = np.floor(y), np.floor(x)
        wy, wx = (y - y0)[None, :, None, None], (x - x0)[None, None, :, None]
        y0, y1 = (np.clip(v, 0, grid_h + 1).astype(np.int32) for v in (y0, y0 + 1))
        x0, x1 = (np.clip(v, 0, grid_w + 1).astype(np.int32) for v in (x0, x0 + 1))
        pixels = np.clip(padded, 0, 255).astype(np.int32)
        b = np.arange(batch)[:, None, None, None]
        c = np.arange(channels)[None, None, None, :]

        def read(ty, tx):  # the table of tile (ty, tx) at each pixel's value
            return tables[b, ty[None, :, None, None], tx[None, None, :, None], c, pixels]

        one = np.float32(1.0)
        top = read(y0, x0) * (one - wx) + read(y0, x1) * wx
        bottom = read(y1, x0) * (one - wx) + read(y1, x1) * wx
        return (top * (one - wy) + bottom * wy)[:, :height, :width, :]

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "clip_limit": self.clip_limit,
            "tile_grid_size": self.tile_grid_size,
            "data_format": self.data_format,
        }
