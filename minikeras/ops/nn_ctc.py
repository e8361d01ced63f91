"""Connectionist temporal classification (Keras's `keras.ops.ctc_loss`, `ctc_decode`).

The loss is −ln p(label | logits), summed over every alignment of the label to the frames:
a path chooses one class per frame; collapsing repeats and dropping blanks must give the
label. With the label l (length L) written with blanks around every symbol,
l' = (blank, l₁, blank, l₂, …, blank) of length 2L + 1, and y_t = log_softmax(logits_t):

    α₀(0) = y₀(blank)    α₀(1) = y₀(l'₁)                              forward
    α_t(s) = y_t(l'_s) + logsumexp(α_{t−1}(s), α_{t−1}(s−1), α_{t−1}(s−2))
             (the s−2 term only when l'_s is not a blank and l'_s ≠ l'_{s−2})
    loss = −logsumexp(α_{T−1}(2L), α_{T−1}(2L − 1))

The backward variables β_t(s) run the same recursion from the last frame. α_t(s) + β_t(s) −
y_t(l'_s) is the log-probability of the paths through symbol s at frame t, so the share of
frame t's probability held by class k is γ_t(k) = Σ_{s: l'_s = k} e^(α_t(s) + β_t(s) −
y_t(l'_s) + loss), and the gradient with respect to the logits is

    dloss/dlogits_t(k) = softmax(logits_t)(k) − γ_t(k)      frames t < output_length

(Graves et al., 2006). Frames past `output_length` and labels past `target_length` are unused.

>>> import numpy as np
>>> from minikeras import ops
>>> loss = ops.ctc_loss(np.array([[1, 2]]), np.zeros((1, 4, 3)), np.array([2]), np.array([4]))
>>> loss.shape
(1,)
"""

import numpy as np

from minikeras.autodiff import VJPS, primitive, special, unwrap
from minikeras.ops import shapes
from minikeras.ops.core import convert_to_tensor
from minikeras.ops.numpy import _float
from minikeras.ops.symbolic import symbolic_op


@symbolic_op(shape=shapes.per_example)
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """−ln p(target | output) per sample; output (batch, frames, classes) are logits,
    target (batch, max_label_length) integer labels, `mask_index` the blank class."""
    output = _float(output)
    target = np.asarray(unwrap(convert_to_tensor(target))).astype(np.int64)
    target_length = np.asarray(unwrap(target_length)).astype(np.int64).reshape(-1)
    output_length = np.asarray(unwrap(output_length)).astype(np.int64).reshape(-1)
    shape = np.shape(unwrap(output))
    if len(shape) != 3 or target.ndim != 2 or target.shape[0] != shape[0]:
        raise ValueError(
            "`ctc_loss` expects output of shape (batch_size, max_length, num_classes) and "
            "target of shape (batch_size, max_label_length). Received: "
            f"target.shape={target.shape}, output.shape={shape}"
        )
    blank = mask_index % shape[-1]
    return primitive(
        "ctc_loss", _ctc_loss, target, output, target_length, output_length, blank=blank
    )


def _extended(labels, blank):
    """l' = (blank, l₁, blank, l₂, …, blank), and where the s − 2 step is allowed: into a
    label symbol (odd s) that differs from the previous one. The symbols are told apart from
    the blanks by their position, not their class: a label entry equal to the blank class is
    one more symbol to emit, as TensorFlow's ctc_loss reads it."""
    extended = np.full(2 * len(labels) + 1, blank, np.int64)
    extended[1::2] = labels
    skip = np.zeros(len(extended), bool)
    skip[3::2] = labels[1:] != labels[:-1]
    return extended, skip


def _step(previous, skip):
    """logsumexp(a(s), a(s − 1), a(s − 2) where skip) for every s: the paths into s."""
    shifted1 = np.concatenate([[-np.inf], previous[:-1]])
    shifted2 = np.where(skip, np.concatenate([[-np.inf, -np.inf], previous[:-2]]), -np.inf)
    return special.logsumexp(np.stack([previous, shifted1, shifted2]), axis=0)


