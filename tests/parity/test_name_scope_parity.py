"""backend.name_scope beside Keras's: the paths of nested, deduplicated and re-parented
scopes, the scope object itself, and the name checked when the scope is made."""

import pytest

from minikeras import backend


def _paths(name_scope, current_path):
    """current_path() at each step of one fixed nesting of scopes."""
    seen = [current_path()]
    with name_scope("outer") as outer:
        seen += [outer.name, current_path()]
        with name_scope("outer", caller=outer):  # a caller re-entering its own scope
            with name_scope("outer", caller=outer):
                seen.append(current_path())
        with name_scope("middle", override_parent="/absolute/path"):
            seen.append(current_path())
            with name_scope("inner"):
                seen.append(current_path())
        with name_scope("twice"), name_scope("twice"):  # no caller: both count
            seen.append(current_path())
        seen.append(current_path())
    seen.append(current_path())
    return seen


def test_name_scope_paths(keras):
    from keras.src.backend.common import name_scope as theirs

    expected = _paths(theirs.name_scope, theirs.current_path)
    assert _paths(backend.name_scope, backend.current_path) == expected


@pytest.mark.parametrize("name", ["foo/bar", 4])
def test_name_scope_checks_its_name_when_made(keras, name):
    with pytest.raises(ValueError, match="must be a string"):
        keras.name_scope(name)
    with pytest.raises(ValueError, match="must be a string"):
        backend.name_scope(name)  # not entered: the check is the constructor's
