"""The base of the image preprocessing and augmentation layers (Keras's contract).

A layer of this family does its work in two steps, so that images, labels and masks of one
batch get the same random change:

    get_random_transformation(data, training)   draws the parameters (one per image)
    transform_images(images, transformation)     applies them; also transform_labels,
                                                 transform_segmentation_masks

`call(data, training=True)` takes a batch of images (rank 4), one image (rank 3), or a dict
with "images" and any of "labels", "segmentation_masks", "bounding_boxes". The random layers
change nothing at inference (`training=False`), as Keras's; called directly, outside any model,
they augment: Keras reads an unspecified `training` from `call`'s signature there.

The backward pass: an augmentation sits in a model's input pipeline and has no weights; its
gradient is dL/dx for the transformation drawn in the last call (the random parameters are
constants: nothing flows to them). Each layer writes `backward_images(dy, transformation)`
(batched, channels as `data_format` says) beside its `transform_images`; at inference the
layer is the identity and dx = dy. A layer made of `minikeras.ops` (Resizing, the crops, the
blur, the HSV layers) says `backward = Layer.backward` instead: the tape replays its call.
"""

import functools
import math

import numpy as np

from minikeras import ops
from minikeras import random as random_module
from minikeras.layers import recorded_call
from minikeras.layers.conv_utils import standardize_data_format
from minikeras.layers.layer import Layer
from minikeras.layers.node import is_symbolic


class _NumPyBackend:
    """What Keras's layers reach as `self.backend` (a DynamicBackend, which switches to
    TensorFlow inside a tf.data pipeline): here always minikeras's NumPy ops. Random draws go
    through `self.backend.random` so that a test may patch them, as Keras's tests do."""

    name = _backend = "numpy"
    numpy = ops.numpy
    image = ops.image
    nn = ops.nn
    core = ops.core
    random = random_module
    cast = staticmethod(ops.cast)
    shape = staticmethod(ops.shape)
    convert_to_tensor = staticmethod(ops.convert_to_tensor)
    is_tensor = staticmethod(ops.is_tensor)

    def set_backend(self, name):
        """Keras switches backends inside tf.data graphs; minikeras has one."""

    def reset(self):
        """See `set_backend`."""


_BACKEND = _NumPyBackend()


