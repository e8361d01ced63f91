"""TensorBoard event files, written by hand: no TensorFlow, no protobuf library.

A file is a sequence of TFRecords, each one serialized `Event` message:

    record  = length (uint64, little-endian) · masked_crc32c(length) · data · masked_crc32c(data)
    masked  = ((crc >> 15) | (crc << 17)) + 0xa282ead8      (mod 2³²; crc32c is Castagnoli's)

The messages are protocol buffers (tensorflow/core/util/event.proto, summary.proto,
tensor.proto), of which a scalar needs only this much:

    Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
              Summary summary = 5; SourceMetadata source_metadata = 10 }
    Summary { repeated Value value = 1 }
    Value   { string tag = 1; TensorProto tensor = 8; SummaryMetadata metadata = 9 }
    TensorProto     { DataType dtype = 1; TensorShapeProto tensor_shape = 2;
                      bytes tensor_content = 4; bytes string_val = 8 }
    SummaryMetadata { PluginData plugin_data = 1 { string plugin_name = 1; bytes content = 2 } }

Each field is a key, `field_number << 3 | wire_type`, as a varint, then its value: a varint
(wire type 0), 8 bytes (1: a double), or a length and the bytes (2: strings and messages). A
scalar is written as Keras 3's `TensorBoard` callback writes it (through `tf.summary.scalar`):
a float32 tensor of shape () under the "scalars" plugin, not the older `simple_value`.
"""

import os
import socket
import struct
import time

import numpy as np


def _crc32c_table():
    """The byte table of CRC-32C (polynomial 0x1EDC6F41, bits reversed: 0x82F63B78)."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C of `data`, byte by byte through the table."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotated right by 15 bits, plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """One TFRecord: length, its CRC, the data, its CRC."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


# ---------------------------------------------------------------- protocol buffer fields
def varint(value: int) -> bytes:
    """An unsigned integer, 7 bits a byte, lowest first; the high bit says 'more follows'."""
    value &= (1 << 64) - 1  # a negative int64 is written as its two's complement
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def key(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def int_field(field: int, value: int) -> bytes:
    return key(field, 0) + varint(value)


def double_field(field: int, value: float) -> bytes:
    return key(field, 1) + struct.pack("<d", value)


def bytes_field(field: int, value) -> bytes:
    """A string, bytes or an embedded message (already serialized)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return key(field, 2) + varint(len(value)) + value


# ---------------------------------------------------------------- the messages
DT_FLOAT, DT_STRING = 1, 7  # tensorflow/core/framework/types.proto


def scalar_value(tag: str, value: float) -> bytes:
    """A Summary.Value holding `value` as a float32 tensor of shape (), plugin "scalars"."""
    tensor = (
        int_field(1, DT_FLOAT)
        + bytes_field(2, b"")  # TensorShapeProto with no dimension: a scalar
        + bytes_field(4, np.float32(value).tobytes())  # little-endian, as TensorFlow writes
    )
    return bytes_field(1, tag) + bytes_field(8, tensor) + bytes_field(9, _metadata("scalars"))


def text_value(tag: str, text: str, plugin_name: str, content: bytes = b"") -> bytes:
    """A Summary.Value holding a string tensor of shape () (a model's JSON, for instance)."""
    tensor = int_field(1, DT_STRING) + bytes_field(2, b"") + bytes_field(8, text)
    return (
        bytes_field(1, tag)
        + bytes_field(8, tensor)
        + bytes_field(9, _metadata(plugin_name, content))
    )


def _metadata(plugin_name: str, content: bytes = b"") -> bytes:
    plugin_data = bytes_field(1, plugin_name) + (bytes_field(2, content) if content else b"")
    return bytes_field(1, plugin_data)


def event(wall_time: float, step: int = 0, summary_values=(), file_version=None) -> bytes:
    """A serialized Event; a field at its default (step 0, nothing) is left out, as proto3 does."""
    data = double_field(1, wall_time)
    if step:
        data += int_field(2, int(step))
    if file_version is not None:
        data += bytes_field(3, file_version)
    if summary_values:
        data += bytes_field(5, b"".join(bytes_field(1, v) for v in summary_values))
    if file_version is not None:
        data += bytes_field(10, bytes_field(1, "minikeras.utils.event_file"))
    return data


class EventFileWriter:
    """Appends events to a new `events.out.tfevents.<time>.<host>.<pid>.<n>.v2` file in
    `log_dir` (created if needed), the name TensorFlow's writer gives its files, which
    TensorBoard looks for. The file starts with the version event TensorBoard expects."""

    _count = 0  # files opened by this process: part of the name, as TensorFlow's counter

    def __init__(self, log_dir):
        os.makedirs(log_dir, exist_ok=True)
        now = time.time()
        name = (
            f"events.out.tfevents.{int(now)}.{socket.gethostname()}.{os.getpid()}."
            f"{EventFileWriter._count}.v2"
        )
        EventFileWriter._count += 1
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "wb")
        self._write(event(float(int(now)), file_version="brain.Event:2"))
        self.flush()

    def _write(self, data):
        self._file.write(tfrecord(data))

    def scalar(self, tag, value, step):
        self._write(event(time.time(), step, [scalar_value(tag, value)]))

    def text(self, tag, text, step, plugin_name, content=b""):
        self._write(event(time.time(), step, [text_value(tag, text, plugin_name, content)]))

    def flush(self):
        self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()
