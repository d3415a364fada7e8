"""The pack script's own safetensors writer: the public format, byte for byte."""

import json
import struct
import unittest

import torch

import bundlegate_pack


def parse(data):
    (n,) = struct.unpack("<Q", data[:8])
    return n, json.loads(data[8:8 + n]), data[8 + n:]


class SafetensorsWriterTest(unittest.TestCase):
    def test_layout_is_the_public_format(self):
        data = bundlegate_pack.safetensors_bytes(
            {"b": torch.tensor([1.0, 2.0]), "a": torch.tensor([7], dtype=torch.int64)}, {"k": "v"})
        n, header, body = parse(data)
        self.assertEqual(n % 8, 0)
        self.assertTrue(data[8:8 + n].rstrip(b" ").endswith(b"}"))
        self.assertEqual(header["__metadata__"], {"k": "v"})
        self.assertEqual(header["a"], {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]})
        self.assertEqual(header["b"], {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]})
        self.assertEqual(body, struct.pack("<q", 7) + struct.pack("<2f", 1.0, 2.0))

    def test_every_supported_dtype_round_trips(self):
        torch.manual_seed(0)
        tensors = {
            "f16": torch.randn(2, 3).half(), "bf16": torch.randn(2, 3).bfloat16(),
            "f32": torch.randn(4), "f64": torch.randn(1, 1, 2).double(),
            "i8": torch.tensor([-1, 2], dtype=torch.int8), "i16": torch.tensor([-300], dtype=torch.int16),
            "i32": torch.tensor([1 << 20], dtype=torch.int32), "i64": torch.tensor([1 << 40]),
            "u8": torch.tensor([255], dtype=torch.uint8), "bool": torch.tensor([True, False]),
            "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 5),
            "strided": torch.arange(12.0).reshape(3, 4).t(),
        }
        back = {}
        path = None
        import tempfile, os
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            bundlegate_pack.write_safetensors(path, tensors)
            back = bundlegate_pack.read_safetensors(path)
        self.assertEqual(set(back), set(tensors))
        for name, t in tensors.items():
            with self.subTest(name=name):
                self.assertEqual(back[name].dtype, t.dtype)
                self.assertEqual(back[name].shape, t.shape)
                self.assertTrue(torch.equal(back[name], t))

    def test_bool_bytes_are_zero_or_one(self):
        _, _, body = parse(bundlegate_pack.safetensors_bytes({"m": torch.tensor([True, False, True])}))
        self.assertEqual(body, b"\x01\x00\x01")

    def test_unsupported_dtypes_are_refused(self):
        with self.assertRaises(bundlegate_pack.PackError):
            bundlegate_pack.safetensors_bytes({"c": torch.zeros(2, dtype=torch.complex64)})


if __name__ == "__main__":
    unittest.main()
