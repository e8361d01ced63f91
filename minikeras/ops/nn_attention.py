"""Scaled dot-product attention (Keras's `keras.ops.dot_product_attention`), with its
vector–Jacobian product written out: two products and a softmax, each undone by hand.

Shapes: query (B, T, N, H), key and value (B, S, K, H), K dividing N (grouped-query
attention: each key head serves N / K query heads). For each batch b and head n:

    logits = scale · Q·Kᵀ + bias            (T, H)·(H, S) → (T, S)
    logits = large negative where masked    (the mask, and j > i when is_causal)
    P = softmax(logits)                     along S
    out = P·V                               (T, S)·(S, H) → (T, H)

Backward, from g = dL/d(out) (B, T, N, H):

    dV = Pᵀ·g                               (S, T)·(T, H)
    dP = g·Vᵀ                               (T, H)·(H, S)
    dlogits = P ⊙ (dP − Σ_S dP ⊙ P)          the softmax's VJP, zero where masked
    dbias = dlogits                         (summed down to the bias's shape by the tape)
    dQ = scale · dlogits·K                  (T, S)·(S, H)
    dK = scale · dlogitsᵀ·Q                 (S, T)·(T, H), the query heads of a group summed

>>> import numpy as np
>>> from minikeras import ops
>>> q = k = v = np.ones((1, 2, 1, 4))
>>> ops.dot_product_attention(q, k, v).shape
(1, 2, 1, 4)
"""

import numpy as np

from minikeras.autodiff import VJPS, primitive, unwrap
from minikeras.ops import shapes
from minikeras.ops.core import convert_to_tensor
from minikeras.ops.numpy import _float, _promote
from minikeras.ops.symbolic import symbolic_op

# What masked logits become (Keras's TensorFlow backend: −0.7 × 3.38953e38, or −0.7 × 65500
# in float16): exp of it underflows to 0, and it stays finite when a bias is added
_LARGE_NEGATIVE = -0.7 * 3.38953e38
_LARGE_NEGATIVE_FLOAT16 = -0.7 * 65500.0


@symbolic_op(shape=shapes.like_first)
def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """softmax(scale·Q·Kᵀ + bias, masked)·V over (batch, steps, heads, head_dim) tensors.
    `scale` defaults to 1/√head_dim; `mask` (bool, broadcast to (B, N, T, S)) keeps the
    True positions; `is_causal` also hides the keys after each query."""
    if flash_attention:
        raise ValueError("Flash attention is not supported in numpy backend.")
    # (`attn_logits_soft_cap` is taken and not applied, as Keras's TensorFlow backend does)
    query, key, value = _promote(_float(query), _float(key), _float(value))
    q_shape, k_shape, v_shape = (np.shape(unwrap(t)) for t in (query, key, value))
    if len(q_shape) != 4:
        raise ValueError(
            "`dot_product_attention` only supports 4D inputs. "
            f"Received: query.shape={q_shape}, key.shape={k_shape}, value.shape={v_shape}."
        )
    if len(k_shape) != 4 or k_shape != v_shape or q_shape[2] % k_shape[2]:
        raise ValueError(
            "`key` and `value` must have the same shape (batch, steps, heads, head_dim), their "
            "heads dividing the query's. Received: "
            f"query.shape={q_shape}, key.shape={k_shape}, value.shape={v_shape}."
        )
    dtype = unwrap(query).dtype
    if bias is not None:
        bias = convert_to_tensor(bias, dtype=dtype.name)
    if mask is not None:
        mask = np.asarray(unwrap(mask)).astype(bool)
    if scale is None:
        scale = np.float32(1.0) / np.sqrt(np.float32(k_shape[-1]))
    # Keras's TensorFlow backend rounds the scale to float32 whatever the inputs' dtype (1/√H is
    # computed in float32; a Python float given goes through a float32 tensor in `tf.cast`)
    scale = float(np.float32(scale))
    return primitive(
        "dot_product_attention", _attention, query, key, value, bias, mask,
        scale=scale, is_causal=bool(is_causal),
    )  # fmt: skip


def _heads(key, num_query_heads):
    """key or value (B, S, K, H) with each of its K heads repeated for the N / K query heads
    of its group: (B, S, N, H), head k·(N / K) + j = key head k."""
    return np.repeat(key, num_query_heads // key.shape[2], axis=2)


def _probabilities(query, key, bias, mask, scale, is_causal):
    """(P (B, N, T, S), the mask of kept positions or None), in a dtype of at least float32."""
    logits_dtype = np.promote_types(query.dtype, np.float32)
    logits = np.einsum("btnh,bsnh->bnts", query.astype(logits_dtype), key.astype(logits_dtype))
    logits = logits * logits_dtype.type(scale)
    if bias is not None:
        logits = logits + bias.astype(logits_dtype)
    keep = None
    if mask is not None or is_causal:
        keep = np.ones(logits.shape, bool)
        if mask is not None:
            keep = keep & mask
        if is_causal:
            t, s = logits.shape[-2:]
            keep = keep & np.tril(np.ones((t, s), bool))
        negative = _LARGE_NEGATIVE_FLOAT16 if query.dtype == np.float16 else _LARGE_NEGATIVE
        logits = np.where(keep, logits, logits_dtype.type(negative))
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True), keep


def _attention(query, key, value, bias, mask, scale, is_causal):
    """out = softmax(scale·Q·Kᵀ + bias, masked)·V      (B, T, N, H)"""
    key, value = _heads(key, query.shape[2]), _heads(value, query.shape[2])
    p, _ = _probabilities(query, key, bias, mask, scale, is_causal)
    p = p.astype(key.dtype)  # back to the inputs' dtype before the second product, as Keras
    if value.dtype.kind != "f":  # bfloat16: NumPy's einsum has no loop for it
        return np.einsum("bnts,bsnh->btnh", p.astype("float32"), value.astype("float32")).astype(
            value.dtype
        )
    return np.einsum("bnts,bsnh->btnh", p, value)


def _attention_vjp(g, ans, query, key, value, bias, mask, scale, is_causal):
    """The module docstring's backward, from g (B, T, N, H)."""
    n, k_heads = query.shape[2], key.shape[2]
    keys, values = _heads(key, n), _heads(value, n)
    p, keep = _probabilities(query, keys, bias, mask, scale, is_causal)
    p = p.astype(query.dtype)
    dvalues = np.einsum("bnts,btnh->bsnh", p, g)  # Pᵀ·g
    dp = np.einsum("btnh,bsnh->bnts", g, values)  # g·Vᵀ
    dlogits = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
    if keep is not None:
        dlogits = np.where(keep, dlogits, 0)  # a masked logit was replaced: no gradient
    dquery = scale * np.einsum("bnts,bsnh->btnh", dlogits, keys)
    dkeys = scale * np.einsum("bnts,btnh->bsnh", dlogits, query)

    def grouped(d):  # the N / K query heads that read one key head add up
        return d.reshape(*d.shape[:2], k_heads, n // k_heads, d.shape[-1]).sum(axis=3)

    dbias = None if bias is None else dlogits
    return dquery, grouped(dkeys), grouped(dvalues), dbias, None


VJPS["dot_product_attention"] = _attention_vjp
