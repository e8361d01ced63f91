"""`model.summary()`: Keras's table of layers, output shapes and parameter counts."""

from collections import Counter

from minikeras.models import graph

# column widths of Keras's default table (content plus one space each side)
WIDTHS = (33, 24, 15)
# a functional model's table, with its "Connected to" column (line length 76, Keras's default
# for an 80-column terminal, split at Keras's positions 0.3, 0.56, 0.74 as rich lays it out)
GRAPH_WIDTHS = (21, 19, 12, 19)


def readable_size(num_bytes):
    """198.79 KB, 0.00 B, ... (powers of 1024, two decimals), as Keras writes memory sizes."""
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024


def _row(cells, left, sep, right, widths=WIDTHS, align=("<", "<", ">", "<")):
    """A table row; a cell too long for its column wraps onto more lines, as in Keras."""
    columns = [_wrap(str(c), w - 2) for c, w in zip(cells, widths)]
    lines = []
    for i in range(max(len(column) for column in columns)):
        parts = [
            f" {column[i] if i < len(column) else '':{a}{w - 2}} "
            for column, w, a in zip(columns, widths, align)
        ]
        lines.append(left + sep.join(parts) + right)
    return "\n".join(lines)


def _wrap(text, width):
    """`text` in lines of at most `width` characters, as rich (Keras's table printer) wraps a
    cell: whole words, greedily; a word longer than a line gets a line of its own, cut with …"""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) <= width:
            line += " " + word
            continue
        if line:
            lines.append(line)
        line = word if len(word) <= width else word[: width - 1] + "…"
    return lines + [line]


def _rule(left, mid, right, fill, widths=WIDTHS):
    return left + mid.join(fill * w for w in widths) + right


def _is_graph(model):
    """Whether Keras prints the "Connected to" column: for a functional model whose nodes do
    not make one chain (keras/src/utils/summary_utils.py `print_summary`): two nodes at one
    depth, a node reading several tensors, or a layer called more than once."""
    nodes = getattr(model, "_all_nodes", None)
    if not nodes:
        return False
    node_depth, _ = graph.node_depths(nodes)
    return (
        max(Counter(node_depth.values()).values()) > 1
        or any(len(node.input_tensors) > 1 for node in nodes)
        or max(Counter(node.layer for node in nodes).values()) > 1
    )


def _connections(model, layer):
    """The tensors each call of `layer` in this model read, as `dense[0][0], b[0][0]`: the
    layer that made each, its [node index][tensor index]; "-" for an Input."""
    reads = [
        f"{t.layer.name}[{t.node.index}][{t.tensor_index}]"
        for node in layer._inbound_nodes
        if node in model._all_nodes
        for t in node.input_tensors
    ]
    return ", ".join(reads) or "-"


def _shape(shape):
    if isinstance(shape, list):  # a model with several outputs, used as a layer
        return "[" + ", ".join(_shape(s) for s in shape) + "]"
    return "?" if shape is None else str(tuple(shape)).replace(",)", ")")


def _layer_range(layers, layer_range):
    """The layers from the one named layer_range[0] to the one named layer_range[1]."""
    if layer_range is None:
        return layers
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    names = [layer.name for layer in layers]
    for name in layer_range:
        if name not in names:
            raise ValueError(
                f"Layer name {name!r} in layer_range is not a layer of the model: {names}"
            )
    first, last = names.index(layer_range[0]), names.index(layer_range[1])
    return layers[first : last + 1]


def print_summary(model, print_fn=None, show_trainable=False, layer_range=None):
    is_graph = _is_graph(model)
    widths = GRAPH_WIDTHS if is_graph else WIDTHS
    header = ["Layer (type)", "Output Shape", "Param #"] + ["Connected to"] * is_graph
    if show_trainable:
        widths, header = widths + (11,), header + ["Trainable"]
    lines = [f'Model: "{model.name}"']
    lines.append(_rule("┏", "┳", "┓", "━", widths))
    lines.append(_row(header, "┃", "┃", "┃", widths))
    lines.append(_rule("┡", "╇", "┩", "━", widths))
    layers = _layer_range(model.layers, layer_range)
    for i, layer in enumerate(layers):
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        cells = [f"{layer.name} ({type(layer).__name__})", _shape(layer.output_shape), params]
        if is_graph:
            cells.append(_connections(model, layer))
        if show_trainable:
            cells.append("Y" if layer.trainable else "N")
        lines.append(_row(cells, "│", "│", "│", widths))
        if i < len(layers) - 1:
            lines.append(_rule("├", "┼", "┤", "─", widths))
    lines.append(_rule("└", "┴", "┘", "─", widths))
    itemsize = 8 if model.dtype == "float64" else 4
    trainable = sum(w.size for w in model.trainable_weights)
    non_trainable = sum(w.size for w in model.non_trainable_weights)
    optimizer_params = optimizer_bytes = 0
    if model.optimizer is not None and model.optimizer.built:
        variables = model.optimizer.variables
        optimizer_params = sum(v.size for v in variables)
        # each variable at its own size: the step counter is an int64, 8 bytes, as in Keras
        optimizer_bytes = sum(v.nbytes for v in variables)
    total = trainable + non_trainable + optimizer_params
    total_bytes = (trainable + non_trainable) * itemsize + optimizer_bytes
    lines.append(f" Total params: {total:,} ({readable_size(total_bytes)})")
    lines.append(f" Trainable params: {trainable:,} ({readable_size(trainable * itemsize)})")
    lines.append(
        f" Non-trainable params: {non_trainable:,} ({readable_size(non_trainable * itemsize)})"
    )
    if optimizer_params:
        lines.append(f" Optimizer params: {optimizer_params:,} ({readable_size(optimizer_bytes)})")
    if print_fn is None:
        print("\n".join(lines))
    else:  # as Keras hands it the captured table: ending in a newline
        print_fn("\n".join(lines) + "\n")