class BaseImagePreprocessingLayer(Layer):
    """Base class of the image preprocessing layers: `factor` parsing, the call that routes
    images, labels, masks and boxes to their transforms, unbatched images, and the backward.

    A subclass writes `get_random_transformation`, `transform_images` (or `_transform_images`)
    and `backward_images`; `_USE_BASE_FACTOR = False` when its factor is not one number or
    pair in `_FACTOR_BOUNDS`.
    """

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)
    backend = _BACKEND
    interpolation = "bilinear"  # what `transform_images` passes to `_transform_images`
    builds_at_init = True  # no weights: built once made, as Keras's

    def __init_subclass__(cls, **kwargs):
        # the steps a tf.data pipeline may call by themselves, on its graph's tensors
        # (`dataset.map(lambda x: layer.transform_bounding_boxes(x, t))`): each written
        # for arrays, and run through TensorFlow's side (minikeras/parity/tf_data.py) there
        super().__init_subclass__(**kwargs)
        for name in _STEPS:
            if name in cls.__dict__:
                setattr(cls, name, _graph_aware(cls.__dict__[name]))

    def build(self, input_shape):
        if isinstance(input_shape, dict):  # a dict of images, labels...: the images' shape
            input_shape = input_shape["images"]
        super().build(input_shape)

    def __init__(self, factor=None, bounding_box_format=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        self.data_format = standardize_data_format(data_format)
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise ValueError(
                f"Layer {type(self).__name__} does not take a `factor` argument. "
                f"Received: factor={factor}"
            )
        self._last = None  # (training, transformation, unbatched) of the last call

    def _set_factor(self, factor):
        """(lower, upper) from one number f (the range [-|f|, |f|], clipped to the bounds) or
        a pair (sorted); ValueError outside `_FACTOR_BOUNDS`, as Keras."""
        low, high = self._FACTOR_BOUNDS
        message = (
            "The `factor` argument should be a number (or a list of two numbers) in the range "
            f"[{low}, {high}]. Received: factor={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > high or factor[1] < low:
                raise ValueError(message)
            lower, upper = sorted(factor)
        elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if factor < low or factor > high:
                raise ValueError(message)
            factor = abs(factor)
            lower, upper = max(-factor, low), factor
        else:
            raise ValueError(message)
        self.factor = lower, upper

    # ------------------------------------------------------------------ the transforms
    def get_random_transformation(self, data, training=True, seed=None):
        return None

    def _transform_images(self, images, transformation, interpolation):
        raise NotImplementedError()

    def transform_images(self, images, transformation, training=True):
        images = _cast(images, self.compute_dtype)
        if training:
            images = self._transform_images(images, transformation, self.interpolation)
        return images

    def transform_labels(self, labels, transformation, training=True):
        raise NotImplementedError()

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        raise NotImplementedError(
            f"{type(self).__name__} does not transform bounding boxes in minikeras"
        )

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if training:
            segmentation_masks = self._transform_images(
                segmentation_masks, transformation, "nearest"
            )
        return segmentation_masks

    def transform_single_image(self, image, transformation, training=True):
        images = self.backend.numpy.expand_dims(image, axis=0)
        out = self.transform_images(images, transformation=transformation, training=training)
        return self.backend.numpy.squeeze(out, axis=0)

    def transform_single_label(self, label, transformation, training=True):
        out = self.transform_labels(label[None], transformation=transformation, training=training)
        return out[0]

    def transform_single_segmentation_mask(self, segmentation_mask, transformation, training=True):
        out = self.transform_segmentation_masks(
            segmentation_mask[None], transformation=transformation, training=training
        )
        return out[0]

    def _is_batched(self, images):
        rank = len(self.backend.shape(images))
        if rank not in (3, 4):
            raise ValueError(
                "Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                f"Received: data.shape={tuple(self.backend.shape(images))}"
            )
        return rank == 4

    # ------------------------------------------------------------------ the call
    def __call__(self, *args, **kwargs):
        # Keras resolves an unspecified `training` from `call`'s signature (True here) when
        # no outer call gives one: `RandomFlip()(images)` flips (keras/src/layers/layer.py,
        # "Resolve the training value"). Inside a model, the model's `training` rules.
        first = args[0] if args else kwargs.get("inputs", kwargs.get("data"))
        if _graph_tensors(first):  # inside `tf.data.Dataset.map`: TensorFlow's side of it
            from minikeras.parity.tf_data import map_in_tf_graph

            training = kwargs.get("training", args[1] if len(args) > 1 else True)
            return map_in_tf_graph(self, first, lambda data: self._call_eagerly(data, training))
        explicit = "training" in kwargs or len(args) > 1
        if not explicit and not recorded_call.in_a_call() and not is_symbolic(first):
            kwargs["training"] = True
        if isinstance(first, dict) and len(args) < 2:
            # a data pipeline's dict of images, labels, boxes: updated in place and
            # returned, as Keras's layer does it (no graph, no backward)
            training = kwargs.get("training", recorded_call.current_training())
            return self.call(first, training=bool(training))
        return super().__call__(*args, **kwargs)

    def _call_eagerly(self, data, training):
        """The layer on arrays (a dict's entries as arrays), outside any model: a tf.data
        pipeline's call."""
        if isinstance(data, dict):
            return self.call(_as_arrays(data), training=bool(training))
        return self(np.asarray(data), training=bool(training))

    def call(self, data, training=True):
        transformation = self.get_random_transformation(data, training=training)
        if isinstance(data, dict):
            return self._call_on_dict(data, transformation, training)
        batched = self._is_batched(data)
        self._last = (training, transformation, not batched)
        if batched:
            return self.transform_images(data, transformation=transformation, training=training)
        return self.transform_single_image(data, transformation=transformation, training=training)

    def _call_on_dict(self, data, transformation, training):
        """The entries of a dict transformed together (the dict is updated, as Keras's)."""
        self._last = None  # a data pipeline's call: no backward
        batched = self._is_batched(data["images"])
        images = np.asarray(data["images"])
        if batched:
            data["images"] = self.transform_images(images, transformation, training=training)
        else:
            data["images"] = self.transform_single_image(images, transformation, training=training)
        if "bounding_boxes" in data:
            if not self.bounding_box_format:
                raise ValueError(
                    "You passed an input with a 'bounding_boxes' key, but you didn't specify a "
                    "bounding box format. Pass a `bounding_box_format` argument to your "
                    f"{type(self).__name__} layer, e.g. `bounding_box_format='xyxy'`."
                )
            boxes = densify_bounding_boxes(data["bounding_boxes"])
            if not batched:
                boxes = {k: (v[None] if k in ("boxes", "labels") else v) for k, v in boxes.items()}
            boxes = self.transform_bounding_boxes(boxes, transformation, training=training)
            if not batched:
                boxes = {k: (v[0] if k in ("boxes", "labels") else v) for k, v in boxes.items()}
            data["bounding_boxes"] = boxes
        if "labels" in data:
            labels = np.asarray(data["labels"])
            if batched:
                data["labels"] = self.transform_labels(labels, transformation, training=training)
            else:
                data["labels"] = self.transform_single_label(
                    labels, transformation, training=training
                )
        if "segmentation_masks" in data:
            masks = np.asarray(data["segmentation_masks"])
            if batched:
                data["segmentation_masks"] = self.transform_segmentation_masks(
                    masks, transformation, training=training
                )
            else:
                data["segmentation_masks"] = self.transform_single_segmentation_mask(
                    masks, transformation, training=training
                )
        return data

    # ------------------------------------------------------------------ the backward
    def backward(self, dy):
        """dx = the adjoint of the last call's transformation applied to dy (dx = dy at
        inference); the transformation's random parameters get no gradient."""
        if self._last is None:
            raise ValueError(
                f"{type(self).__name__}.backward needs a call on images first (a call on a "
                "dict of images, labels and boxes is a data pipeline's: it has no backward)"
            )
        training, transformation, unbatched = self._last
        self.grads = []
        if not training:
            return dy
        if unbatched:
            return self.backward_images(dy[None], transformation)[0]
        return self.backward_images(dy, transformation)

    def backward_images(self, dy, transformation):
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    def check_input_shape(self, shape):
        """No check: Keras's image layers take a batch after one image, or images of another
        size, whatever they were built for (they have no input spec)."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config

    # ------------------------------------------------------------------ helpers
    def _spatial_axes(self):
        """(height axis, width axis), counted from the end."""
        return (-2, -1) if self.data_format == "channels_first" else (-3, -2)

    def _transform_value_range(self, images, original_range, target_range, dtype="float32"):
        """images mapped linearly from `original_range` to `target_range` (colour layers work
        in [0, 255] whatever the input's range)."""
        if tuple(original_range) == tuple(target_range):
            return images
        images = _cast(images, dtype)
        low, high = (np.asarray(v, dtype) for v in original_range)
        new_low, new_high = (np.asarray(v, dtype) for v in target_range)
        return (images - low) / (high - low) * (new_high - new_low) + new_low

    def _unwrap_value_range(self, value_range, dtype="float32"):
        return tuple(np.asarray(v, dtype) for v in value_range)

    def _compute_affine_matrix(
        self, center_x, center_y, angle, translate_x, translate_y, scale, shear_x, shear_y,
        height, width,
    ):  # fmt: skip
        """The transforms [a0, a1, a2, b0, b1, b2, 0, 0] (ops.image.affine_transform's
        layout, output pixel → input pixel) of a rotation by `angle` degrees about the
        centre (center_x·(width − 1), center_y·(height − 1)), scaled, sheared and translated:

            a0 = s·(cos θ + shx·sin θ)      a1 = s·(−sin θ + shx·cos θ)
            b0 = s·(shy·cos θ + sin θ)      b1 = s·(−shy·sin θ + cos θ)
            a2 = tx + cx − cx·a0 − cy·a1    b2 = ty + cy − cx·b0 − cy·b1

        with shx = tan(shear_x), shy = tan(shear_y) (angles in degrees)."""
        angle = np.asarray(angle)
        dtype = angle.dtype
        to_radians = dtype.type(math.pi / 180.0)
        theta = angle * to_radians
        shear_x = np.tan(np.asarray(shear_x, dtype) * to_radians)
        shear_y = np.tan(np.asarray(shear_y, dtype) * to_radians)
        cx = np.asarray(center_x, dtype) * (dtype.type(width) - 1)
        cy = np.asarray(center_y, dtype) * (dtype.type(height) - 1)
        cos, sin = np.cos(theta), np.sin(theta)
        a0 = scale * (cos + shear_x * sin)
        a1 = scale * (-sin + shear_x * cos)
        a2 = translate_x + cx - cx * a0 - cy * a1
        b0 = scale * (shear_y * cos + sin)
        b1 = scale * (shear_y * -sin + cos)
        b2 = translate_y + cy - cx * b0 - cy * b1
        zeros = np.zeros((angle.shape[0], 2), dtype)
        columns = [np.reshape(c, (-1, 1)).astype(dtype) for c in (a0, a1, a2, b0, b1, b2)]
        return np.concatenate(columns + [zeros], axis=1)


_STEPS = (
    "get_random_transformation",
    "transform_images",
    "transform_labels",
    "transform_bounding_boxes",
    "transform_segmentation_masks",
)


def _graph_aware(step):
    """`step(data, ...)` as written for arrays, or, on a TensorFlow graph's tensors, run on
    their values by TensorFlow (see `__init_subclass__`)."""

    @functools.wraps(step)
    def run(self, data, *args, **kwargs):
        if _graph_tensors(data):
            from minikeras.parity.tf_data import map_in_tf_graph

            return map_in_tf_graph(self, data, lambda arrays: step(self, arrays, *args, **kwargs))
        return step(self, data, *args, **kwargs)

    return run


def _graph_tensors(data):
    """Whether `data` (a tensor, or a dict of them) holds TensorFlow graph tensors (a
    `dataset.map`'s, no value yet), recognised without importing TensorFlow."""
    leaves = list(data.values()) if isinstance(data, dict) else [data]
    leaves = [v for leaf in leaves for v in (leaf.values() if isinstance(leaf, dict) else [leaf])]
    return bool(leaves) and all(
        type(t).__module__.startswith("tensorflow") and not hasattr(t, "_numpy") for t in leaves
    )


def _as_arrays(data):
    """A (nested) dict's entries as NumPy arrays (a copy: the caller's dict is left alone)."""
    return {k: _as_arrays(v) if isinstance(v, dict) else np.asarray(v) for k, v in data.items()}


for _name in _STEPS:
    setattr(
        BaseImagePreprocessingLayer,
        _name,
        _graph_aware(BaseImagePreprocessingLayer.__dict__[_name]),
    )


def _cast(x, dtype):
    """x in `dtype` (an op: a layer differentiated by the tape keeps its record)."""
    return x if np.dtype(x.dtype) == np.dtype(dtype) else ops.cast(x, dtype)


def densify_bounding_boxes(bounding_boxes):
    """{"boxes": float32 array (..., 4), "labels": array}, checked as Keras checks them."""
    if (
        not isinstance(bounding_boxes, dict)
        or "labels" not in bounding_boxes
        or "boxes" not in bounding_boxes
    ):
        raise ValueError(
            "Expected `bounding_boxes` agurment to be a dict with keys 'boxes' and 'labels'. "
            f"Received: bounding_boxes={bounding_boxes}"
        )
    boxes = np.asarray(bounding_boxes["boxes"], dtype="float32")
    labels = np.asarray(bounding_boxes["labels"])
    if boxes.ndim not in (2, 3):
        raise ValueError(
            "Expected `bounding_boxes['boxes']` to have rank 2 or 3, with shape (num_boxes, 4) "
            f"or (batch_size, num_boxes, 4). Received: bounding_boxes['boxes'].shape={boxes.shape}"
        )
    return {**bounding_boxes, "boxes": boxes, "labels": labels}


def check_fill_mode_and_interpolation(layer, fill_mode, interpolation):
    """Keras's NotImplementedError for a fill mode or interpolation the layer lacks."""
    if fill_mode not in layer._SUPPORTED_FILL_MODE:
        raise NotImplementedError(
            f"Unknown `fill_mode` {fill_mode}. Expected of one {layer._SUPPORTED_FILL_MODE}."
        )
    if interpolation not in layer._SUPPORTED_INTERPOLATION:
        raise NotImplementedError(
            f"Unknown `interpolation` {interpolation}. Expected of one "
            f"{layer._SUPPORTED_INTERPOLATION}."
        )
