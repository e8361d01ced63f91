"""FeatureSpace: a table's columns (a dict of features) in, one encoded vector out, built from
the preprocessing layers.

Each feature goes through its own preprocessor (Normalization, Rescaling, Discretization, a
lookup, Hashing); crossed features through a HashedCrossing of their preprocessed values; every
integer output the spec says to one-hot encode through a CategoryEncoding; then, in "concat"
mode, all of them side by side, in the order of their sorted names (the features first, then
the crosses). Nothing is trained: a model learns on what comes out.

>>> import numpy as np
>>> from minikeras.utils import FeatureSpace
>>> fs = FeatureSpace({"age": "float_normalized", "city": "string_categorical"})
>>> fs.adapt({"age": [20.0, 40.0, 60.0], "city": ["Oslo", "Rome", "Oslo"]})
>>> fs({"age": [40.0], "city": ["Rome"]}).tolist()  # [age, OOV, Oslo, Rome]
[[0.0, 0.0, 0.0, 1.0]]
"""

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.layers.merging import Concatenate
from minikeras.layers.normalization import Normalization
from minikeras.layers.preprocessing.category_encoding import CategoryEncoding
from minikeras.layers.preprocessing.discretization import Discretization
from minikeras.layers.preprocessing.hashed_crossing import HashedCrossing
from minikeras.layers.preprocessing.hashing import Hashing
from minikeras.layers.preprocessing.integer_lookup import IntegerLookup
from minikeras.layers.preprocessing.preprocessing_layer import (
    _graph_tensors,
    is_tf_dataset,
    to_numpy,
)
from minikeras.layers.preprocessing.string_lookup import StringLookup
from minikeras.layers.preprocessing.text_vectorization import TextVectorization
from minikeras.layers.rescaling import Rescaling
from minikeras.utils.naming import auto_name

# where Keras keeps Feature, Cross and the two small layers below: their files name it
KERAS_MODULE = "keras.src.layers.preprocessing.feature_space"
ADAPT_BATCH_SIZE = 32  # Keras batches a dataset of single rows by 32 to adapt


def _entry(obj, config):
    """Keras's serialized form of a Feature or a Cross (registered under its class name)."""
    name = type(obj).__name__
    return {"module": KERAS_MODULE, "class_name": name, "config": config, "registered_name": name}


