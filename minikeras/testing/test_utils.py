"""Keras's test helpers for data and parameters (`keras.src.testing.test_utils`).

>>> from minikeras.testing.test_utils import get_test_data, named_product
>>> (x, y), (x_test, y_test) = get_test_data(20, 10, (3,), 2, random_seed=0)
>>> x.shape, y.shape, x_test.shape, sorted(set(y.tolist()))
((20, 3), (20,), (10, 3), [0, 1])
>>> [case["testcase_name"] for case in named_product(units=[1, 2], use_bias=[True])]
['1_true', '2_true']
"""

import itertools

import numpy as np


def get_test_data(train_samples, test_samples, input_shape, num_classes, random_seed=None):
    """A small classification problem that a model can learn: each class has a random
    template (uniform in [0, 2·num_classes)), and its samples are that template plus unit
    Gaussian noise. The classes are as balanced as the counts allow, in both splits.

    Returns (x_train, y_train), (x_test, y_test): float32 features of `input_shape`, integer
    labels. NumPy's global generator is seeded with `random_seed`, as Keras's helper does.
    """
    np.random.seed(random_seed)
    input_shape = tuple(input_shape)
    total = train_samples + test_samples
    # labels 0, 1, ..., num_classes - 1, 0, 1, ...: balanced up to one sample per class
    labels = np.arange(total) % num_classes
    templates = 2 * num_classes * np.random.random((num_classes,) + input_shape)
    noise = np.random.normal(size=(total,) + input_shape)
    x = (templates[labels] + noise).astype("float32")

    # each class gives its share of the training samples; the rest go to the test split
    train, test = [], []
    per_class = train_samples // num_classes
    for label in range(num_classes):
        members = np.random.permutation(np.flatnonzero(labels == label))
        train.extend(members[:per_class])
        test.extend(members[per_class:])
    train = np.random.permutation(np.array(train, dtype=int))
    test = np.random.permutation(np.array(test, dtype=int))
    return (x[train], labels[train]), (x[test], labels[test])


def named_product(*args, **kwargs):
    """Every combination of parameters, each named, for `parameterized.named_parameters`.

    Positional arguments are sequences of dicts, each with a "testcase_name"; keyword
    arguments are lists of values, named by their lowercased `__name__` or `str`. A case
    takes one entry of each and joins their names with "_".
    """

    def label(value):
        return getattr(value, "__name__", str(value)).lower()

    groups = list(args) + [
        [{"testcase_name": label(v), key: v} for v in values] for key, values in kwargs.items()
    ]
    cases = []
    # the first group varies fastest, as Keras's helper orders them
    for combination in itertools.product(*reversed(groups)):
        case = {}
        for entry in reversed(combination):
            case.update(entry)
        case["testcase_name"] = "_".join(entry["testcase_name"] for entry in reversed(combination))
        cases.append(case)
    return cases
