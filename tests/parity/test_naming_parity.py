"""minikeras.utils.naming's uniquify, reset_uids and get_object_name beside Keras's."""

import pytest

from minikeras.utils import naming


def test_uniquify_and_reset_uids(keras):
    theirs = keras.src.utils.naming
    theirs.reset_uids()
    naming.reset_uids()
    for _ in range(3):
        assert naming.uniquify("some_name") == theirs.uniquify("some_name")
    assert naming.uniquify("some_name_1") == theirs.uniquify("some_name_1")
    theirs.reset_uids()
    naming.reset_uids()
    assert naming.get_uid("some_name") == theirs.get_uid("some_name") == 1


class Named:
    name = "given_name"


class WithoutName:
    pass


def a_function():
    pass


@pytest.mark.parametrize("obj", [Named(), WithoutName(), a_function, WithoutName])
def test_get_object_name(keras, obj):
    assert naming.get_object_name(obj) == keras.src.utils.naming.get_object_name(obj)
