"""Keras's side of `minikeras.trace`: the same step taken by the model's Keras twin, each array
stored beside minikeras's in the trace."""

import numpy as np

from minikeras import trace
from minikeras.parity import keras_env, twin

_KERAS_SLOTS = {  # minikeras slot name → the Keras optimizer's list of those variables
    "velocity": ("_velocities",),
    "momentum": ("_momentums", "momentums"),
    "average_gradient": ("_average_gradients",),
    "velocity_hat": ("_velocity_hats",),
}


def _keras_slot_list(optimizer, slot):
    for attribute in _KERAS_SLOTS.get(slot, ()):
        if getattr(optimizer, attribute, None):
            return getattr(optimizer, attribute)
    raise KeyError(f"no Keras optimizer variables for the slot {slot!r}")


def compare_step(record, model, x, y, weights, slots, iterations):
    """Rebuild the model in Keras with the same weights and optimizer state (the parity twin),
    take the same step there (gradients from tf.GradientTape), and store Keras's value beside
    each entry."""
    from minikeras.models.sequential import Sequential

    keras = keras_env.import_keras()
    import tensorflow as tf

    try:
        kmodel = twin.keras_twin(model, compile=False)
    except twin.NoTwin as error:
        record.keras_note = f"No Keras column: {error}."
        return
    kmodel.set_weights(weights)
    kloss = twin.keras_loss(model.output_specs[0].loss)
    koptimizer = twin.keras_optimizer(model.optimizer)
    variables = kmodel.trainable_variables
    koptimizer.build(variables)
    koptimizer.iterations.assign(iterations)
    for slot, arrays in slots.items():
        for kvar, array in zip(_keras_slot_list(koptimizer, slot), arrays):
            kvar.assign(array)

    values = {"x": x, "y": y}
    with tf.GradientTape() as tape:
        kept = []
        if isinstance(model, Sequential):  # layer by layer, each output kept
            a = tf.constant(x)
            for layer, klayer in zip(model.layers, kmodel.layers):
                if layer.output_activation is not None and layer.logits is not None:
                    act = klayer.activation
                    klayer.activation = keras.activations.linear
                    z = klayer(a)  # Keras's own pre-activation
                    klayer.activation = act
                    a = act(z)  # a softmax output remembers z as its logits, as in fit
                    kept.append((f"{layer.name}: z", z))
                else:
                    a = klayer(a, training=True)
                kept.append((f"{layer.name}: a", a))
        else:
            a = kmodel(x, training=True)
        loss = kloss(tf.constant(y), a)
    targets = [t for _, t in kept] + list(variables)
    grads = tape.gradient(loss, targets, unconnected_gradients=tf.UnconnectedGradients.NONE)
    values["loss"] = loss.numpy()
    for (name, t), g in zip(kept, grads):
        values[name] = t.numpy()
        if g is not None:
            values[name.replace(": ", ": dL/d")] = g.numpy()
    weight_grads = grads[len(kept) :]
    names = trace.weight_names(model)
    for name, g in zip(names, weight_grads):
        layer_name, weight = name.split(": ")
        values[f"{layer_name}: dL/d{weight}"] = g.numpy()
    for slot in slots:
        for name, kvar in zip(names, _keras_slot_list(koptimizer, slot)):
            values[f"{name}: {slot} before"] = kvar.numpy().copy()
    koptimizer.apply_gradients(zip(weight_grads, variables))
    for slot in slots:
        for name, kvar in zip(names, _keras_slot_list(koptimizer, slot)):
            values[f"{name}: {slot} after"] = kvar.numpy().copy()
    for name, kvar in zip(names, variables):
        values[f"{name}: new value"] = kvar.numpy().copy()

    for entry in record.entries():
        if entry.name in values:
            entry.keras = np.asarray(values[entry.name], np.float64)
    record.compared = True
    record.keras_note = f"Keras {keras.__version__} ({keras.backend.backend()}) beside minikeras."
