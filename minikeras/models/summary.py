"""`model.summary()`: Keras's table of layers, output shapes and parameter counts."""

# column widths of Keras's default table (content plus one space each side)
WIDTHS = (33, 24, 15)


def readable_size(num_bytes):
    """198.79 KB, 0.00 B, ... (powers of 1024, two decimals), as Keras writes memory sizes."""
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024


def _row(cells, left, sep, right, align=("<", "<", ">")):
    parts = [f" {str(c)[: w - 2]:{a}{w - 2}} " for c, w, a in zip(cells, WIDTHS, align)]
    return left + sep.join(parts) + right


def _rule(left, mid, right, fill):
    return left + mid.join(fill * w for w in WIDTHS) + right


def _shape(shape):
    return "?" if shape is None else str(tuple(shape)).replace(",)", ")")


def print_summary(model, print_fn=None):
    print_fn = print_fn or print
    lines = [f'Model: "{model.name}"']
    lines.append(_rule("┏", "┳", "┓", "━"))
    lines.append(_row(("Layer (type)", "Output Shape", "Param #"), "┃", "┃", "┃"))
    lines.append(_rule("┡", "╇", "┩", "━"))
    layers = model.layers
    for i, layer in enumerate(layers):
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        cells = (f"{layer.name} ({type(layer).__name__})", _shape(layer.output_shape), params)
        lines.append(_row(cells, "│", "│", "│"))
        if i < len(layers) - 1:
            lines.append(_rule("├", "┼", "┤", "─"))
    lines.append(_rule("└", "┴", "┘", "─"))
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
        lines.append(
            f" Optimizer params: {optimizer_params:,} ({readable_size(optimizer_bytes)})"
        )
    print_fn("\n".join(lines))
