"""`image_dataset_from_directory`: a directory of images as batches of float32 arrays and
their labels (Keras's `keras.utils.image_dataset_from_directory`).

Keras returns a `tf.data.Dataset` (or a grain dataset); minikeras returns a `PyDataset` that
`fit`, `evaluate`, `predict` and a `for` loop read the same way, with the same attributes
(`class_names`, `file_paths`), reading and resizing each batch's images when it is asked for.
Images are read by Pillow and resized by `minikeras.ops.image.resize` (TensorFlow's resize,
Keras's "grain" path): a PNG gives Keras's pixels; a JPEG's decoder may differ by a level.
"""

import numpy as np

from minikeras import config
from minikeras.utils import dataset_utils
from minikeras.utils.image_utils import _pil_image

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
INTERPOLATIONS = (
    "bilinear",
    "nearest",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
)
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    format="tf",
    verbose=True,
):
    """Batches of the images under `directory` (`(batch, height, width, channels)` float32,
    pixel values 0-255) with their labels: "int" (int32), "binary" (float32, (batch, 1)),
    "categorical" (float32 one-hot) or None (images only). With `subset="both"` a list of the
    training and validation datasets.

    >>> import os, tempfile, numpy as np
    >>> from minikeras.utils import image_dataset_from_directory, save_img
    >>> root = tempfile.mkdtemp()
    >>> for name in ("cats", "dogs"):
    ...     os.mkdir(os.path.join(root, name))
    ...     save_img(os.path.join(root, name, "a.png"), np.zeros((8, 6, 3)))
    >>> data = image_dataset_from_directory(root, image_size=(4, 4), batch_size=2)
    Found 2 files belonging to 2 classes.
    >>> images, labels = data[0]
    >>> images.shape, sorted(labels.tolist()), data.class_names
    ((2, 4, 4, 3), [0, 1], ['cats', 'dogs'])
    """
    dataset_utils.check_labels_arguments(labels, label_mode, class_names, kind="image")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError(
            '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
            f"Received: color_mode={color_mode}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. "
            f"Received: image_size={image_size}"
        )
    interpolation = interpolation.lower()
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    dataset_utils.check_format(format)
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        # Keras raises this when the first image is read; minikeras before reading any
        raise ValueError(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`."
        )
    image_paths, labels, class_names, seed = dataset_utils.index_labelled_files(
        directory,
        labels,
        label_mode,
        ALLOWLIST_FORMATS,
        class_names,
        shuffle,
        seed,
        follow_links,
        verbose,
    )
    data_format = config.image_data_format() if data_format is None else data_format
    resize = dict(
        size=tuple(image_size),
        interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format=data_format,
    )
    # Keras's "tf" format pads with tf.image.resize_with_pad (resize, then pad); its "grain"
    # format with ops.image.resize (pad, then resize): the two place the image differently
    pad_after = pad_to_aspect_ratio and format == "tf"

    def load(paths):
        images = [load_image(path, channels, data_format, resize, pad_after) for path in paths]
        return np.stack(images)

    datasets = dataset_utils.datasets_of_files(
        image_paths,
        labels,
        class_names,
        label_mode,
        load,
        batch_size,
        shuffle,
        seed,
        format,
        validation_split,
        subset,
        no_files=lambda which: (
            f"No {which}images found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}"
        ),
    )
    return datasets


def load_image(path, channels, data_format, resize, pad_after=False):
    """One image file as a float32 array in `data_format`, resized as `resize` says."""
    from minikeras import ops  # (ops imports utils: imported when an image is read)

    image = _pil_image("image_dataset_from_directory").open(path)
    # a one-channel image keeps its 16- or 32-bit values, as Keras's
    if channels != 1 or image.mode not in ("L", "I;16", "I"):
        if image.mode != _MODES[channels]:
            image = image.convert(_MODES[channels])
    pixels = np.asarray(image, dtype="float32")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pad_after:
        pixels = resize_with_pad(pixels, resize["size"], resize["interpolation"])
    else:
        pixels = np.asarray(ops.image.resize(pixels, **{**resize, "data_format": "channels_last"}))
    if data_format == "channels_first":
        pixels = pixels.transpose(2, 0, 1)
    return pixels.astype("float32")


def resize_with_pad(pixels, size, interpolation):
    """tf.image.resize_with_pad: the image scaled to fit inside `size` keeping its aspect
    ratio (each side floored), then padded with zeros, `floor(margin / 2)` before it, where
    the margin is measured on the unfloored size."""
    from minikeras import ops

    height, width = pixels.shape[:2]
    ratio = max(width / size[1], height / size[0])
    inner = (height / ratio, width / ratio)
    top, left = (max(0, int(np.floor((s - f) / 2))) for s, f in zip(size, inner))
    scaled = np.asarray(
        ops.image.resize(
            pixels, (int(inner[0]), int(inner[1])), interpolation, data_format="channels_last"
        ),
        dtype="float32",
    )
    padded = np.zeros((size[0], size[1], pixels.shape[2]), dtype="float32")
    padded[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return padded
