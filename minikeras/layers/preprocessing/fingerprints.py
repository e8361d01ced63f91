"""The string hashes Keras's categorical layers use, in plain Python integers.

Keras hashes through TensorFlow: `tf.strings.to_hash_bucket_fast` is FarmHash's
`Fingerprint64` (the "na" variant of FarmHash's 64-bit hash) modulo the number of bins,
`tf.strings.to_hash_bucket_strong` is SipHash-2-4 keyed by the two integers of the `salt`,
and `tf.sparse.cross_hashed` (HashedCrossing) chains the fingerprints of each feature with
`FingerprintCat64`. The same arithmetic is written here on Python integers, every product and
sum reduced modulo 2⁶⁴ (the unsigned overflow of the C++ code); integers and floats are hashed
through their decimal text, as Keras converts them with `tf.strings.as_string`.

Each value is hashed once however often it occurs (`hash_buckets` hashes the unique values).
"""

import numpy as np

MASK = (1 << 64) - 1  # every uint64 result is reduced modulo 2⁶⁴

# FarmHash's constants (three odd 64-bit numbers)
K0 = 0xC3A5C85C97CB3127
K1 = 0xB492B66FBE98F273
K2 = 0x9AE16A3B2F90404F


def _fetch64(data, i):
    """The little-endian uint64 at byte i."""
    return int.from_bytes(data[i : i + 8], "little")


def _fetch32(data, i):
    return int.from_bytes(data[i : i + 4], "little")


def _rotate(value, shift):
    """Rotate right by `shift` bits (0 < shift < 64)."""
    return ((value >> shift) | (value << (64 - shift))) & MASK


def _shift_mix(value):
    return value ^ (value >> 47)


def _hash_len16(u, v, mul):
    """Mixes two words into one: a = (u⊕v)·mul, a ^= a≫47, b = (v⊕a)·mul, b ^= b≫47, b·mul."""
    a = ((u ^ v) * mul) & MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & MASK
    b ^= b >> 47
    return (b * mul) & MASK


