"""The graph behind a functional model: its nodes in an order that can run, its layers in
Keras's order, and clear errors for a graph that cannot be a model.

`map_graph(inputs, outputs)` walks back from the outputs through the nodes that made each
tensor (depth first, as Keras's `_build_map` in keras/src/ops/function.py does) and returns:

- the nodes in topological order: each node after every node whose output it reads, so the
  forward pass runs them first to last and the backward pass last to first;
- the layers in Keras's order (`model.layers`), which is also the order of `get_weights()`:
  by depth (distance to the outputs, farthest first), then by when the walk first met them.
"""

from collections import Counter


class _Disconnected(ValueError):
    """A walk back from an output reached an Input the model was not given."""


def map_graph(inputs, outputs, output_paths=None):
    """(nodes in topological order, layers in Keras's order) for a model from `inputs` (flat
    list of Input tensors) to `outputs` (flat list of tensors); ValueError if it cannot be one.
    output_paths: where each output sits in the model's outputs (`"0"`, `"others.2"`), for
    the message about an output the inputs do not reach."""
    declared = set(inputs)
    order = []  # nodes, each after the nodes it reads from
    first_seen = {}  # layer → when the walk first met it
    done, in_progress = set(), set()

    def visit(tensor, consumer):
        node = tensor.node
        if node in done:
            return
        if node in in_progress:
            raise ValueError(
                f"Tensor {tensor} from layer '{node.layer.name}' is part of a cycle: following "
                "the layers' inputs back from the outputs comes back to it."
            )
        first_seen.setdefault(node.layer, len(first_seen))
        if node.is_input and tensor not in declared:
            raise _Disconnected(
                f"Graph disconnected: layer '{consumer}' reads the Input '{node.layer.name}', "
                f"which is not among the model's inputs {[t.layer.name for t in inputs]}. "
                "Pass it in `inputs`, or build that branch from one of them."
            )
        in_progress.add(node)
        for parent_tensor in node.input_tensors:
            visit(parent_tensor, node.layer.name)
        in_progress.discard(node)
        done.add(node)
        order.append(node)

    for i, tensor in enumerate(outputs):
        try:
            visit(tensor, "(model output)")
        except _Disconnected as error:
            path = output_paths[i] if output_paths else str(i)
            raise ValueError(
                f"Output with path `{path}` is not connected to `inputs`. {error}"
            ) from None

    # an Input no output reads is kept, as Keras keeps it (a loss added with add_loss, or a
    # layer reading it together with another input, may use it)
    unused = [t for t in inputs if t.node not in done]
    for tensor in unused:
        visit(tensor, "(model input)")

    layers = _keras_layer_order(order, first_seen, [t.layer for t in unused])
    counts = Counter(layer.name for layer in layers)
    for name, count in counts.items():
        if count > 1:
            raise ValueError(
                f'The name "{name}" is used {count} times in the model. All operation names '
                "should be unique."
            )
    return order, layers


def nodes_between(inputs, outputs):
    """The nodes that compute `outputs` from the tensors `inputs` (which may be any tensors
    of a graph, not only Inputs), each after the nodes it reads from."""
    order, done = [], set(inputs)

    def visit(tensor):
        if tensor in done or tensor.node in order:
            return
        if tensor.node.is_input:
            raise ValueError(
                f"Graph disconnected: the Input '{tensor.layer.name}' is not among the model's "
                "inputs, nor reached through them."
            )
        for parent in tensor.node.input_tensors:
            visit(parent)
        order.append(tensor.node)

    for tensor in outputs:
        visit(tensor)
    return order


def _keras_layer_order(order, first_seen, unused_inputs=()):
    """Layers sorted as Keras sorts them: deepest first, then in the order the walk met them
    (an unused Input counts as one of the deepest)."""
    _, layer_depth = node_depths(order)
    deepest = max(layer_depth.values())
    for layer in unused_inputs:
        layer_depth[layer] = deepest
    return sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))


def node_depths(order):
    """({node: depth}, {layer: depth}) for nodes in topological order.

    A node's depth is 0 at an output and one more than the deepest node reading from it; a
    layer's depth is the largest depth of its nodes (keras/src/ops/function.py `map_graph`).
    """
    node_depth, layer_depth = {}, {}
    for node in reversed(order):  # from the outputs back
        depth = max(node_depth.get(node, 0), layer_depth.get(node.layer, 0))
        node_depth[node] = layer_depth[node.layer] = depth
        for parent in node.parents:
            node_depth[parent] = max(node_depth.get(parent, 0), depth + 1)
    return node_depth, layer_depth
