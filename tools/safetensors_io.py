"""Reads and writes safetensors files (format in shared/reference/formats.md) with torch tensors.

The writer pads the JSON header with spaces to a multiple of 8 bytes and lays tensors out
contiguously, widest dtype first so every tensor starts aligned to its element size. The reader
checks the header length, every entry's dtype, shape and size, and that the data ranges cover
the buffer exactly with no overlap and no hole.
"""
import json
import struct

import numpy
import torch

# safetensors dtype name -> (torch dtype, element size in bytes)
DTYPES = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
    "I16": (torch.int16, 2),
    "I8": (torch.int8, 1),
    "U8": (torch.uint8, 1),
    "BOOL": (torch.bool, 1),
}
_NAME_OF = {torch_dtype: name for name, (torch_dtype, _) in DTYPES.items()}
# Bytes travel as little-endian integers of the element size (bf16 has no numpy type).
_BITS_VIEW = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
_LE_BITS = {1: "u1", 2: "<i2", 4: "<i4", 8: "<i8"}


class SafetensorsError(ValueError):
    pass


def _tensor_bytes(t):
    size = DTYPES[_NAME_OF[t.dtype]][1]
    bits = t.detach().contiguous().cpu().view(_BITS_VIEW[size]).reshape(-1)
    return bits.numpy().astype(_LE_BITS[size], copy=False).tobytes()


def save(path, tensors, metadata=None):
    """Writes tensors (dict name -> torch.Tensor) and optional metadata (dict str -> str)."""
    for name, t in tensors.items():
        if t.dtype not in _NAME_OF:
            raise SafetensorsError(f"safetensors save {path}: tensor '{name}' has unsupported "
                                   f"dtype {t.dtype}")
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str)
                                        for k, v in metadata.items()):
        raise SafetensorsError(f"safetensors save {path}: __metadata__ must map str to str")
    order = sorted(tensors, key=lambda n: (-tensors[n].element_size(), n))
    header, chunks, offset = {}, [], 0
    for name in order:
        data = _tensor_bytes(tensors[name])
        header[name] = {"dtype": _NAME_OF[tensors[name].dtype],
                        "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def _parse_entry(path, name, entry, buffer_len):
    where = f"safetensors {path}: tensor '{name}'"
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(f"{where}: entry must have exactly dtype, shape, data_offsets")
    if entry["dtype"] not in DTYPES:
        raise SafetensorsError(f"{where}: unsupported dtype '{entry['dtype']}', valid: "
                               f"{', '.join(DTYPES)}")
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise SafetensorsError(f"{where}: shape {shape} must be a list of non-negative ints")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= buffer_len):
        raise SafetensorsError(f"{where}: data_offsets {offsets} outside buffer of "
                               f"{buffer_len} bytes")
    count = 1
    for d in shape:
        count *= d
    expected = count * DTYPES[entry["dtype"]][1]
    if offsets[1] - offsets[0] != expected:
        raise SafetensorsError(f"{where}: data_offsets {offsets} hold {offsets[1] - offsets[0]}"
                               f" bytes, shape {shape} of {entry['dtype']} needs {expected}")
    return entry["dtype"], shape, offsets


def load(path):
    """Returns (dict name -> torch.Tensor, metadata dict) after checking the whole layout."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise SafetensorsError(f"safetensors {path}: file of {len(blob)} bytes has no header "
                               f"length")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if 8 + header_len > len(blob):
        raise SafetensorsError(f"safetensors {path}: header length {header_len} exceeds file "
                               f"size {len(blob)}")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"safetensors {path}: header is not UTF-8 JSON ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"safetensors {path}: header must be a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError(f"safetensors {path}: __metadata__ must map str to str")
    buffer = memoryview(blob)[8 + header_len:]
    entries = {name: _parse_entry(path, name, e, len(buffer)) for name, e in header.items()}
    end = 0
    for name, (_, _, offsets) in sorted(entries.items(), key=lambda kv: kv[1][2]):
        if offsets[0] != end:
            kind = "overlaps the previous tensor" if offsets[0] < end else "leaves a hole"
            raise SafetensorsError(f"safetensors {path}: tensor '{name}' at {offsets} {kind} "
                                   f"(previous data ends at {end})")
        end = offsets[1]
    if end != len(buffer):
        raise SafetensorsError(f"safetensors {path}: tensors cover {end} bytes of a "
                               f"{len(buffer)}-byte buffer")
    tensors = {}
    for name, (dtype, shape, (begin, stop)) in entries.items():
        torch_dtype, size = DTYPES[dtype]
        bits = numpy.frombuffer(buffer[begin:stop], dtype=_LE_BITS[size])
        native = torch.from_numpy(bits.astype(bits.dtype.newbyteorder("="), copy=True))
        tensors[name] = native.view(torch_dtype).reshape(shape)
    return tensors, metadata