def _alphas_betas(log_probs, extended, skip):
    """α and β (frames, 2L + 1), the module docstring's recursions, in log space (−inf: no
    path; their logsumexp is −inf, hence the silenced warning)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _recursions(log_probs, extended, skip)


def _recursions(log_probs, extended, skip):
    frames, states = len(log_probs), len(extended)
    y = log_probs[:, extended]  # y_t(l'_s)   (frames, 2L + 1)
    alpha = np.full((frames, states), -np.inf)
    beta = np.full((frames, states), -np.inf)
    alpha[0, :2] = y[0, :2]
    for t in range(1, frames):
        alpha[t] = y[t] + _step(alpha[t - 1], skip)
    beta[-1, -2:] = y[-1, -2:]
    skip_back = np.concatenate([skip[2:], [False, False]])  # s + 2 → s allowed
    for t in range(frames - 2, -1, -1):
        beta[t] = y[t] + _step(beta[t + 1][::-1], skip_back[::-1])[::-1]
    return alpha, beta, y


def _per_sample(target, output, target_length, output_length, blank):
    """Yield (b, log_probs of the used frames, α, β, y, l', loss) for each sample."""
    output = output.astype(np.float64)
    log_probs_all = output - special.logsumexp(output, axis=-1, keepdims=True)
    for b in range(len(output)):
        log_probs = log_probs_all[b, : output_length[b]]
        extended, skip = _extended(target[b, : target_length[b]], blank)
        if len(log_probs) == 0:  # no frames: only the empty label is reachable
            empty = np.zeros((0, len(extended)))
            yield b, log_probs, empty, empty, empty, extended, 0.0 if len(extended) == 1 else np.inf
            continue
        alpha, beta, y = _alphas_betas(log_probs, extended, skip)
        loss = -special.logsumexp(alpha[-1, -2:])  # ending on the last symbol or the blank
        yield b, log_probs, alpha, beta, y, extended, loss


def _ctc_loss(target, output, target_length, output_length, blank=0):
    losses = np.empty(len(output), np.float64)
    for b, *_, loss in _per_sample(target, output, target_length, output_length, blank):
        losses[b] = loss
    return losses.astype(np.promote_types(output.dtype, np.float32))  # Keras's result dtype


def _ctc_loss_vjp(g, ans, target, output, target_length, output_length, blank=0):
    """dloss_b/dlogits_t(k) = softmax(logits_t)(k) − γ_t(k), times g_b (module docstring)."""
    doutput = np.zeros(output.shape, np.float64)
    for b, log_probs, alpha, beta, y, extended, loss in _per_sample(
        target, output, target_length, output_length, blank
    ):
        occupancy = np.exp(alpha + beta - y + loss)  # (frames, 2L + 1): γ per symbol of l'
        gamma = np.zeros(log_probs.shape)
        np.add.at(gamma, (slice(None), extended), occupancy)  # the symbols of class k, summed
        doutput[b, : len(log_probs)] = g[b] * (np.exp(log_probs) - gamma)
    return None, doutput.astype(output.dtype), None, None


VJPS["ctc_loss"] = _ctc_loss_vjp


# ---------------------------------------------------------------- decoding
@symbolic_op
def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """(decoded (top_paths, batch, frames) int32, padded with −1; scores (batch, top_paths)).
    Greedy: the best class of each frame, repeats merged, blanks dropped; its score is
    −Σ_t max_k inputs_t(k), as TensorFlow's ctc_greedy_decoder. Beam search: the `top_paths`
    most probable labels (inputs taken as logits), each scored by its log-probability summed
    over its alignments (`_beam_search`)."""
    inputs = _float(inputs)
    x = np.asarray(unwrap(inputs))
    if x.dtype.itemsize < 4:
        x = x.astype(np.float32)  # Keras decodes in at least float32
    lengths = np.asarray(unwrap(sequence_lengths)).astype(np.int64).reshape(-1)
    if strategy == "greedy":
        return _greedy(x, lengths, merge_repeated, mask_index % x.shape[-1])
    if strategy == "beam_search":
        return _beam_search(x, lengths, beam_width, top_paths, mask_index % x.shape[-1])
    raise ValueError(
        f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'."
    )


def _greedy(x, lengths, merge_repeated, blank):
    batch, frames, _ = x.shape
    decoded = np.full((1, batch, frames), -1, np.int32)
    scores = np.zeros((batch, 1), x.dtype)
    for b in range(batch):
        best = np.argmax(x[b, : lengths[b]], axis=-1)
        scores[b, 0] = -np.sum(np.max(x[b, : lengths[b]], axis=-1))
        keep = best != blank
        if merge_repeated:
            keep[1:] &= best[1:] != best[:-1]  # a repeat of the previous frame's class
        symbols = best[keep]
        decoded[0, b, : len(symbols)] = symbols
    return decoded, scores


def _beam_search(x, lengths, beam_width, top_paths, blank):
    """Prefix beam search, frame by frame. Each beam is a label prefix with two
    log-probabilities: of the alignments so far that end in a blank (p_b) and that end in the
    prefix's last symbol (p_s). With y = log_softmax(inputs_t), at each frame:

        prefix      ← p_b' ⊕= y(blank) + (p_b ⊕ p_s)       a blank keeps the prefix
        prefix      ← p_s' ⊕= y(last) + p_s                a repeat of the last symbol, merged
        prefix + k  ← p_s' ⊕= y(k) + (p_b ⊕ p_s)           a new symbol (k = last: p_b only)

    (⊕ is log-add), then the `beam_width` most probable prefixes are kept. TensorFlow's
    ctc_beam_search_decoder does the same search."""
    batch, frames, _ = x.shape
    decoded = np.full((top_paths, batch, frames), -1, np.int32)
    scores = np.full((batch, top_paths), -np.inf, x.dtype)
    log_probs = x.astype(np.float64) - special.logsumexp(
        x.astype(np.float64), axis=-1, keepdims=True
    )
    for b in range(batch):
        beams = {(): (0.0, -np.inf)}  # prefix: (p_b, p_s)
        for y in log_probs[b, : lengths[b]]:
            beams = _prune(_extend(beams, y, blank), beam_width)
        best = sorted(beams.items(), key=lambda item: -np.logaddexp(*item[1]))[:top_paths]
        for path, (prefix, (p_b, p_s)) in enumerate(best):
            decoded[path, b, : len(prefix)] = prefix
            scores[b, path] = np.logaddexp(p_b, p_s)
    return decoded, scores


def _extend(beams, y, blank):
    """The next frame's beams from these (the recursion in `_beam_search`'s docstring)."""
    following = {}

    def add(prefix, p_b=-np.inf, p_s=-np.inf):
        old_b, old_s = following.get(prefix, (-np.inf, -np.inf))
        following[prefix] = (np.logaddexp(old_b, p_b), np.logaddexp(old_s, p_s))

    for prefix, (p_b, p_s) in beams.items():
        total = np.logaddexp(p_b, p_s)
        add(prefix, p_b=y[blank] + total)
        if prefix:
            add(prefix, p_s=y[prefix[-1]] + p_s)
        for k in range(len(y)):
            if k == blank:
                continue
            # a symbol equal to the last one starts a new one only after a blank
            start = p_b if prefix and k == prefix[-1] else total
            add(prefix + (k,), p_s=y[k] + start)
    return following


def _prune(beams, beam_width):
    """The `beam_width` most probable prefixes."""
    ranked = sorted(beams.items(), key=lambda item: -np.logaddexp(*item[1]))
    return dict(ranked[:beam_width])