class Cross:
    """Features to cross (hash together) into `crossing_dim` bins."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in {"int", "one_hot"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                f"Received: output_mode={output_mode}"
            )
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {
            "feature_names": self.feature_names,
            "crossing_dim": self.crossing_dim,
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """One input column: its dtype, the layer that preprocesses it, and whether its output is
    kept as it is ("float", "int") or one-hot encoded ("one_hot")."""

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"{{'int', 'one_hot', 'float'}}. Received: output_mode={output_mode}"
            )
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            from minikeras.saving.keras_objects import deserialize_keras_object

            preprocessor = deserialize_keras_object(preprocessor)
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self):
        from minikeras.saving.keras_objects import serialize_keras_object

        return {
            "dtype": self.dtype,
            "preprocessor": serialize_keras_object(self.preprocessor),
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _from_entry(value, cls):
    """A Feature or Cross given as its serialized dict (a config read from a file)."""
    if isinstance(value, dict) and value.get("class_name") == cls.__name__:
        return cls.from_config(value["config"])
    return value


class FeatureSpace(Layer):
    """One-stop preprocessing of structured data: `features` maps each input name to a feature
    type ("float", "float_normalized", "float_rescaled", "float_discretized",
    "integer_categorical", "string_categorical", "integer_hashed", "string_hashed") or to a
    spec made by one of the class methods below (`FeatureSpace.string_categorical(max_tokens=
    10)`); `crosses` lists the tuples of features to hash together. `adapt(dataset)` learns the
    vocabularies, statistics and bins; then `fs(dict_of_columns)` gives the encoded vector
    ("concat") or a dict of encoded features ("dict"), and `get_inputs()` /
    `get_encoded_features()` the same as a graph, for a functional model.
    """

    keras_module = "keras.utils"  # where Keras exports it: the module its files name

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        name = name or auto_name("float")
        preprocessor = TFDIdentity(dtype="float32", name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        name = name or auto_name("float_rescaled")
        preprocessor = Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_normalized(cls, name=None):
        name = name or auto_name("float_normalized")
        preprocessor = Normalization(axis=-1, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode="float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None):
        name = name or auto_name("float_discretized")
        preprocessor = Discretization(
            num_bins=num_bins, bin_boundaries=bin_boundaries, name=f"{name}_preprocessor"
        )
        return Feature(dtype="float32", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def integer_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        name = name or auto_name("integer_categorical")
        preprocessor = IntegerLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature(dtype="int32", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def string_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        name = name or auto_name("string_categorical")
        preprocessor = StringLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature(dtype="string", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or auto_name("string_hashed")
        preprocessor = Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature(dtype="string", preprocessor=preprocessor, output_mode=output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or auto_name("integer_hashed")
        preprocessor = Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature(dtype="int32", preprocessor=preprocessor, output_mode=output_mode)

    def __init__(
        self,
        features,
        output_mode="concat",
        crosses=None,
        crossing_dim=32,
        hashing_dim=32,
        num_discretization_bins=32,
        name=None,
    ):
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {
            name: self._standardize_feature(name, value) for name, value in features.items()
        }
        self.crosses = [self._standardize_cross(cross, features) for cross in crosses or []]
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'dict', 'concat'}. "
                f"Received: output_mode={output_mode}"
            )
        self.output_mode = output_mode

        from minikeras.layers.input_layer import Input

        # each column arrives as (batch, 1): one value a row
        self.inputs = {
            name: Input(shape=(1,), dtype=feature.dtype, name=name)
            for name, feature in self.features.items()
        }
        self.preprocessors = {name: feature.preprocessor for name, feature in self.features.items()}
        self.encoded_features = None
        self.crossers = {
            cross.name: HashedCrossing(cross.crossing_dim, name=cross.name)
            for cross in self.crosses
        }
        self.one_hot_encoders = {}
        self._is_adapted = False
        self.concat = None
        self._preprocessed_features_names = None
        self._crossed_features_names = None
        self._sublayers_built = False

    def _standardize_feature(self, name, feature):
        feature = _from_entry(feature, Feature)
        if isinstance(feature, Feature):
            return feature
        # a type by its name: the spec with default arguments, its layer named after the column
        if feature == "float":
            return self.float(name=name)
        if feature == "float_normalized":
            return self.float_normalized(name=name)
        if feature == "float_rescaled":
            return self.float_rescaled(name=name)
        if feature == "float_discretized":
            return self.float_discretized(name=name, num_bins=self.num_discretization_bins)
        if feature == "integer_categorical":
            return self.integer_categorical(name=name)
        if feature == "string_categorical":
            return self.string_categorical(name=name)
        if feature == "integer_hashed":
            return self.integer_hashed(self.hashing_dim, name=name)
        if feature == "string_hashed":
            return self.string_hashed(self.hashing_dim, name=name)
        raise ValueError(f"Invalid feature type: {feature}")

    def _standardize_cross(self, cross, features):
        cross = _from_entry(cross, Cross)
        if isinstance(cross, Cross):
            return cross
        if not self.crossing_dim:
            raise ValueError(
                "When specifying `crosses`, the argument `crossing_dim` (dimensionality of the "
                "crossing space) should be specified as well."
            )
        unknown = [key for key in cross if key not in features]
        if unknown:
            raise ValueError(
                "All features referenced in the `crosses` argument should be present in the "
                f"`features` dict. Received unknown features: {cross} (not among the features: "
                f"{unknown})"
            )
        return Cross(cross, crossing_dim=self.crossing_dim)

    # ------------------------------------------------------------------ adapt
    def _list_adaptable_preprocessors(self):
        """The features whose preprocessor learns from data (not one given its statistics or
        its vocabulary already)."""
        adaptable = []
        for name, preprocessor in self.preprocessors.items():
            if isinstance(preprocessor, Normalization) and preprocessor.input_mean is not None:
                continue
            if isinstance(preprocessor, TextVectorization) and preprocessor._has_input_vocabulary:
                continue
            if hasattr(preprocessor, "adapt"):
                adaptable.append(name)
        return adaptable

    def adapt(self, dataset):
        """Adapt every preprocessor that learns from data on its column: `dataset` is a
        `tf.data.Dataset` of dicts (of single rows or of batches) or a dict of arrays/lists.
        Each column is read as Keras feeds it: single rows in batches of 32, a column of
        scalars as (batch, 1)."""
        if is_tf_dataset(dataset):
            columns = _columns_of_dataset(dataset)
        elif isinstance(dataset, dict):
            columns = {
                name: _batched(to_numpy(values), ADAPT_BATCH_SIZE)
                for name, values in dataset.items()
            }
        else:
            raise ValueError(
                "`adapt()` can only be called on a tf.data.Dataset or a dict of arrays/lists. "
                f"Received instead: {dataset} (of type {type(dataset)})"
            )
        for name in self._list_adaptable_preprocessors():
            if name not in columns:
                raise ValueError(
                    f"The data given to `adapt()` has no column {name!r}: it has {sorted(columns)}"
                )
        for name in self._list_adaptable_preprocessors():
            batches = [b[:, None] if b.ndim == 1 else b for b in columns[name]]
            preprocessor = self.preprocessors[name]
            if isinstance(preprocessor, Normalization) and not preprocessor.built:
                # Keras adapts it on a dataset, whose batch axis is unknown: its file says so
                preprocessor.build((None,) + batches[0].shape[1:])
            preprocessor.adapt(iter(batches))
        self._is_adapted = True
        self.get_encoded_features()  # builds the encoders and the concatenation
        self.built = True
        self._sublayers_built = True

    # ------------------------------------------------------------------ the graph
    def get_inputs(self):
        """{name: Input} of the features, for a functional model."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self):
        """The encoded features as symbolic tensors of `get_inputs()`: one (concat) or a dict."""
        self._check_if_adapted()
        if self.encoded_features is None:
            preprocessed = self._preprocess_features(self.inputs)
            crossed = self._cross_features(preprocessed)
            self.encoded_features = self._merge_features(preprocessed, crossed)
        return self.encoded_features

    def _preprocess_features(self, features):
        return {name: self.preprocessors[name](features[name]) for name in features}

    def _cross_features(self, features):
        return {
            cross.name: self.crossers[cross.name]([features[n] for n in cross.feature_names])
            for cross in self.crosses
        }

    def _merge_features(self, preprocessed, crossed):
        """One-hot encode what the specs say, then concatenate (or gather in a dict) in the
        order of the sorted feature names, then the sorted cross names."""
        if self._preprocessed_features_names is None:
            self._preprocessed_features_names = sorted(preprocessed)
            self._crossed_features_names = sorted(crossed)
        names = self._preprocessed_features_names + self._crossed_features_names
        values = [preprocessed[n] for n in self._preprocessed_features_names]
        values += [crossed[n] for n in self._crossed_features_names]
        if not self._sublayers_built:
            self._make_encoders(names, values)
        encoded = {}
        for name, value in zip(names, values):
            encoder = self.one_hot_encoders.get(name)
            encoded[name] = encoder(value) if encoder is not None else value
        if self.output_mode == "dict":
            return encoded
        return self.concat([encoded[name] for name in names])

    def _make_encoders(self, names, values):
        """The CategoryEncoding of each one-hot feature (its width the preprocessor's number of
        outputs), and the concatenation; Keras's checks and messages."""
        specs = [self.features[n] for n in self._preprocessed_features_names]
        specs += [self.crosses_by_name[n] for n in self._crossed_features_names]
        for name, value, spec in zip(names, values, specs):
            dtype = str(value.dtype)
            if spec.output_mode == "one_hot":
                if not dtype.startswith("int"):
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. Thus its preprocessor "
                        f"should return an integer dtype. Instead it returns a {dtype} dtype."
                    )
                cardinality = _cardinality(self.preprocessors.get(name) or self.crossers[name])
                if cardinality is None:
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a "
                        "standard feature and the dimensionality of its output space is not "
                        "known, thus it cannot be one-hot encoded. Try using `output_mode='int'`."
                    )
                self.one_hot_encoders[name] = CategoryEncoding(
                    num_tokens=cardinality, output_mode="multi_hot"
                )
                dtype = "float32"
            if self.output_mode == "concat" and (dtype.startswith("int") or dtype == "string"):
                raise ValueError(
                    f"Cannot concatenate features because feature '{name}' has not been encoded "
                    f"(it has dtype {dtype}). Consider using `output_mode='dict'`."
                )
        if self.output_mode == "concat":
            self.concat = TFDConcat(axis=-1)

    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace before you can "
                    "start using it."
                )
            self._is_adapted = True

    def _check_if_built(self):
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()
            self._sublayers_built = True

    # ------------------------------------------------------------------ call
    def __call__(self, data):
        """Encode a dict of columns: each a value (one row), a list or an array of rows.
        Inside `tf.data.Dataset.map` the columns are TensorFlow's graph tensors: the call
        then runs in `tf.numpy_function` (minikeras/parity/tf_data.py)."""
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError(
                "A FeatureSpace can only be called with a dict. "
                f"Received: data={data} (of type {type(data)}"
            )
        if data and _graph_tensors(list(data.values())):
            from minikeras.parity.tf_data import call_feature_space_in_tf_graph

            return call_feature_space_in_tf_graph(self, data)
        if set(data) != set(self.features):  # Keras fails on a KeyError too, further in
            raise KeyError(
                f"The FeatureSpace encodes the columns {sorted(self.features)}; the dict given "
                f"has {sorted(data)}"
            )
        columns = {}
        rebatched = False
        for name, value in data.items():
            column = _as_column(value)
            if column.ndim == 0:  # one row: a batch of one, unbatched again at the end
                column = column.reshape(1, 1)
                rebatched = True
            elif column.ndim == 1:
                column = column[:, None]
            columns[name] = column
        preprocessed = self._preprocess_features(columns)
        crossed = self._cross_features(preprocessed)
        merged = self._merge_features(preprocessed, crossed)
        if rebatched:
            if self.output_mode == "concat":
                if merged.shape[0] != 1:
                    raise ValueError(
                        "Expected rebatched data to have batch size 1. "
                        f"Received: shape={merged.shape}"
                    )
                return merged[0]
            return {
                name: x[0] if x.ndim == 2 and x.shape[0] == 1 else x for name, x in merged.items()
            }
        return merged

    # ------------------------------------------------------------------ files
    def get_config(self):
        return {
            "features": {
                name: _entry(feature, feature.get_config())
                for name, feature in self.features.items()
            },
            "output_mode": self.output_mode,
            "crosses": [_entry(cross, cross.get_config()) for cross in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        return {
            name: feature.preprocessor.get_build_config() for name, feature in self.features.items()
        }

    def build_from_config(self, config):
        for name, build_config in (config or {}).items():
            preprocessor = self.features[name].preprocessor
            if not preprocessor.built:
                preprocessor.build_from_config(build_config)
        self._is_adapted = True

    def save(self, filepath):
        """Write the FeatureSpace to a `.keras` file; `keras.models.load_model` (and
        minikeras's) reads it back, adapted."""
        from minikeras.saving.files import save_model

        save_model(self, filepath)

    # its preprocessors keep the state (weights, vocabularies) in their own groups of the file
    def save_own_variables(self, store):
        pass

    def load_own_variables(self, store):
        pass

    def save_assets(self, dir_path):
        pass

    def load_assets(self, dir_path):
        pass


def _cardinality(preprocessor):
    """How many integers a preprocessor's output takes (its one-hot width), or None."""
    if isinstance(preprocessor, (IntegerLookup, StringLookup)):
        return preprocessor.vocabulary_size()
    if isinstance(preprocessor, CategoryEncoding):
        return preprocessor.num_tokens
    if isinstance(preprocessor, (Discretization, HashedCrossing, Hashing)):
        return preprocessor.num_bins
    return None


def _as_column(value):
    """A column as Keras converts it: a Python number or list as TensorFlow's
    `convert_to_tensor` makes it (floats float32, integers int32), an array as it is."""
    column = to_numpy(value)
    if not isinstance(value, np.ndarray) and not hasattr(value, "numpy"):
        if column.dtype == np.float64:
            column = column.astype(np.float32)
        elif column.dtype == np.int64:
            column = column.astype(np.int32)
    return column


def _batched(column, batch_size):
    """A column of rows in batches of `batch_size` (the last one shorter)."""
    if column.ndim == 0:
        return [column.reshape(1)]
    return [column[i : i + batch_size] for i in range(0, len(column), batch_size)]


def _columns_of_dataset(dataset):
    """{name: [batch, ...]} of a `tf.data.Dataset` of dicts, read once: batches as they come,
    or single rows gathered in batches of 32."""
    elements = [{name: to_numpy(v) for name, v in element.items()} for element in dataset]
    if not elements:
        raise ValueError("`adapt()` received an empty dataset: expected at least one element.")
    columns = {}
    for name in elements[0]:
        values = [element[name] for element in elements]
        if values[0].ndim == 0:  # single rows: batched by 32, as Keras batches them
            columns[name] = _batched(np.stack(values), ADAPT_BATCH_SIZE)
        else:
            columns[name] = values
    return columns


class TFDConcat(Concatenate):
    """The concatenation of the encoded features (Keras's name: its files and summaries
    show it)."""

    keras_module = KERAS_MODULE
    keras_registered_name = "TFDConcat"


class TFDIdentity(Layer):
    """A "float" feature's preprocessor: the column as it is, as floats."""

    keras_module = KERAS_MODULE
    keras_registered_name = "TFDIdentity"
    builds_at_init = True

    def call(self, x):
        return x

    def backward(self, dy):
        """dx = dy"""
        self.grads = []
        return dy
