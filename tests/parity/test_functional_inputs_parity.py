"""What a functional model accepts as inputs, and what it gives back, beside Keras.

Each model is built twice, with the same code, in minikeras and in Keras (weights copied
across), and both are given the same data in the same form: a dict by Input name, a nested
dict, None for an optional Input, an array with one axis too many or too few. The values must
agree, and where Keras warns or raises, minikeras warns or raises with the same words.

Tolerance: outputs are float32 products of at most 4 terms through at most two Dense layers,
computed in a different order (NumPy vs TensorFlow's kernels): a few float32 ulps, so rtol 1e-6
with atol 1e-6 for values near zero.
"""

import re
import warnings

import numpy as np
import pytest

import minikeras

TOL = dict(rtol=1e-6, atol=1e-6)
MISMATCH = "The structure of `inputs` doesn't match the expected structure"


def twins(keras, build):
    """The same model in minikeras and Keras, Keras holding minikeras's weights."""
    ours, theirs = build(minikeras), build(keras)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def close(ours, theirs):
    """Both results have the same structure and values."""
    assert type(ours) is type(theirs)
    if isinstance(ours, dict):
        assert sorted(ours) == sorted(theirs)
        for key in ours:
            close(ours[key], theirs[key])
    elif isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            close(a, b)
    else:
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), **TOL)


def same_error(ours_call, theirs_call, pattern):
    """Both raise ValueError, and both messages match `pattern`."""
    for call in (ours_call, theirs_call):
        with pytest.raises(ValueError, match=pattern):
            call()


def warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if str(w.message).startswith(MISMATCH)]


def two_inputs(lib, struct):
    a = lib.layers.Input((3,), name="a")
    b = lib.layers.Input((4,), name="b")
    h = lib.layers.Concatenate()([lib.layers.Dense(2, name="da")(a), b])
    out = lib.layers.Dense(2, name="out")(h)
    return lib.Model({"a": a, "b": b} if struct == "dict" else [a, b], out)


@pytest.mark.parametrize("struct", ["list", "dict"])
def test_inputs_given_by_name(keras, struct):
    ours, theirs = twins(keras, lambda lib: two_inputs(lib, struct))
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 4))}
    close(ours(x), np.asarray(theirs(x)))
    close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))


def test_a_list_for_a_dict_of_inputs_warns_and_an_unsorted_dict_raises(keras):
    x = [np.ones((2, 3)), np.zeros((2, 4))]
    for lib in (minikeras, keras):
        model = two_inputs(lib, "dict")
        assert len(warnings_of(lambda m=model: m.predict(x, verbose=0))) == 1
        a, b = lib.layers.Input((3,), name="a"), lib.layers.Input((4,), name="b")
        out = lib.layers.Concatenate()([a, b])
        unsorted = lib.Model({"b": b, "a": a}, out)
        with pytest.raises(ValueError, match=re.escape(MISMATCH)):
            unsorted(x)


def test_extra_dict_entries_warn_and_are_left_out(keras):
    ours, theirs = twins(keras, lambda lib: two_inputs(lib, "dict"))
    x = {"a": np.ones((2, 3)), "b": np.ones((2, 4)), "c": np.ones((2, 1))}
    assert len(warnings_of(lambda: ours(x))) == len(warnings_of(lambda: theirs(x))) == 1
    close(ours(x), np.asarray(theirs(x)))


def test_nested_inputs_and_outputs_keep_their_structure(keras):
    def build(lib):
        i1, i2, i3 = lib.Input((1,), name="i1"), lib.Input((2,), name="i2"), lib.Input((3,))
        o1, o2 = lib.layers.Dense(2)(i1), lib.layers.Dense(1)(i2)
        return lib.Model({"1": i1, "more": {"2": i2, "3": i3}}, {"1": o1, "more": (o2, i3 * 2)})

    ours, theirs = twins(keras, build)
    x = {"1": np.ones((2, 1)), "more": {"2": np.full((2, 2), 0.5), "3": np.ones((2, 3))}}
    got, want = ours(x), theirs(x)
    want = {"1": np.asarray(want["1"]), "more": tuple(np.asarray(t) for t in want["more"])}
    close(got, want)


class OptionalSum:
    """A layer adding its second input when it is given (a class per library)."""

    @staticmethod
    def make(lib):
        class Sum(lib.layers.Layer):
            def call(self, x, y=None):
                return x if y is None else x + y

            def compute_output_shape(self, x_shape):
                return x_shape

        return Sum()


