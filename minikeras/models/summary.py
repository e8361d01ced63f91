"""`model.summary()`: Keras's table of layers, output shapes and parameter counts.

Keras (keras/src/utils/summary_utils.py) hands its table to the `rich` library, which decides
the column widths, wraps each cell and cuts the lines at the terminal's width. This module lays
the table out by the same rules, so that the printed text is the same character for character:

1. the columns' widths come from `positions` (fractions of `line_length`);
2. each column gets a space of padding on each side, and the table's borders must fit in
   `line_length` as well, so the excess is taken back from the columns, an equal share each;
3. a cell wraps at spaces; a word longer than its column is cut with "…";
4. every line is cut at the terminal's width.
"""

import math
import os
import re
import shutil
from collections import Counter

from minikeras.models import graph

# Keras's defaults: a chain of layers, and a graph (with its "Connected to" column)
CHAIN_LINE_LENGTH, CHAIN_POSITIONS = 88, (0.45, 0.80, 1.0)
GRAPH_LINE_LENGTH, GRAPH_POSITIONS = 108, (0.3, 0.56, 0.74, 1.0)


def readable_size(num_bytes):
    """198.79 KB, 0.00 B, ... (powers of 1024, two decimals), as Keras writes memory sizes."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024:
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"


# ---------------------------------------------------------------- the table's geometry
def column_widths(positions, line_length, columns):
    """The first `columns` columns' widths on screen, their padding included, borders excluded.

    Keras turns the positions into widths (`int(p · line_length)` minus the columns before);
    rich then adds a space each side and, since the n + 1 borders must fit in line_length too,
    takes the excess back from the columns in turn, each an equal share of what is left
    (rounded half to even, as Python's `round`, which rich uses), or spreads the room left
    over the columns."""
    widths, current = [], 0
    for position in positions:
        width = int(position * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    if len(widths) < columns:
        raise IndexError(
            f"positions has {len(widths)} entries for a table of {columns} columns: give one "
            "position for each column."
        )
    widths = widths[:columns]  # extra positions are ignored, as in Keras
    inner = line_length - (len(widths) + 1)
    widths = [min(width + 2, inner) for width in widths]
    excess, left = sum(widths) - inner, len(widths)
    if excess < 0:  # too narrow (extra positions, or a last one below 1): all grow
        return _widen(widths, -excess)
    reduced = []
    for width in widths:
        share = min(width, round(excess / left))
        reduced.append(width - share)
        excess, left = excess - share, left - 1
    return reduced


def _widen(widths, room):
    """A table given its width fills it: each column takes its width's share of the room left
    (rounded up, the last taking what remains), as rich's `ratio_distribute`."""
    total, widened = sum(widths), []
    for width in widths:
        share = math.ceil(width * room / total)
        widened.append(width + share)
        room, total = room - share, total - width
    return widened


def wrap(text, width, justify="left"):
    """`text` as the lines rich makes of a cell `width` characters wide.

    Words are runs of non-spaces with the spaces after them (leading spaces belong to the first
    word: the "   └ " of a nested layer stays whole). A word goes on the current line if it
    fits without its trailing spaces, else it starts a new line; a line still too long is cut
    to width − 1 characters and "…". Then each line is justified."""
    lines, line = [], ""
    for word in re.findall(r"\s*\S+\s*", text):
        if width - len(line) >= len(word.rstrip()):
            line += word
        else:
            if line:
                lines.append(line)
            line = word
    lines.append(line)
    justified = []
    for line in lines:
        if len(line) > width:
            line = line.rstrip()
        if len(line) > width:
            line = line[: width - 1] + "…"
        if justify == "right":
            line = line.rstrip().rjust(width)
        elif justify == "center":
            line = line.rstrip()
            line = (" " * ((width - len(line)) // 2) + line).ljust(width)
        justified.append(line.ljust(width))
    return justified


def _row(cells, widths, justify, border, align_bottom=False):
    """One row of the table: every cell wrapped in its column, the shorter ones padded with
    blank lines below (rich aligns cells to the top, and the header's to the bottom)."""
    columns = [wrap(str(c), w - 2, j) for c, w, j in zip(cells, widths, justify)]
    height = max(len(column) for column in columns)
    for column, w in zip(columns, widths):
        blank = [" " * (w - 2)] * (height - len(column))
        column[:] = blank + column if align_bottom else column + blank
    lines = []
    for i in range(height):
        parts = [" " + column[i] + " " for column in columns]
        lines.append(border + border.join(parts) + border)
    return lines


def _rule(left, mid, right, fill, widths):
    return left + mid.join(fill * w for w in widths) + right


def terminal_width():
    """The width rich's console gives itself: the terminal's (stdin, stdout or stderr, the
    first that is one), overridden by $COLUMNS, else 80."""
    width = None
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
            break
        except (AttributeError, ValueError, OSError):  # not a terminal
            pass
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return width or 80


# ---------------------------------------------------------------- what the table shows
def _is_graph(model):
    """Whether Keras prints the "Connected to" column: for a functional model whose nodes do
    not make one chain (keras/src/utils/summary_utils.py `print_summary`): two nodes at one
    depth, a node reading several tensors, or a layer called more than once."""
    nodes = model._all_nodes  # a functional model's; none for the others
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
    layer that made each, its [node index][tensor index]; "-" for an Input (and for a layer
    of a nested model, whose calls are not this model's)."""
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
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_shape(s)}" for k, s in shape.items()) + "}"
    return "?" if shape is None else str(tuple(shape)).replace(",)", ")")


def _trainable(layer):
    """Keras's "Trainable" column: "-" for a layer without weights."""
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def _is_nested_model(layer):
    from minikeras.models.model import Model

    return isinstance(layer, Model) and bool(layer.layers)


def layer_range_bounds(layers, layer_range):
    """(first, last + 1): from the first layer whose name matches layer_range[0] to the last
    one matching layer_range[1] (regular expressions, `re.match`, as Keras's
    `get_layer_index_bound_by_layer_name`); all layers for None."""
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not all(isinstance(name, str) for name in layer_range):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(
            "Passed layer_names do not match the layer names in the model. "
            f"Received: {layer_range}. The layers are {[layer.name for layer in layers]}."
        )
    if min(lower) > max(upper):  # given last to first: Keras swaps them
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def _memory(weights):
    """Bytes held by `weights`, each counted once, at its own dtype's size."""
    unique = {id(w): w for w in weights}.values()
    return sum(w.size * w.dtype.itemsize for w in unique)


def summary_text(
    model,
    line_length=None,
    positions=None,
    expand_nested=False,
    show_trainable=False,
    layer_range=None,
):
    """The text Keras's `summary` prints for `model`, ending in a newline."""
    is_graph = _is_graph(model)
    header = ["Layer (type)", "Output Shape", "Param #"]
    justify = ["left", "left", "right"]
    default_length = GRAPH_LINE_LENGTH if is_graph else CHAIN_LINE_LENGTH
    positions = list(positions or (GRAPH_POSITIONS if is_graph else CHAIN_POSITIONS))
    if is_graph:
        header.append("Connected to")
        justify.append("left")
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        justify.append("center")
    first, stop = layer_range_bounds(_listed(model), layer_range)
    default_length = min(default_length, shutil.get_terminal_size().columns - 4)
    widths = column_widths(positions, line_length or default_length, len(header))

    def rows(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        shape = layer.output_shape if layer.built else None  # (an unbuilt Sequential raises)
        cells = [f"{prefix}{layer.name} ({type(layer).__name__})", _shape(shape)]
        cells.append(params)
        if is_graph:
            cells.append(_connections(model, layer))
        if show_trainable:
            cells.append(_trainable(layer))
        yield cells
        if expand_nested and _is_nested_model(layer):
            for inner in _listed(layer):
                yield from rows(inner, level + 1)

    lines = [f'Model: "{model.name}"']
    lines.append(_rule("┏", "┳", "┓", "━", widths))
    lines += _row(header, widths, justify, "┃", align_bottom=True)
    lines.append(_rule("┡", "╇", "┩", "━", widths))
    body = [cells for layer in _listed(model)[first:stop] for cells in rows(layer)]
    for i, cells in enumerate(body):
        if i:
            lines.append(_rule("├", "┼", "┤", "─", widths))
        lines += _row(cells, widths, justify, "│")
    lines.append(_rule("└", "┴", "┘", "─", widths))

    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    counts = [sum(w.size for w in trainable), sum(w.size for w in non_trainable)]
    sizes = [_memory(trainable), _memory(non_trainable)]
    optimizer = model.optimizer if model.compiled else None
    if optimizer is not None and optimizer.built:
        counts.append(sum(v.size for v in optimizer.variables))
        sizes.append(_memory(optimizer.variables))  # the int64 step counter at 8 bytes
    lines.append(f" Total params: {sum(counts):,} ({readable_size(sum(sizes))})")
    names = ["Trainable params", "Non-trainable params", "Optimizer params"]
    for name, count, size in zip(names, counts, sizes):
        lines.append(f" {name}: {count:,} ({readable_size(size)})")
    width = terminal_width()  # rich cuts every line at its console's width
    return "".join(line[:width] + "\n" for line in lines)


def print_summary(model, print_fn=None, **options):
    text = summary_text(model, **options)
    if print_fn is None:
        print(text, end="")
    else:  # as Keras hands it the captured table: ending in a newline
        print_fn(text)


def _listed(model):
    """The rows of a model's table: a functional model's operations (its ops, `x + y`, among
    its layers), as Keras lists them; any other model's layers."""
    from minikeras.models.functional import Functional

    return model.operations if isinstance(model, Functional) else model.layers
