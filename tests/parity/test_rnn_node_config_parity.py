"""The keywords a recurrent layer's call leaves on its node, as Keras writes them in a Functional
model's config: `{"training": false, "mask": null}` for an RNN called on its sequence alone,
`{"mask": null}` for Bidirectional (its `training` defaults to None, which Keras leaves out),
and only `initial_state`, as given (one tensor or a list), when initial states are passed.
Each config is read back by the other library."""

import json

import numpy as np

import minikeras as mk


def build(K):
    L = K.layers
    sequence, state = K.Input((4, 3)), K.Input((2,))
    outputs = [
        L.LSTM(2)(sequence),
        L.SimpleRNN(2)(sequence, initial_state=state),
        L.SimpleRNN(2)(sequence, initial_state=[state]),
        L.RNN(L.GRUCell(2))(sequence),
        L.Bidirectional(L.LSTM(2))(sequence),
    ]
    return K.Model([sequence, state], outputs)


def node_keywords(model):
    config = json.loads(json.dumps(model.get_config()))  # tuples become lists, as in a file
    return [
        (layer["class_name"], [node.get("kwargs") for node in layer["inbound_nodes"]])
        for layer in config["layers"]
    ]


def test_recurrent_node_keywords_are_keras(keras):
    mk.utils.clear_session()
    keras.utils.clear_session()
    ours, theirs = node_keywords(build(mk)), node_keywords(build(keras))
    assert ours == theirs
    assert ("LSTM", [{"training": False, "mask": None}]) in ours


def test_each_library_reads_the_others_config(keras):
    x = [np.ones((2, 4, 3), "float32"), np.ones((2, 2), "float32")]
    ours = mk.Model.from_config(build(keras).get_config())
    theirs = keras.Model.from_config(build(mk).get_config())
    assert node_keywords(ours) == node_keywords(theirs)
    assert [np.shape(y) for y in ours.predict(x, verbose=0)] == [(2, 2)] * 4 + [(2, 4)]