@pytest.mark.parametrize("optional", [True, False])
def test_none_for_an_input(keras, optional):
    def build(lib):
        i1 = lib.Input((2,), name="i1")
        i2 = lib.Input((2,), name="i2", optional=optional)
        return lib.Model({"i1": i1, "i2": i2}, OptionalSum.make(lib)(i1, i2))

    ours, theirs = build(minikeras), build(keras)
    x = {"i1": np.full((2, 2), 3.0), "i2": None}
    if optional:
        close(ours(x), np.asarray(theirs(x)))
        close(ours([x["i1"], None]), np.asarray(theirs([x["i1"], None])))
    else:
        same_error(lambda: ours(x), lambda: theirs(x), "The input 'i2' is not optional")


def dense_on(lib, shape, name=None):
    x = lib.Input(shape, name=name)
    return lib.Model(x, lib.layers.Dense(2)(x))


def test_a_trailing_axis_of_one_is_squeezed_or_added(keras):
    for shape, data_shape in (((3,), (2, 3, 1)), ((3, 1), (2, 3))):
        ours, theirs = twins(keras, lambda lib, shape=shape: dense_on(lib, shape))
        x = np.random.default_rng(1).normal(size=data_shape)
        close(ours(x), np.asarray(theirs(x)))
    ours, theirs = dense_on(minikeras, (3,), "foo"), dense_on(keras, (3,), "foo")
    x = np.ones((2, 3, 4))
    same_error(lambda: ours(x), lambda: theirs(x), r"name 'foo' and path ''")


def test_each_input_keeps_its_dtype(keras):
    for lib in (minikeras, keras):
        f, i = lib.Input((2,), dtype="float16"), lib.Input((2,), dtype="int32")
        model = lib.Model((f, i), (f + 2, i + 2))
        a, b = model((np.ones((2, 2)), np.ones((2, 2))))
        assert (lib.backend.standardize_dtype(a.dtype), str(np.asarray(b).dtype)) == (
            "float16",
            "int32",
        )


def test_input_spec_messages(keras):
    for lib in (minikeras, keras):
        a, b = lib.Input((4,), name="a"), lib.Input((4,), name="b")
        out = lib.layers.Dense(2)(a + b)
        listed, named = lib.Model([a, b], out), lib.Model({"a": a, "b": b}, out)
        with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 3\)"):
            listed([np.zeros((2, 3)), np.zeros((2, 4))])
        for model in (listed, named):  # an Input's name is its key, in a list too
            with pytest.raises(ValueError, match=r"expects 2 named input\(s\) with keys \['a'"):
                model(np.zeros((2, 4)))
        named.input_spec = lib.InputSpec(shape=(None, 4))
        with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 3\)"):
            named(np.zeros((2, 3)))


def test_a_model_between_intermediate_tensors(keras):
    def build(lib):
        x = lib.Input((2,), name="x")
        h1 = lib.layers.Dense(3, name="d1")(x)
        h2 = lib.layers.Dense(4, name="d2")(h1)
        out = lib.layers.Dense(2, name="d3")(h2)
        full = lib.Model(x, out)
        return full, lib.Model(h1, out), lib.Model(full.get_layer("d2").input, h2)

    (full, tail, middle), (kfull, ktail, kmiddle) = build(minikeras), build(keras)
    kfull.set_weights(full.get_weights())
    for ours, theirs in ((tail, ktail), (middle, kmiddle)):
        assert [type(layer).__name__ for layer in ours.layers] == [
            type(layer).__name__ for layer in theirs.layers
        ]
        x = np.random.default_rng(2).normal(size=(3, 3))
        close(ours(x), np.asarray(theirs(x)))


@pytest.mark.parametrize("kind", [list, tuple, dict])
def test_outputs_come_back_in_their_structure_after_from_config(keras, kind):
    for lib in (minikeras, keras):
        x = lib.Input((3,), batch_size=2)
        a, b = lib.layers.Dense(4)(x), lib.layers.Dense(5)(x)
        outputs = {"a": a, "b": b} if kind is dict else kind([a, b])
        model = lib.Model(x, outputs)
        restored = type(model).from_config(model.get_config())
        assert isinstance(restored(np.ones((2, 3))), kind)
        assert isinstance(restored(lib.Input((3,), batch_size=2)), kind)


def test_layers_are_not_the_ops(keras):
    for lib in (minikeras, keras):
        a, b = lib.Input((3,), name="a"), lib.Input((3,), name="b")
        model = lib.Model([a, b], lib.layers.Dense(2)(a + b))
        assert (len(model.layers), len(model.operations)) == (3, 4)
        with pytest.raises(AttributeError, match="`Model.layers` attribute is reserved"):
            model.layers = []


def test_an_output_the_inputs_do_not_reach(keras):
    for lib in (minikeras, keras):
        i1, i2 = lib.Input((2,)), lib.Input((2,))
        with pytest.raises(ValueError, match="Output with path `second` is not connected"):
            lib.Model(i1, {"first": i1 * 2, "second": i2 * 3})
