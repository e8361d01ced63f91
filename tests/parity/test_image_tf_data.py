"""The image layers inside `tf.data.Dataset.map` (TensorFlow's graph tensors): the layer, or
one of its steps, runs on the values through minikeras/parity/tf_data.py. Each result is
compared exactly with the same layer called on arrays (the same seed draws the same
numbers: the probe that learns the output's structure puts the random state back)."""

import copy

import numpy as np

from minikeras import layers

RNG = np.random.default_rng(23)
IMAGES = (RNG.random((4, 6, 7, 3)) * 255).astype("float32")
BOXES = {"boxes": np.array([[[1, 1, 3, 4], [2, 0, 6, 5]]] * 4, "float32"),
         "labels": np.array([[1, 2]] * 4)}  # fmt: skip


def test_a_layer_maps_a_dataset_of_images_as_it_maps_arrays(keras):
    import tensorflow as tf

    for make in (
        lambda: layers.RandomRotation(0.2, seed=3),
        lambda: layers.Equalization(),
    ):
        in_graph, eager = make(), make()
        dataset = tf.data.Dataset.from_tensor_slices(IMAGES).batch(2).map(in_graph)
        for batch, images in zip(dataset, (IMAGES[:2], IMAGES[2:])):
            np.testing.assert_array_equal(batch.numpy(), eager(images))
    resized = tf.data.Dataset.from_tensor_slices(IMAGES).batch(2).map(layers.Resizing(3, 5))
    assert tuple(resized.element_spec.shape) == (None, 3, 5, 3)


def test_a_layer_maps_a_dict_with_boxes(keras):
    import tensorflow as tf

    data = {"images": IMAGES, "bounding_boxes": BOXES}
    layer = layers.MaxNumBoundingBoxes(5, bounding_box_format="xyxy")
    dataset = tf.data.Dataset.from_tensor_slices(data).map(layer).batch(4)
    out = next(iter(dataset))
    assert out["bounding_boxes"]["boxes"].shape == (4, 5, 4)
    assert out["bounding_boxes"]["labels"].numpy()[0].tolist() == [1, 2, -1, -1, -1]
    flip, eager = (layers.RandomFlip(seed=5, bounding_box_format="xyxy") for _ in range(2))
    out = next(iter(tf.data.Dataset.from_tensor_slices(data).batch(4).map(flip)))
    expected = eager(copy.deepcopy(data))
    np.testing.assert_array_equal(out["images"].numpy(), expected["images"])
    np.testing.assert_array_equal(
        out["bounding_boxes"]["boxes"], expected["bounding_boxes"]["boxes"]
    )


def test_one_step_of_a_layer_maps_a_dataset(keras):
    import tensorflow as tf

    layer = layers.RandomTranslation(0.2, 0.2, bounding_box_format="xyxy")
    t = {"translations": np.array([[1.5, -2.0]], "float32"), "input_shape": (1, 6, 7, 3)}
    dataset = tf.data.Dataset.from_tensor_slices({"bounding_boxes": BOXES}).map(
        lambda x: layer.transform_bounding_boxes(x["bounding_boxes"], transformation=t)
    )
    out = next(iter(dataset))
    expected = layer.transform_bounding_boxes({k: v[0] for k, v in copy.deepcopy(BOXES).items()}, t)
    np.testing.assert_array_equal(out["boxes"].numpy(), expected["boxes"])
    draws = tf.data.Dataset.from_tensor_slices(IMAGES).batch(2)
    draws = draws.map(lambda x: layers.RandAugment(seed=1).get_random_transformation(x))
    assert next(iter(draws))["layer_idxes"].shape == (2,)
