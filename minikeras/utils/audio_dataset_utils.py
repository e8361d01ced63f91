"""`audio_dataset_from_directory`: a directory of `.wav` files as batches of float32 audio
and their labels (Keras's `keras.utils.audio_dataset_from_directory`).

Keras returns a `tf.data.Dataset`; minikeras returns a `PyDataset` read batch by batch, with
the same `class_names`. A file is read as `tf.audio.decode_wav` reads it: 16-bit PCM samples
divided by 32768, shape (samples, channels); `output_sequence_length` cuts or zero-pads each
file to that many samples, otherwise a batch is zero-padded to its longest file (Keras's
`padded_batch`). `ragged=True` gives each batch as an object array of the unpadded arrays.
"""

import wave

import numpy as np

from minikeras.utils import dataset_utils

ALLOWED_FORMATS = (".wav",)


def audio_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    sampling_rate=None,
    output_sequence_length=None,
    ragged=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """Batches of the `.wav` files under `directory`, `(batch, samples, channels)` float32 in
    [-1, 1), with their labels: "int" (int32), "binary" (float32, (batch, 1)), "categorical"
    (float32 one-hot) or None (audio only). With `subset="both"` a tuple of the training and
    validation datasets."""
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            "The `labels` argument should be a list/tuple of integer labels, of the same size "
            "as the number of audio files in the target directory. If you wish to infer the "
            'labels from the subdirectory names in the target directory, pass `labels="inferred"`. '
            "If you wish to get a dataset that only contains audio samples (no labels), pass "
            f"`labels=None`. Received: labels={labels}"
        )
    dataset_utils.check_labels_arguments(labels, label_mode, class_names, kind="audio")
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError(
                "`sampling_rate` should have an integer value. "
                f"Received: sampling_rate={sampling_rate}"
            )
        if sampling_rate <= 0:
            raise ValueError(
                f"`sampling_rate` should be higher than 0. Received: sampling_rate={sampling_rate}"
            )
        # Keras resamples with tensorflow_io, and raises this ImportError without it
        raise ImportError(
            "To use the argument `sampling_rate`, Keras needs tensorflow_io to resample the "
            "audio, and minikeras has no resampler: resample the files beforehand, or pass "
            "`sampling_rate=None`."
        )
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    file_paths, labels, class_names, seed = dataset_utils.index_labelled_files(
        directory,
        labels,
        label_mode,
        ALLOWED_FORMATS,
        class_names,
        shuffle,
        seed,
        follow_links,
        verbose,
    )

    def load(paths):
        clips = [read_wav(path, output_sequence_length) for path in paths]
        if ragged:
            return np.array(clips + [None], dtype=object)[:-1]
        longest = max(len(clip) for clip in clips)
        return np.stack([np.pad(clip, ((0, longest - len(clip)), (0, 0))) for clip in clips])

    datasets = dataset_utils.datasets_of_files(
        file_paths,
        labels,
        class_names,
        label_mode,
        load,
        batch_size,
        shuffle,
        seed,
        "tf",
        validation_split,
        subset,
        no_files=lambda which: (
            f"No {which}audio files found in directory {directory}. "
            f"Allowed format(s): {ALLOWED_FORMATS}"
        ),
    )
    return tuple(datasets) if subset == "both" else datasets


def read_wav(path, length=None):
    """A 16-bit PCM `.wav` file as float32 (samples, channels), cut or zero-padded to
    `length` samples when given."""
    with wave.open(path, "rb") as f:
        if f.getsampwidth() != 2:
            raise ValueError(
                f"Only 16-bit PCM .wav files can be read (as tf.audio.decode_wav reads them). "
                f"Received a file of {8 * f.getsampwidth()}-bit samples: {path}"
            )
        channels = f.getnchannels()
        frames = f.readframes(f.getnframes())
    audio = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).astype("float32") / 32768
    if length is not None:
        audio = np.pad(audio[:length], ((0, max(0, length - len(audio))), (0, 0)))
    return audio
