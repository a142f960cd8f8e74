"""Round-trip and rejection tests for tools/safetensors_io.py.

Run: /usr/bin/python3 -m unittest discover -s tools/tests
"""
import json
import os
import struct
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import safetensors_io as st  # noqa: E402

torch.set_num_threads(1)


def write_raw(path, header, buffer):
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + buffer)


class SafetensorsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "t.safetensors")

    def tearDown(self):
        self.dir.cleanup()

    def test_round_trip_every_dtype(self):
        torch.manual_seed(0)
        tensors = {"f64": torch.randn(2, 3).double(), "f32": torch.randn(4, 5),
                   "f16": torch.randn(3).half(), "bf16": torch.randn(7).bfloat16(),
                   "i64": torch.arange(-3, 6), "i32": torch.arange(5, dtype=torch.int32),
                   "i16": torch.arange(3, dtype=torch.int16),
                   "i8": torch.arange(-2, 2).to(torch.int8),
                   "u8": torch.arange(250, 256).to(torch.uint8),
                   "bool": torch.tensor([True, False]),
                   "scalar": torch.tensor(1.5), "empty": torch.zeros(0, 4)}
        st.save(self.path, tensors, {"preset": "gpt-mini"})
        loaded, metadata = st.load(self.path)
        self.assertEqual(metadata, {"preset": "gpt-mini"})
        self.assertEqual(set(loaded), set(tensors))
        for name, t in tensors.items():
            self.assertEqual(loaded[name].dtype, t.dtype, name)
            self.assertTrue(torch.equal(loaded[name], t), name)

    def test_header_is_padded_and_buffer_contiguous(self):
        st.save(self.path, {"a": torch.ones(3, dtype=torch.uint8), "b": torch.ones(2)})
        with open(self.path, "rb") as f:
            blob = f.read()
        (n,) = struct.unpack("<Q", blob[:8])
        self.assertEqual(n % 8, 0)
        header = json.loads(blob[8:8 + n])
        self.assertEqual(header["b"]["data_offsets"], [0, 8])  # widest dtype first
        self.assertEqual(header["a"]["data_offsets"], [8, 11])
        self.assertEqual(len(blob), 8 + n + 11)
        self.assertEqual(blob[8 + n:8 + n + 4], struct.pack("<f", 1.0))

    def test_rejects_hole(self):
        write_raw(self.path, {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
                  bytes(8))
        with self.assertRaisesRegex(st.SafetensorsError, r"tensor 'a' at \[4, 8\] leaves a hole"):
            st.load(self.path)

    def test_rejects_overlap(self):
        write_raw(self.path, {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                              "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
                  bytes(8))
        with self.assertRaisesRegex(st.SafetensorsError, "overlaps the previous tensor"):
            st.load(self.path)

    def test_rejects_uncovered_tail(self):
        write_raw(self.path, {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
                  bytes(8))
        with self.assertRaisesRegex(st.SafetensorsError, "cover 4 bytes of a 8-byte buffer"):
            st.load(self.path)

    def test_rejects_size_mismatch(self):
        write_raw(self.path, {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
                  bytes(8))
        with self.assertRaisesRegex(st.SafetensorsError, r"shape \[3\] of F32 needs 12"):
            st.load(self.path)

    def test_rejects_unknown_dtype(self):
        write_raw(self.path, {"a": {"dtype": "F24", "shape": [1], "data_offsets": [0, 3]}},
                  bytes(3))
        with self.assertRaisesRegex(st.SafetensorsError, "unsupported dtype 'F24'"):
            st.load(self.path)

    def test_rejects_header_longer_than_file(self):
        with open(self.path, "wb") as f:
            f.write(struct.pack("<Q", 100) + b"{}")
        with self.assertRaisesRegex(st.SafetensorsError, "header length 100 exceeds file size 10"):
            st.load(self.path)


if __name__ == "__main__":
    unittest.main()