def _hash_len_0_to_16(data):
    n = len(data)
    if n >= 8:
        mul = K2 + n * 2
        a = (_fetch64(data, 0) + K2) & MASK
        b = _fetch64(data, n - 8)
        c = (_rotate(b, 37) * mul + a) & MASK
        d = ((_rotate(a, 25) + b) * mul) & MASK
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = K2 + n * 2
        a = _fetch32(data, 0)
        return _hash_len16((n + (a << 3)) & MASK, _fetch32(data, n - 4), mul)
    if n > 0:
        # first, middle and last byte, in 32-bit arithmetic before the 64-bit mix
        y = (data[0] + (data[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (data[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * K2) ^ (z * K0)) & MASK) * K2) & MASK
    return K2


def _hash_len_17_to_32(data):
    n = len(data)
    mul = K2 + n * 2
    a = (_fetch64(data, 0) * K1) & MASK
    b = _fetch64(data, 8)
    c = (_fetch64(data, n - 8) * mul) & MASK
    d = (_fetch64(data, n - 16) * K2) & MASK
    return _hash_len16(
        (_rotate((a + b) & MASK, 43) + _rotate(c, 30) + d) & MASK,
        (a + _rotate((b + K2) & MASK, 18) + c) & MASK,
        mul,
    )


def _hash_len_33_to_64(data):
    n = len(data)
    mul = K2 + n * 2
    a = (_fetch64(data, 0) * K2) & MASK
    b = _fetch64(data, 8)
    c = (_fetch64(data, n - 8) * mul) & MASK
    d = (_fetch64(data, n - 16) * K2) & MASK
    y = (_rotate((a + b) & MASK, 43) + _rotate(c, 30) + d) & MASK
    z = _hash_len16(y, (a + _rotate((b + K2) & MASK, 18) + c) & MASK, mul)
    e = (_fetch64(data, 16) * mul) & MASK
    f = _fetch64(data, 24)
    g = ((y + _fetch64(data, n - 32)) * mul) & MASK
    h = ((z + _fetch64(data, n - 24)) * mul) & MASK
    return _hash_len16(
        (_rotate((e + f) & MASK, 43) + _rotate(g, 30) + h) & MASK,
        (e + _rotate((f + a) & MASK, 18) + g) & MASK,
        mul,
    )


def _weak_hash_len32_with_seeds(data, i, a, b):
    """Four words at byte i mixed into two, seeded by a and b."""
    w, x, y, z = (_fetch64(data, i + 8 * k) for k in range(4))
    a = (a + w) & MASK
    b = _rotate((b + a + z) & MASK, 21)
    c = a
    a = (a + x + y) & MASK
    b = (b + _rotate(a, 44)) & MASK
    return (a + z) & MASK, (b + c) & MASK


def fingerprint64(data: bytes) -> int:
    """FarmHash's Fingerprint64 of `data` (TensorFlow's `Fingerprint64`), an int in [0, 2⁶⁴).

    Up to 64 bytes: one of three short mixes by length. Longer: a state of seven words
    (x, y, z, v = (v₁, v₂), w = (w₁, w₂)) is stirred by each 64-byte block, then by the last
    64 bytes (which may overlap the block before), and folded into one word.
    """
    n = len(data)
    if n <= 16:
        return _hash_len_0_to_16(data)
    if n <= 32:
        return _hash_len_17_to_32(data)
    if n <= 64:
        return _hash_len_33_to_64(data)
    seed = 81
    x = seed
    y = (seed * K1 + 113) & MASK
    z = (_shift_mix((y * K2 + 113) & MASK) * K2) & MASK
    v1 = v2 = w1 = w2 = 0
    x = (x * K2 + _fetch64(data, 0)) & MASK
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    for s in range(0, end, 64):
        x = (_rotate((x + y + v1 + _fetch64(data, s + 8)) & MASK, 37) * K1) & MASK
        y = (_rotate((y + v2 + _fetch64(data, s + 48)) & MASK, 42) * K1) & MASK
        x ^= w2
        y = (y + v1 + _fetch64(data, s + 40)) & MASK
        z = (_rotate((z + w1) & MASK, 33) * K1) & MASK
        v1, v2 = _weak_hash_len32_with_seeds(data, s, (v2 * K1) & MASK, (x + w1) & MASK)
        w1, w2 = _weak_hash_len32_with_seeds(
            data, s + 32, (z + w2) & MASK, (y + _fetch64(data, s + 16)) & MASK
        )
        z, x = x, z
    mul = K1 + ((z & 0xFF) << 1)
    s = last64
    w1 = (w1 + ((n - 1) & 63)) & MASK
    v1 = (v1 + w1) & MASK
    w1 = (w1 + v1) & MASK
    x = (_rotate((x + y + v1 + _fetch64(data, s + 8)) & MASK, 37) * mul) & MASK
    y = (_rotate((y + v2 + _fetch64(data, s + 48)) & MASK, 42) * mul) & MASK
    x ^= (w2 * 9) & MASK
    y = (y + v1 * 9 + _fetch64(data, s + 40)) & MASK
    z = (_rotate((z + w1) & MASK, 33) * mul) & MASK
    v1, v2 = _weak_hash_len32_with_seeds(data, s, (v2 * mul) & MASK, (x + w1) & MASK)
    w1, w2 = _weak_hash_len32_with_seeds(
        data, s + 32, (z + w2) & MASK, (y + _fetch64(data, s + 16)) & MASK
    )
    z, x = x, z
    return _hash_len16(
        (_hash_len16(v1, w1, mul) + _shift_mix(y) * K0 + z) & MASK,
        (_hash_len16(v2, w2, mul) + x) & MASK,
        mul,
    )


def _rotl(value, shift):
    return ((value << shift) | (value >> (64 - shift))) & MASK


def siphash64(key, data: bytes) -> int:
    """SipHash-2-4 of `data` under the 128-bit key (k0, k1): TensorFlow's `StrongKeyedHash`.

    Four words start as the key xor'ed with "somepseudorandomlygeneratedbytes"; each 8-byte
    little-endian block m is mixed in by v3 ^= m, two SipRounds, v0 ^= m; the last block
    carries the length in its top byte; then v2 ^= 0xff, four rounds, v0⊕v1⊕v2⊕v3.
    """
    k0, k1 = (int(k) & MASK for k in key)
    v = [
        k0 ^ 0x736F6D6570736575,
        k1 ^ 0x646F72616E646F6D,
        k0 ^ 0x6C7967656E657261,
        k1 ^ 0x7465646279746573,
    ]

    def sip_round():
        v[0] = (v[0] + v[1]) & MASK
        v[1] = _rotl(v[1], 13) ^ v[0]
        v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & MASK
        v[3] = _rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & MASK
        v[3] = _rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & MASK
        v[1] = _rotl(v[1], 17) ^ v[2]
        v[2] = _rotl(v[2], 32)

    def absorb(m):
        v[3] ^= m
        sip_round()
        sip_round()
        v[0] ^= m

    n = len(data)
    full = n - n % 8
    for i in range(0, full, 8):
        absorb(_fetch64(data, i))
    absorb(int.from_bytes(data[full:], "little") | ((n & 0xFF) << 56))
    v[2] ^= 0xFF
    for _ in range(4):
        sip_round()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """Two fingerprints combined into one, order-dependent (TensorFlow's `FingerprintCat64`)."""
    mul = 0xC6A4A7935BD1E995
    result = fp1 ^ mul
    result ^= (_shift_mix((fp2 * mul) & MASK) * mul) & MASK
    result = (result * mul) & MASK
    result = (_shift_mix(result) * mul) & MASK
    return _shift_mix(result)


def as_hash_bytes(value) -> bytes:
    """The bytes TensorFlow hashes for one value: a string's UTF-8, an integer's decimal text
    (`tf.strings.as_string`; Keras truncates floats to int64 before)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (str, np.str_)):
        return value.encode("utf-8")
    return str(int(value)).encode("ascii")


def hash_buckets(values, num_buckets, salt=None):
    """Each value's bucket in [0, num_buckets): Fingerprint64 mod num_buckets, or with a `salt`
    (k0, k1) SipHash-2-4 mod num_buckets. Returns int64 of the shape of `values`."""
    values = np.asarray(values)
    if values.dtype.kind == "f":  # Keras casts floats to int64 before turning them into text
        values = values.astype(np.int64)
    uniques, positions = np.unique(values.reshape(-1), return_inverse=True)
    if salt is None:
        hashes = [fingerprint64(as_hash_bytes(u)) % num_buckets for u in uniques.tolist()]
    else:
        hashes = [siphash64(salt, as_hash_bytes(u)) % num_buckets for u in uniques.tolist()]
    return np.asarray(hashes, dtype=np.int64)[positions].reshape(values.shape)
