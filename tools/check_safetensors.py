"""Reads a safetensors file twice, with plain Python (struct + json) and with PyTorch
(torch.frombuffer), and prints each tensor's name, dtype, shape and element sum from both.
Exits 1 if the two readings disagree. Shows that PyTorch loads the files Tessera writes.

Run: /usr/bin/python3 tools/check_safetensors.py model.safetensors
"""
import json
import math
import struct
import sys

import torch

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
         "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
STRUCT_CODES = {"F64": "d", "F32": "f", "F16": "e", "I64": "q", "I32": "i", "I16": "h",
                "I8": "b", "U8": "B", "BOOL": "?"}
TORCH_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
                "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
                "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
                "F8_E4M3": getattr(torch, "float8_e4m3fn", None),
                "F8_E5M2": getattr(torch, "float8_e5m2", None)}


def fp8_value(code, exp_bits, man_bits, ieee):
    """Decodes one fp8 code from its sign, exponent and mantissa fields."""
    sign = -1.0 if code & 0x80 else 1.0
    exp, man = (code >> man_bits) & ((1 << exp_bits) - 1), code & ((1 << man_bits) - 1)
    bias, top = (1 << (exp_bits - 1)) - 1, (1 << exp_bits) - 1
    if exp == top and (ieee or man == (1 << man_bits) - 1):
        return sign * math.inf if ieee and man == 0 else math.nan
    if exp == 0:
        return sign * math.ldexp(man, 1 - bias - man_bits)
    return sign * math.ldexp((1 << man_bits) | man, exp - bias - man_bits)


def plain_values(dtype, data):
    count = len(data) // SIZES[dtype]
    if dtype in STRUCT_CODES:
        return struct.unpack(f"<{count}{STRUCT_CODES[dtype]}", data)
    if dtype == "BF16":
        halves = struct.unpack(f"<{count}H", data)
        return [struct.unpack("<f", struct.pack("<I", h << 16))[0] for h in halves]
    fields = (4, 3, False) if dtype == "F8_E4M3" else (5, 2, True)
    return [fp8_value(b, *fields) for b in data]


def same(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def main(path):
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    buffer = blob[8 + header_len:]
    print(f"{path}: metadata {header.pop('__metadata__', {})}")
    agree = True
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, end = entry["data_offsets"]
        dtype, shape, data = entry["dtype"], entry["shape"], buffer[begin:end]
        plain_sum = math.fsum(float(v) for v in plain_values(dtype, data))
        torch_dtype = TORCH_DTYPES[dtype]
        if torch_dtype is None:
            torch_text = "torch has no such dtype"
        else:
            t = torch.frombuffer(bytearray(data), dtype=torch_dtype) if data else \
                torch.empty(0, dtype=torch_dtype)
            t = t.reshape(shape)
            torch_sum = t.to(torch.float64).sum().item()
            torch_text = f"torch {tuple(t.shape)} sum {torch_sum:.9g}"
            if not same(plain_sum, torch_sum) or list(t.shape) != shape:
                agree = False
                torch_text += "  MISMATCH"
        print(f"{name}  {dtype}  {tuple(shape)}  sum {plain_sum:.9g}  |  {torch_text}")
    print("plain Python and PyTorch agree" if agree else "plain Python and PyTorch DISAGREE")
    return 0 if agree else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_safetensors.py FILE.safetensors")
    sys.exit(main(sys.argv[1]))
